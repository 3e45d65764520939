package crash

import (
	"context"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/canary"
)

// The KEDA scenarios release a target scaled by a KEDA ScaledObject, on
// KEDA's own CRD (hack/testbin.sh keda-crd). KEDA itself does not run: its
// part is to scale, which is not what the harness checks; the operator's
// writes to ScaledObjects (the primary's copy created and updated, the
// target's paused and resumed, the owners rewritten) are counted and
// interrupted like every other write, and each run ends with the
// ScaledObjects checked (verifyScaledObjects).
const (
	scaledObjectName = "podinfo-so"
	// primaryQuery is autoscalerRef.primaryScalerQueries' query of the
	// trigger named "requests".
	primaryQuery = `sum(rate(requests_total{workload="podinfo-primary"}[1m]))`
	targetQuery  = `sum(rate(requests_total{workload="podinfo"}[1m]))`
)

// kedaScenarios are the releases of a canary with a ScaledObject: its
// initialisation (the primary's copy created, the target paused), a
// promotion that also raises the target's maxReplicaCount (resumed for the
// run, the copy updated while Promoting, paused again), a rollback,
// revertOnDeletion (resumed and handed back to the target), and the
// primary's copy deleted while the canary is idle (made again).
var kedaScenarios = []*scenario{
	{
		name: "keda-initialization", canary: withScaledObject, scaledObject: true,
		bootstrap: true,
		want:      initialized, wantPrimary: imageV0,
		shortRun: isScaledObjectWrite,
		verify:   verifyScaledObjects(10),
	},
	{
		name: "keda-promotion", canary: withScaledObject, scaledObject: true,
		release: func(ctx context.Context, r *run) error {
			if err := setMaxReplicaCount(ctx, r, 20); err != nil {
				return err
			}
			return setImage(ctx, r, imageV1)
		},
		want: succeeded, wantPrimary: imageV1,
		shortRun: isScaledObjectWrite,
		verify:   verifyScaledObjects(20),
	},
	{
		name: "keda-rollback", canary: withScaledObject, scaledObject: true,
		errorRate: errorsOf,
		release:   push(imageErrors),
		want:      failed, wantPrimary: imageV0,
		shortRun: isScaledObjectWrite,
		verify:   verifyScaledObjects(10),
	},
	{
		name: "keda-revert-deletion", scaledObject: true,
		canary: func(cd *flaggerv1.Canary) {
			withScaledObject(cd)
			cd.Spec.RevertOnDeletion = true
		},
		release: func(ctx context.Context, r *run) error {
			return r.env.flagger.FlaggerV1beta1().Canaries(r.ns).Delete(ctx, canaryName, metav1.DeleteOptions{})
		},
		want:     deleted,
		shortRun: isScaledObjectWrite,
		verify:   verifyScaledObjects(10),
	},
	{
		// Drift: someone deletes the primary's ScaledObject while the
		// canary is idle; its deletion wakes the canary, which makes it
		// again (pkg/controller/owned.go).
		name: "keda-drift", canary: withScaledObject, scaledObject: true,
		release: func(ctx context.Context, r *run) error {
			return r.env.dynamic.Resource(canary.ScaledObjectResource).Namespace(r.ns).Delete(ctx,
				scaledObjectName+"-primary", metav1.DeleteOptions{})
		},
		want: initialized, wantPrimary: imageV0,
		shortRun: isScaledObjectWrite,
		verify:   verifyScaledObjects(10),
	},
}

// withScaledObject points the canary at the run's ScaledObject, with a
// query of its own for the primary.
func withScaledObject(cd *flaggerv1.Canary) {
	cd.Spec.AutoscalerRef = &flaggerv1.AutoscalerReference{
		APIVersion: "keda.sh/v1alpha1", Kind: "ScaledObject", Name: scaledObjectName,
		PrimaryScalerQueries: map[string]string{"requests": primaryQuery},
	}
}

// isScaledObjectWrite picks the KEDA scenarios' writes that the short run
// interrupts: those to ScaledObjects, the writes these scenarios add (the
// others are the other scenarios' business).
func isScaledObjectWrite(write string) bool {
	return strings.Contains(write, " scaledobjects/") || strings.HasSuffix(write, " scaledobjects")
}

// newScaledObject is the target's ScaledObject, as KEDA's docs write one:
// a Prometheus trigger named "requests", 1 to 10 replicas.
func newScaledObject(ns string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "keda.sh/v1alpha1",
		"kind":       "ScaledObject",
		"metadata":   map[string]any{"name": scaledObjectName, "namespace": ns},
		"spec": map[string]any{
			"scaleTargetRef":  map[string]any{"name": targetName},
			"minReplicaCount": int64(1),
			"maxReplicaCount": int64(10),
			"triggers": []any{map[string]any{
				"type": "prometheus", "name": "requests",
				"metadata": map[string]any{"serverAddress": "http://prometheus:9090", "query": targetQuery, "threshold": "100"},
			}},
		},
	}}
}

// createScaledObject creates the target's ScaledObject (the harness'
// write, not counted).
func createScaledObject(ctx context.Context, r *run) error {
	_, err := r.env.dynamic.Resource(canary.ScaledObjectResource).Namespace(r.ns).Create(ctx, newScaledObject(r.ns), metav1.CreateOptions{})
	return err
}

// setMaxReplicaCount changes the target's ScaledObject as a user would.
func setMaxReplicaCount(ctx context.Context, r *run, n int) error {
	patch := fmt.Appendf(nil, `{"spec":{"maxReplicaCount":%d}}`, n)
	_, err := r.env.dynamic.Resource(canary.ScaledObjectResource).Namespace(r.ns).Patch(ctx, scaledObjectName,
		types.MergePatchType, patch, metav1.PatchOptions{})
	return err
}

// verifyScaledObjects checks the ScaledObjects at the end of a run: the
// target's paused at zero while the canary is idle, not paused once the
// canary is deleted; the primary's scaling the primary with its own
// query and the target's maxReplicaCount, max.
func verifyScaledObjects(max int64) func(ctx context.Context, r *run) []string {
	return func(ctx context.Context, r *run) []string {
		client := r.env.dynamic.Resource(canary.ScaledObjectResource).Namespace(r.ns)
		var v []string
		target, err := client.Get(ctx, scaledObjectName, metav1.GetOptions{})
		if err != nil {
			return []string{"the target's ScaledObject: " + err.Error()}
		}
		paused, isPaused := target.GetAnnotations()[canary.PausedReplicasAnnotation]
		switch {
		case r.scn.want == deleted && isPaused:
			v = append(v, fmt.Sprintf("the target's ScaledObject is still paused at %q after the canary's deletion", paused))
		case r.scn.want != deleted && paused != "0":
			v = append(v, fmt.Sprintf("the target's ScaledObject is not paused at zero while the canary is idle (%q)", paused))
		}
		primary, err := client.Get(ctx, scaledObjectName+"-primary", metav1.GetOptions{})
		if err != nil {
			return append(v, "the primary's ScaledObject: "+err.Error())
		}
		ref, _, _ := unstructured.NestedString(primary.Object, "spec", "scaleTargetRef", "name")
		hi, _, _ := unstructured.NestedInt64(primary.Object, "spec", "maxReplicaCount")
		triggers, _, _ := unstructured.NestedSlice(primary.Object, "spec", "triggers")
		var query string
		if len(triggers) == 1 {
			query, _, _ = unstructured.NestedString(triggers[0].(map[string]any), "metadata", "query")
		}
		if ref != targetName+"-primary" || hi != max || query != primaryQuery {
			v = append(v, fmt.Sprintf("the primary's ScaledObject scales %q up to %d with %q, want %s-primary, %d, %q",
				ref, hi, query, targetName, max, primaryQuery))
		}
		if _, ok := primary.GetAnnotations()[canary.PausedReplicasAnnotation]; ok {
			v = append(v, "the primary's ScaledObject is paused")
		}
		return v
	}
}
