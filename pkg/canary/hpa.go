package canary

import (
	"context"
	"errors"
	"fmt"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/owners"
)

// hpaKind is the autoscalerRef kind of a HorizontalPodAutoscaler.
const hpaKind = "HorizontalPodAutoscaler"

// ErrUnsupportedAutoscaler is returned for an autoscalerRef kind other than
// HorizontalPodAutoscaler and ScaledObject (which the CRD does not admit).
var ErrUnsupportedAutoscaler = errors.New("unsupported autoscalerRef kind")

// NewPrimaryHPA returns the primary's copy of the target's HPA:
// <hpa>-primary, scaling <target>-primary with the same bounds, metrics and
// behavior, the bounds overridden by autoscalerRef.primaryScalerReplicas;
// labels without Flux keys, annotations filtered by includePrefix;
// controlled by the canary and owned by target, the target's owner
// reference.
func NewPrimaryHPA(cd *flaggerv1.Canary, hpa *autoscalingv2.HorizontalPodAutoscaler, target metav1.OwnerReference,
	includePrefix []string) *autoscalingv2.HorizontalPodAutoscaler {
	src := hpa.DeepCopy()
	spec := autoscalingv2.HorizontalPodAutoscalerSpec{
		ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{
			APIVersion: src.Spec.ScaleTargetRef.APIVersion,
			Kind:       src.Spec.ScaleTargetRef.Kind,
			Name:       PrimaryName(cd),
		},
		MinReplicas: src.Spec.MinReplicas,
		MaxReplicas: src.Spec.MaxReplicas,
		Metrics:     src.Spec.Metrics,
		Behavior:    src.Spec.Behavior,
	}
	if ref := cd.Spec.AutoscalerRef; ref != nil && ref.PrimaryScalerReplicas != nil {
		if lo := ref.PrimaryScalerReplicas.MinReplicas; lo != nil {
			spec.MinReplicas = ptr.To(*lo)
		}
		if hi := ref.PrimaryScalerReplicas.MaxReplicas; hi != nil {
			spec.MaxReplicas = *hi
		}
	}
	return &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{
			Name:            src.Name + PrimarySuffix,
			Namespace:       cd.Namespace,
			Labels:          withoutToolkitKeys(src.Labels),
			Annotations:     includeByPrefix(src.Annotations, includePrefix),
			OwnerReferences: owners.Of(cd, target),
		},
		Spec: spec,
	}
}

// ReconcilePrimaryHPA creates <hpa>-primary when the canary has an
// autoscalerRef and the copy is missing. With update, it also brings an
// existing copy in line with the target's HPA, writing only if it differs;
// the controller asks for that during Promoting only, so that autoscaling
// changes ship with a release. Either way a copy the canary controls gets
// the target's owner reference when it lacks it (made by an older Serin, or
// by Flagger). A nil autoscalerRef is a no-op; a KEDA ScaledObject gets the
// same treatment (keda_sync.go).
func (c *Deployments) ReconcilePrimaryHPA(ctx context.Context, cd *flaggerv1.Canary, update bool) error {
	ref := cd.Spec.AutoscalerRef
	if ref == nil {
		return nil
	}
	if ref.Kind == scaledObjectKind {
		return c.reconcilePrimaryScaledObject(ctx, cd, update)
	}
	if ref.Kind != hpaKind {
		return fmt.Errorf("%w: %s", ErrUnsupportedAutoscaler, ref.Kind)
	}
	hpa, err := c.hpas.HorizontalPodAutoscalers(cd.Namespace).Get(ref.Name)
	if err != nil {
		return fmt.Errorf("HorizontalPodAutoscaler %s.%s get query error: %w", ref.Name, cd.Namespace, err)
	}
	target, err := c.getDeployment(cd.Namespace, cd.Spec.TargetRef.Name)
	if err != nil {
		return err
	}
	want := NewPrimaryHPA(cd, hpa, targetOwner(target), c.includePrefix)
	client := c.kube.AutoscalingV2().HorizontalPodAutoscalers(cd.Namespace)
	have, err := c.hpas.HorizontalPodAutoscalers(cd.Namespace).Get(want.Name)
	if apierrors.IsNotFound(err) {
		if _, err := client.Create(ctx, want, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating HorizontalPodAutoscaler %s.%s failed: %w", want.Name, want.Namespace, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("HorizontalPodAutoscaler %s.%s get query error: %w", want.Name, want.Namespace, err)
	}
	refs, reowned := have.OwnerReferences, false
	if metav1.IsControlledBy(have, cd) {
		refs, reowned = owners.AddTarget(targetOwner(target)).Changes(have.OwnerReferences)
	}
	stale := update && !primaryHPAUpToDate(have, want)
	if !stale && !reowned {
		return nil
	}
	upd := have.DeepCopy()
	upd.OwnerReferences = refs
	if stale {
		upd.Spec, upd.Labels, upd.Annotations = want.Spec, want.Labels, want.Annotations
	}
	if _, err := client.Update(ctx, upd, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("updating HorizontalPodAutoscaler %s.%s failed: %w", want.Name, want.Namespace, err)
	}
	return nil
}

// primaryHPAUpToDate compares what NewPrimaryHPA sets, with minReplicas
// defaulted to one as the API server does.
//
// Unlike Flagger, labels and annotations are compared with the filtered
// values that are written, so an unfiltered target label does not cause a
// write on every Promoting tick, and the update really changes them.
func primaryHPAUpToDate(have, want *autoscalingv2.HorizontalPodAutoscaler) bool {
	a, b := have.Spec.DeepCopy(), want.Spec.DeepCopy()
	a.MinReplicas, b.MinReplicas = ptr.To(ptr.Deref(a.MinReplicas, 1)), ptr.To(ptr.Deref(b.MinReplicas, 1))
	return equality.Semantic.DeepEqual(a, b) &&
		equality.Semantic.DeepEqual(have.Labels, want.Labels) &&
		equality.Semantic.DeepEqual(have.Annotations, want.Annotations)
}
