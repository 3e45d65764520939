package canary

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// HandOver gives the objects cd controls on the workload side (the primary
// Deployment, its autoscaler and the -primary copies of ConfigMaps and
// Secrets) to the target Deployment, for a canary deleted without
// revertOnDeletion: the controller reference to cd becomes a plain owner
// reference to the target. Garbage collection then keeps them, serving, as
// long as the target exists, and removes them with it. It returns that owner
// reference, which the routers give their objects too.
func (c *DeploymentController) HandOver(ctx context.Context, cd *flaggerv1.Canary) (metav1.OwnerReference, error) {
	target, err := c.getDeployment(cd.Namespace, cd.Spec.TargetRef.Name)
	if err != nil {
		return metav1.OwnerReference{}, err
	}
	owner := metav1.OwnerReference{APIVersion: "apps/v1", Kind: "Deployment", Name: target.Name, UID: target.UID}
	ns := cd.Namespace
	deps, err := c.deployments.Deployments(ns).List(labels.Everything())
	if err != nil {
		return owner, err
	}
	err = handOverEach(ctx, deps, cd, owner, func(ctx context.Context, d *appsv1.Deployment) error {
		_, err := c.kube.AppsV1().Deployments(ns).Update(ctx, d, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return owner, err
	}
	hpas, err := c.hpas.HorizontalPodAutoscalers(ns).List(labels.Everything())
	if err != nil {
		return owner, err
	}
	err = handOverEach(ctx, hpas, cd, owner, func(ctx context.Context, h *autoscalingv2.HorizontalPodAutoscaler) error {
		_, err := c.kube.AutoscalingV2().HorizontalPodAutoscalers(ns).Update(ctx, h, metav1.UpdateOptions{})
		return err
	})
	if err != nil || !c.trackConfigs {
		return owner, err
	}
	configMaps, err := c.configMaps.ConfigMaps(ns).List(labels.Everything())
	if err != nil {
		return owner, err
	}
	err = handOverEach(ctx, configMaps, cd, owner, func(ctx context.Context, cm *corev1.ConfigMap) error {
		_, err := c.kube.CoreV1().ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return owner, err
	}
	secrets, err := c.secrets.Secrets(ns).List(labels.Everything())
	if err != nil {
		return owner, err
	}
	return owner, handOverEach(ctx, secrets, cd, owner, func(ctx context.Context, s *corev1.Secret) error {
		_, err := c.kube.CoreV1().Secrets(ns).Update(ctx, s, metav1.UpdateOptions{})
		return err
	})
}

// listedObject is an object read from a lister.
type listedObject interface {
	metav1.Object
	runtime.Object
}

// handOverEach updates, with owner in place of cd, a copy of every listed
// object that cd controls.
func handOverEach[T listedObject](ctx context.Context, objs []T, cd *flaggerv1.Canary, owner metav1.OwnerReference,
	update func(context.Context, T) error) error {
	for _, obj := range objs {
		if !metav1.IsControlledBy(obj, cd) {
			continue
		}
		out := obj.DeepCopyObject().(T)
		refs := []metav1.OwnerReference{owner}
		for _, r := range out.GetOwnerReferences() {
			if r.UID != cd.UID && r.UID != owner.UID {
				refs = append(refs, r)
			}
		}
		out.SetOwnerReferences(refs)
		if err := update(ctx, out); err != nil {
			return fmt.Errorf("%T %s.%s hand-over: %w", obj, obj.GetName(), obj.GetNamespace(), err)
		}
	}
	return nil
}
