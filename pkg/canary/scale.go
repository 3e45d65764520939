package canary

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// ScaleToZero takes the target's pods away, once the primary serves: a
// Deployment gets zero replicas, a DaemonSet the scale-to-zero node
// selector.
func (c *Deployments) ScaleToZero(ctx context.Context, cd *flaggerv1.Canary) error {
	return c.scaleTarget(ctx, cd, workloadKind.scaleToZero)
}

// ScaleFromZero brings the target's pods back at the start of a run: a
// Deployment gets ScaleFromZeroReplicas, a DaemonSet loses the scale-to-zero
// node selector.
func (c *Deployments) ScaleFromZero(ctx context.Context, cd *flaggerv1.Canary) error {
	return c.scaleTarget(ctx, cd, workloadKind.scaleFromZero)
}

// Finalize reverts the target when the canary is deleted with
// revertOnDeletion: a Deployment gets the primary's replicas back (or,
// without a primary, ScaleFromZeroReplicas), a DaemonSet loses the
// scale-to-zero node selector.
func (c *Deployments) Finalize(ctx context.Context, cd *flaggerv1.Canary) error {
	return c.scaleTarget(ctx, cd, workloadKind.finalize)
}

// scaleTarget reads the target and applies one of its kind's scalings.
func (c *Deployments) scaleTarget(ctx context.Context, cd *flaggerv1.Canary,
	scale func(workloadKind, context.Context, *flaggerv1.Canary, workload) error) error {
	k, err := c.kindOf(cd)
	if err != nil {
		return err
	}
	target, err := k.get(cd.Namespace, cd.Spec.TargetRef.Name)
	if err != nil {
		return err
	}
	return scale(k, ctx, cd, target)
}

// scaleBy scales the target Deployment to what replicas computes from the
// target, its primary and the minimum of the target's autoscaler.
func (k deploymentKind) scaleBy(ctx context.Context, cd *flaggerv1.Canary, target workload,
	replicas func(*flaggerv1.Canary, *appsv1.Deployment, *appsv1.Deployment, int32) int32) error {
	dep := target.listedObject.(*appsv1.Deployment)
	primary, err := k.deployments.Deployments(cd.Namespace).Get(PrimaryName(cd))
	if apierrors.IsNotFound(err) {
		primary = nil
	} else if err != nil {
		return fmt.Errorf("deployment %s.%s get query error: %w", PrimaryName(cd), cd.Namespace, err)
	}
	minReplicas, err := k.autoscalerMin(cd)
	if err != nil {
		return err
	}
	return k.scale(ctx, dep, replicas(cd, dep, primary, minReplicas))
}

// ScaleFromZeroReplicas returns the replicas a target scaled to zero starts a
// run with: its own replicas if above zero; else, without an autoscaler, the
// primary's; else the autoscaler's minimum (an HPA's minReplicas, a KEDA
// ScaledObject's minReplicaCount) if above one; else one. primary may be nil
// when it does not exist, minReplicas zero when unknown.
func ScaleFromZeroReplicas(cd *flaggerv1.Canary, target, primary *appsv1.Deployment, minReplicas int32) int32 {
	if r := ptr.Deref(target.Spec.Replicas, 0); r > 0 {
		return r
	}
	if cd.Spec.AutoscalerRef == nil {
		if primary != nil && ptr.Deref(primary.Spec.Replicas, 0) > 0 {
			return *primary.Spec.Replicas
		}
		return 1
	}
	return max(minReplicas, 1)
}

// FinalizeReplicas returns the replicas the target gets back when its canary
// is deleted: the primary's (one if unset), or, without a primary,
// ScaleFromZeroReplicas.
//
// Unlike Flagger, a missing primary without an autoscaler is not an error.
func FinalizeReplicas(cd *flaggerv1.Canary, target, primary *appsv1.Deployment, minReplicas int32) int32 {
	if primary != nil {
		return ptr.Deref(primary.Spec.Replicas, 1)
	}
	return ScaleFromZeroReplicas(cd, target, nil, minReplicas)
}

// autoscalerMin returns the minimum of the target's autoscaler: an HPA's
// minReplicas, a KEDA ScaledObject's minReplicaCount; zero without one, or
// when it does not exist.
func (c *Deployments) autoscalerMin(cd *flaggerv1.Canary) (int32, error) {
	ref := cd.Spec.AutoscalerRef
	switch {
	case ref == nil:
		return 0, nil
	case ref.Kind == scaledObjectKind:
		if c.keda == nil {
			return 0, nil
		}
		so, err := c.getScaledObject(cd.Namespace, ref.Name)
		if apierrors.IsNotFound(err) {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		return minReplicaCount(so), nil
	case ref.Kind != hpaKind:
		return 0, nil
	}
	hpa, err := c.hpas.HorizontalPodAutoscalers(cd.Namespace).Get(ref.Name)
	if apierrors.IsNotFound(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("HorizontalPodAutoscaler %s.%s get query error: %w", ref.Name, cd.Namespace, err)
	}
	return ptr.Deref(hpa.Spec.MinReplicas, 0), nil
}

// scale patches the Deployment's replicas when they differ. A merge patch
// touches nothing else, so a stale cached copy cannot revert other fields.
func (k deploymentKind) scale(ctx context.Context, dep *appsv1.Deployment, replicas int32) error {
	if dep.Spec.Replicas != nil && *dep.Spec.Replicas == replicas {
		return nil
	}
	patch := fmt.Appendf(nil, `{"spec":{"replicas":%d}}`, replicas)
	_, err := k.kube.AppsV1().Deployments(dep.Namespace).Patch(ctx, dep.Name, types.MergePatchType, patch, metav1.PatchOptions{})
	if err != nil {
		return fmt.Errorf("scaling %s.%s to %d failed: %w", dep.Name, dep.Namespace, replicas, err)
	}
	return nil
}
