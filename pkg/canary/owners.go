package canary

import (
	"context"
	"fmt"
	"slices"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/history"
	"github.com/serin-dev/serin/pkg/owners"
)

// TargetOwner returns the owner reference to the canary's target (see
// pkg/owners).
func (c *Deployments) TargetOwner(cd *flaggerv1.Canary) (metav1.OwnerReference, error) {
	k, err := c.kindOf(cd)
	if err != nil {
		return metav1.OwnerReference{}, err
	}
	target, err := k.get(cd.Namespace, cd.Spec.TargetRef.Name)
	if err != nil {
		return metav1.OwnerReference{}, err
	}
	return targetOwner(target), nil
}

// ensureTargetOwner gives the target's owner reference to an existing
// primary that cd controls, and to the -primary config copies its pod
// template uses, when they lack it: what an older Serin or Flagger created
// has the canary as its only owner, and a target deleted and re-created
// under its name has a new UID. It writes nothing when they have it.
func (c *Deployments) ensureTargetOwner(ctx context.Context, cd *flaggerv1.Canary, k workloadKind, primary workload,
	target metav1.OwnerReference) error {
	if !metav1.IsControlledBy(primary, cd) {
		return nil
	}
	add := owners.AddTarget(target)
	if err := rewriteOwners(ctx, primary.listedObject, add, k.update); err != nil {
		return err
	}
	if !c.trackConfigs {
		return nil
	}
	for _, ref := range ReferencedConfigs(&primary.template.Spec) {
		var err error
		switch ref.Kind {
		case ConfigMapKind:
			err = rewriteNamed(ctx, cd, c.configMaps.ConfigMaps(cd.Namespace).Get, ref.Name, add, c.updateConfigMap)
		case SecretKind:
			err = rewriteNamed(ctx, cd, func(name string) (*corev1.Secret, error) { return c.secrets.Get(cd.Namespace, name) },
				ref.Name, add, c.updateSecret)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// RewriteOwners applies rw to the owner references of every object cd
// controls on the workload side (the primary Deployment or DaemonSet, its autoscaler and
// the -primary copies of ConfigMaps and Secrets), writing those it changes:
// the hand-over to the target and the release from it when a canary is
// deleted (see pkg/owners).
func (c *Deployments) RewriteOwners(ctx context.Context, cd *flaggerv1.Canary, rw owners.Rewrite) error {
	ns := cd.Namespace
	for _, k := range c.kinds() {
		objs, err := k.list(ns)
		if err != nil {
			return err
		}
		// The baseline is the Canary's alone: it is removed before a hand-over,
		// and garbage collection removes it with the Canary.
		objs = slices.DeleteFunc(objs, func(o listedObject) bool { return o.GetName() == BaselineName(cd) })
		if err := rewriteControlled(ctx, cd, objs, rw, k.update); err != nil {
			return err
		}
	}
	hpas, err := c.hpas.HorizontalPodAutoscalers(ns).List(labels.Everything())
	if err != nil {
		return err
	}
	if err := rewriteControlled(ctx, cd, hpas, rw, c.updateHPA); err != nil {
		return err
	}
	if err := c.rewriteScaledObjects(ctx, cd, rw); err != nil {
		return err
	}
	if !c.trackConfigs {
		return nil
	}
	configMaps, err := c.configMaps.ConfigMaps(ns).List(labels.Everything())
	if err != nil {
		return err
	}
	// The canary's history (pkg/history) goes with the Canary.
	configMaps = slices.DeleteFunc(slices.Clone(configMaps), func(cm *corev1.ConfigMap) bool { return cm.Labels[history.Label] != "" })
	if err := rewriteControlled(ctx, cd, configMaps, rw, c.updateConfigMap); err != nil {
		return err
	}
	secrets, err := c.secrets.ControlledBy(ns, cd.UID)
	if err != nil {
		return err
	}
	return rewriteControlled(ctx, cd, secrets, rw, c.updateSecret)
}

// listedObject is an object read from a lister.
type listedObject interface {
	metav1.Object
	runtime.Object
}

// rewriteControlled rewrites the owners of every listed object that cd
// controls.
func rewriteControlled[T listedObject](ctx context.Context, cd *flaggerv1.Canary, objs []T, rw owners.Rewrite,
	update func(context.Context, T) error) error {
	for _, obj := range objs {
		if !metav1.IsControlledBy(obj, cd) {
			continue
		}
		if err := rewriteOwners(ctx, obj, rw, update); err != nil {
			return err
		}
	}
	return nil
}

// rewriteNamed rewrites the owners of the object name, if it exists and cd
// controls it.
func rewriteNamed[T listedObject](ctx context.Context, cd *flaggerv1.Canary, get func(string) (T, error), name string,
	rw owners.Rewrite, update func(context.Context, T) error) error {
	obj, err := get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s.%s get query error: %w", name, cd.Namespace, err)
	}
	if !metav1.IsControlledBy(obj, cd) {
		return nil
	}
	return rewriteOwners(ctx, obj, rw, update)
}

// rewriteOwners updates a copy of obj, a cache object, with rw applied to
// its owner references, unless that changes nothing.
func rewriteOwners[T listedObject](ctx context.Context, obj T, rw owners.Rewrite, update func(context.Context, T) error) error {
	refs, changed := rw.Changes(obj.GetOwnerReferences())
	if !changed {
		return nil
	}
	out := obj.DeepCopyObject().(T)
	out.SetOwnerReferences(refs)
	if err := update(ctx, out); err != nil {
		return fmt.Errorf("%T %s.%s owner references: %w", obj, obj.GetName(), obj.GetNamespace(), err)
	}
	return nil
}

func (c *Deployments) updateHPA(ctx context.Context, h *autoscalingv2.HorizontalPodAutoscaler) error {
	_, err := c.kube.AutoscalingV2().HorizontalPodAutoscalers(h.Namespace).Update(ctx, h, metav1.UpdateOptions{})
	return err
}

func (c *Deployments) updateConfigMap(ctx context.Context, cm *corev1.ConfigMap) error {
	_, err := c.kube.CoreV1().ConfigMaps(cm.Namespace).Update(ctx, cm, metav1.UpdateOptions{})
	return err
}

func (c *Deployments) updateSecret(ctx context.Context, s *corev1.Secret) error {
	_, err := c.kube.CoreV1().Secrets(s.Namespace).Update(ctx, s, metav1.UpdateOptions{})
	return err
}
