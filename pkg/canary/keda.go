package canary

import (
	"errors"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/owners"
	"github.com/serin-dev/serin/pkg/syncerr"
)

// KEDA ScaledObjects as autoscalerRef. KEDA is optional: Serin reads and
// writes its ScaledObjects as unstructured objects through a dynamic
// client, so that it neither imports KEDA's Go module (and its large
// dependency tree) nor fails to start on a cluster without KEDA. Unlike
// Flagger, which copies field by field through its own copy of KEDA's
// types, the target's spec is copied as a whole, so the fields that KEDA
// adds in later versions (initialCooldownPeriod, for one) reach the
// primary too.

// scaledObjectKind is the autoscalerRef kind of a KEDA ScaledObject.
const scaledObjectKind = "ScaledObject"

// PausedReplicasAnnotation pauses a ScaledObject at the given replicas: KEDA
// scales its target to that many and stops autoscaling it. Serin sets it to
// "0" on the target's ScaledObject while the canary is idle, as Flagger does,
// so that KEDA does not scale the target back up from zero.
const PausedReplicasAnnotation = "autoscaling.keda.sh/paused-replicas"

// pausedAnnotation is KEDA's other pause switch ("true" pauses at the
// current replicas). Neither is copied to the primary: a primary
// ScaledObject copied from a paused target would pin the primary at zero.
const pausedAnnotation = "autoscaling.keda.sh/paused"

// ScaledObjectResource is KEDA's ScaledObject resource, the only version
// KEDA v2 serves.
var ScaledObjectResource = schema.GroupVersionResource{Group: "keda.sh", Version: "v1alpha1", Resource: "scaledobjects"}

// ErrKEDANotInstalled is returned for a ScaledObject autoscalerRef when the
// cluster did not serve KEDA's ScaledObjects when the operator started.
// Unlike Flagger, which fails every tick on it, it is a permanent error: a
// condition and one event.
var ErrKEDANotInstalled = errors.New("KEDA's ScaledObject CRD (scaledobjects.keda.sh/v1alpha1) is not installed")

// ScaledObjectStore reads KEDA ScaledObjects from an informer's cache and
// writes them through a dynamic client. Config.ScaledObjects is nil when
// the cluster does not serve them.
type ScaledObjectStore struct {
	// Client writes ScaledObjects (ScaledObjectResource).
	Client dynamic.NamespaceableResourceInterface
	// Lister reads them; its objects are *unstructured.Unstructured.
	Lister cache.GenericLister
}

// NewPrimaryScaledObject returns the primary's copy of the target's
// ScaledObject: <so>-primary, scaling <target>-primary, with the target's
// spec in which
//   - each trigger named in autoscalerRef.primaryScalerQueries gets that
//     query; without primaryScalerQueries, every trigger's query has the
//     target's name and <target>-canary replaced by <target>-primary, as
//     in Flagger (best effort: check the query, or name it);
//   - minReplicaCount and maxReplicaCount are overridden by
//     autoscalerRef.primaryScalerReplicas;
//   - advanced.horizontalPodAutoscalerConfig.name, when set, gets -primary,
//     so that KEDA makes the two HPAs under two names.
//
// Labels and annotations are the target's without Flux keys and, unlike
// Flagger, without KEDA's pause annotations. It is controlled by the canary
// and owned by target, the target's owner reference. A spec that is not an
// object, or triggers that are not a list of objects, is an error naming the
// field.
func NewPrimaryScaledObject(cd *flaggerv1.Canary, so *unstructured.Unstructured, target metav1.OwnerReference) (
	*unstructured.Unstructured, error) {
	spec, ok := so.Object["spec"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("ScaledObject %s.%s: spec is not an object", so.GetName(), so.GetNamespace())
	}
	spec = runtime.DeepCopyJSON(spec)
	ref, _ := spec["scaleTargetRef"].(map[string]any)
	if ref == nil {
		ref = map[string]any{}
	}
	ref["name"] = PrimaryName(cd)
	spec["scaleTargetRef"] = ref
	if err := setPrimaryQueries(cd, spec); err != nil {
		return nil, fmt.Errorf("ScaledObject %s.%s: %w", so.GetName(), so.GetNamespace(), err)
	}
	if r := cd.Spec.AutoscalerRef.PrimaryScalerReplicas; r != nil {
		if r.MinReplicas != nil {
			spec["minReplicaCount"] = int64(*r.MinReplicas)
		}
		if r.MaxReplicas != nil {
			spec["maxReplicaCount"] = int64(*r.MaxReplicas)
		}
	}
	if name, _, _ := unstructured.NestedString(spec, "advanced", "horizontalPodAutoscalerConfig", "name"); name != "" {
		if err := unstructured.SetNestedField(spec, name+PrimarySuffix, "advanced", "horizontalPodAutoscalerConfig", "name"); err != nil {
			return nil, err
		}
	}
	out := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	out.SetAPIVersion(so.GetAPIVersion())
	out.SetKind(scaledObjectKind)
	out.SetName(so.GetName() + PrimarySuffix)
	out.SetNamespace(cd.Namespace)
	out.SetLabels(withoutToolkitKeys(so.GetLabels()))
	out.SetAnnotations(primaryScaledObjectAnnotations(so.GetAnnotations()))
	out.SetOwnerReferences(owners.Of(cd, target))
	return out, nil
}

// setPrimaryQueries rewrites the queries of spec.triggers for the primary.
func setPrimaryQueries(cd *flaggerv1.Canary, spec map[string]any) error {
	raw, found := spec["triggers"]
	if !found {
		return nil
	}
	triggers, ok := raw.([]any)
	if !ok {
		return errors.New("spec.triggers is not a list")
	}
	queries := cd.Spec.AutoscalerRef.PrimaryScalerQueries
	target := cd.Spec.TargetRef.Name
	// The replacer tries its pairs in order at each position, so
	// <target>-canary and <target>-primary are matched before <target>.
	// Unlike Flagger, a query that already names <target>-primary keeps
	// it instead of getting <target>-primary-primary.
	toPrimary := strings.NewReplacer(target+"-canary", target+PrimarySuffix, target+PrimarySuffix, target+PrimarySuffix,
		target, target+PrimarySuffix)
	for i, raw := range triggers {
		trigger, ok := raw.(map[string]any)
		if !ok {
			return fmt.Errorf("spec.triggers[%d] is not an object", i)
		}
		meta, _ := trigger["metadata"].(map[string]any)
		query, hasQuery := meta["query"].(string)
		switch {
		case queries != nil:
			// Flagger's rule: with primaryScalerQueries, only the named
			// triggers change, and the others keep their query as it is.
			name, _ := trigger["name"].(string)
			q, named := queries[name]
			if name == "" || !named {
				continue
			}
			if meta == nil {
				meta = map[string]any{}
				trigger["metadata"] = meta
			}
			meta["query"] = q
		case hasQuery:
			meta["query"] = toPrimary.Replace(query)
		}
	}
	return nil
}

// primaryScaledObjectAnnotations are the target's annotations without Flux
// keys and KEDA's pause switches; nil when nothing is left.
func primaryScaledObjectAnnotations(in map[string]string) map[string]string {
	out := withoutToolkitKeys(in)
	delete(out, PausedReplicasAnnotation)
	delete(out, pausedAnnotation)
	if len(out) == 0 {
		return nil
	}
	return out
}

// scaledObjects returns the store, or a permanent error naming
// spec.autoscalerRef when KEDA was not installed.
func (c *Deployments) scaledObjects() (*ScaledObjectStore, error) {
	if c.keda == nil {
		return nil, syncerr.Permanent(fmt.Errorf("spec.autoscalerRef.kind: %w: install KEDA, then restart Serin, or use a HorizontalPodAutoscaler",
			ErrKEDANotInstalled))
	}
	return c.keda, nil
}

// supportedAutoscaler refuses a ScaledObject autoscalerRef on a cluster
// without KEDA when the canary is first observed, before anything is
// written for it (Revision), rather than halfway through its
// initialisation.
func (c *Deployments) supportedAutoscaler(cd *flaggerv1.Canary) error {
	if ref := cd.Spec.AutoscalerRef; ref != nil && ref.Kind == scaledObjectKind {
		_, err := c.scaledObjects()
		return err
	}
	return nil
}

// getScaledObject reads a ScaledObject from the lister. The returned object
// belongs to the cache: callers deep-copy before changing it.
func (c *Deployments) getScaledObject(namespace, name string) (*unstructured.Unstructured, error) {
	store, err := c.scaledObjects()
	if err != nil {
		return nil, err
	}
	obj, err := store.Lister.ByNamespace(namespace).Get(name)
	if err != nil {
		return nil, fmt.Errorf("ScaledObject %s.%s get query error: %w", name, namespace, err)
	}
	so, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return nil, fmt.Errorf("ScaledObject %s.%s: unexpected %T in the cache", name, namespace, obj)
	}
	return so, nil
}

// minReplicaCount returns spec.minReplicaCount of a ScaledObject, 0 when
// unset (KEDA's default).
func minReplicaCount(so *unstructured.Unstructured) int32 {
	n, _, _ := unstructured.NestedInt64(so.Object, "spec", "minReplicaCount")
	return int32(n)
}
