package canary

import (
	"context"
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/owners"
)

// reconcilePrimaryScaledObject is ReconcilePrimaryHPA for a ScaledObject:
// it creates <so>-primary when it is missing and, with update (Promoting
// only, as for HPAs), brings an existing copy in line with the target's,
// writing only if it differs; a copy the canary controls gets the target's
// owner reference when it lacks it.
func (c *Deployments) reconcilePrimaryScaledObject(ctx context.Context, cd *flaggerv1.Canary, update bool) error {
	store, err := c.scaledObjects()
	if err != nil {
		return err
	}
	so, err := c.getScaledObject(cd.Namespace, cd.Spec.AutoscalerRef.Name)
	if err != nil {
		return err
	}
	target, err := c.getDeployment(cd.Namespace, cd.Spec.TargetRef.Name)
	if err != nil {
		return err
	}
	want, err := NewPrimaryScaledObject(cd, so, targetOwner(target))
	if err != nil {
		return err
	}
	client := store.Client.Namespace(cd.Namespace)
	have, err := c.getScaledObject(cd.Namespace, want.GetName())
	if apierrors.IsNotFound(err) {
		if _, err := client.Create(ctx, want, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating ScaledObject %s.%s failed: %w", want.GetName(), want.GetNamespace(), err)
		}
		return nil
	}
	if err != nil {
		return err
	}
	refs, reowned := have.GetOwnerReferences(), false
	if metav1.IsControlledBy(have, cd) {
		refs, reowned = owners.AddTarget(targetOwner(target)).Changes(have.GetOwnerReferences())
	}
	stale := update && !primaryScaledObjectUpToDate(have, want)
	if !stale && !reowned {
		return nil
	}
	upd := have.DeepCopy()
	upd.SetOwnerReferences(refs)
	if stale {
		upd.Object["spec"] = want.Object["spec"]
		upd.SetLabels(want.GetLabels())
		upd.SetAnnotations(want.GetAnnotations())
	}
	if _, err := client.Update(ctx, upd, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("updating ScaledObject %s.%s failed: %w", want.GetName(), want.GetNamespace(), err)
	}
	return nil
}

// primaryScaledObjectUpToDate compares what NewPrimaryScaledObject sets.
func primaryScaledObjectUpToDate(have, want *unstructured.Unstructured) bool {
	return equality.Semantic.DeepEqual(have.Object["spec"], want.Object["spec"]) &&
		equality.Semantic.DeepEqual(have.GetLabels(), want.GetLabels()) &&
		equality.Semantic.DeepEqual(have.GetAnnotations(), want.GetAnnotations())
}

// PauseTargetScaler pauses the target's ScaledObject at zero replicas
// (PausedReplicasAnnotation "0"), so that KEDA leaves the target scaled to
// zero while the canary is idle. It writes nothing when the annotation is
// already there, and is a no-op for a HorizontalPodAutoscaler: an HPA does
// not scale a Deployment that has zero replicas.
func (c *Deployments) PauseTargetScaler(ctx context.Context, cd *flaggerv1.Canary) error {
	return c.setTargetPause(ctx, cd, true)
}

// ResumeTargetScaler removes the pause of PauseTargetScaler when a run
// starts and when the canary is deleted with revertOnDeletion. A missing
// ScaledObject, or a cluster without KEDA, has no pause to remove.
func (c *Deployments) ResumeTargetScaler(ctx context.Context, cd *flaggerv1.Canary) error {
	return c.setTargetPause(ctx, cd, false)
}

// setTargetPause adds or removes the pause with a JSON merge patch of the
// one annotation. Unlike Flagger's read-modify-write, it needs no
// resourceVersion, so it neither conflicts with KEDA's status writes nor
// reverts a field from a stale cached copy.
func (c *Deployments) setTargetPause(ctx context.Context, cd *flaggerv1.Canary, pause bool) error {
	ref := cd.Spec.AutoscalerRef
	if ref == nil || ref.Kind != scaledObjectKind || (!pause && c.keda == nil) {
		return nil
	}
	so, err := c.getScaledObject(cd.Namespace, ref.Name)
	if !pause && apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	value, paused := so.GetAnnotations()[PausedReplicasAnnotation]
	var set any // null removes the key
	switch {
	case pause && value == "0":
		return nil
	case pause:
		set = "0"
	case !paused:
		return nil
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]any{PausedReplicasAnnotation: set}}})
	if err != nil {
		return err
	}
	if _, err := c.keda.Client.Namespace(cd.Namespace).Patch(ctx, ref.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		verb := "resuming"
		if pause {
			verb = "pausing"
		}
		return fmt.Errorf("%s ScaledObject %s.%s failed: %w", verb, ref.Name, cd.Namespace, err)
	}
	return nil
}

// updateScaledObject writes a ScaledObject (RewriteOwners).
func (c *Deployments) updateScaledObject(ctx context.Context, so *unstructured.Unstructured) error {
	_, err := c.keda.Client.Namespace(so.GetNamespace()).Update(ctx, so, metav1.UpdateOptions{})
	return err
}

// rewriteScaledObjects applies rw to the ScaledObjects cd controls (its
// primary's); nothing without KEDA.
func (c *Deployments) rewriteScaledObjects(ctx context.Context, cd *flaggerv1.Canary, rw owners.Rewrite) error {
	if c.keda == nil {
		return nil
	}
	objs, err := c.keda.Lister.ByNamespace(cd.Namespace).List(labels.Everything())
	if err != nil {
		return err
	}
	sos := make([]*unstructured.Unstructured, 0, len(objs))
	for _, obj := range objs {
		if so, ok := obj.(*unstructured.Unstructured); ok {
			sos = append(sos, so)
		}
	}
	return rewriteControlled(ctx, cd, sos, rw, c.updateScaledObject)
}
