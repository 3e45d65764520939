package canary

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/syncerr"
)

// daemonSetKind releases DaemonSets as Flagger does: the primary is a
// DaemonSet, scaling adds or removes the scale-to-zero node selector, and
// readiness counts nodes (CheckDaemonSetRollout).
type daemonSetKind struct {
	kube       kubernetes.Interface
	daemonSets appslisters.DaemonSetLister
}

var _ workloadKind = daemonSetKind{}

func (daemonSetKind) kindName() string { return "daemonset" }

func (k daemonSetKind) get(namespace, name string) (workload, error) {
	ds, err := k.daemonSets.DaemonSets(namespace).Get(name)
	if err != nil {
		return workload{}, getError("daemonset", namespace, name, err)
	}
	return workload{listedObject: ds, template: DaemonSetRevisionTemplate(ds), selector: ds.Spec.Selector}, nil
}

func (k daemonSetKind) list(namespace string) ([]listedObject, error) {
	dss, err := k.daemonSets.DaemonSets(namespace).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	out := make([]listedObject, len(dss))
	for i, d := range dss {
		out[i] = d
	}
	return out, nil
}

// validate refuses the OnDelete update strategy, as Flagger does: a
// promotion would change the primary's template and roll no pod.
func (daemonSetKind) validate(target workload) error {
	ds := target.listedObject.(*appsv1.DaemonSet)
	if t := ds.Spec.UpdateStrategy.Type; t != "" && t != appsv1.RollingUpdateDaemonSetStrategyType {
		return syncerr.Permanent(fmt.Errorf("daemonset %s.%s must have RollingUpdate strategy but have %s (spec.updateStrategy.type)",
			ds.Name, ds.Namespace, t))
	}
	return nil
}

func (daemonSetKind) newPrimary(cd *flaggerv1.Canary, target workload, opts PrimaryOptions) listedObject {
	return NewPrimaryDaemonSet(cd, target.listedObject.(*appsv1.DaemonSet), opts)
}

func (daemonSetKind) promote(_ *flaggerv1.Canary, target, primary workload, opts PrimaryOptions) listedObject {
	return PromotePrimaryDaemonSet(target.listedObject.(*appsv1.DaemonSet), primary.listedObject.(*appsv1.DaemonSet), opts)
}

func (k daemonSetKind) create(ctx context.Context, obj listedObject) error {
	_, err := k.kube.AppsV1().DaemonSets(obj.GetNamespace()).Create(ctx, obj.(*appsv1.DaemonSet), metav1.CreateOptions{})
	return err
}

func (k daemonSetKind) update(ctx context.Context, obj listedObject) error {
	_, err := k.kube.AppsV1().DaemonSets(obj.GetNamespace()).Update(ctx, obj.(*appsv1.DaemonSet), metav1.UpdateOptions{})
	return err
}

func (k daemonSetKind) scaleToZero(ctx context.Context, _ *flaggerv1.Canary, target workload) error {
	return k.setScaledToZero(ctx, target.listedObject.(*appsv1.DaemonSet), true)
}

func (k daemonSetKind) scaleFromZero(ctx context.Context, _ *flaggerv1.Canary, target workload) error {
	return k.setScaledToZero(ctx, target.listedObject.(*appsv1.DaemonSet), false)
}

func (k daemonSetKind) finalize(ctx context.Context, cd *flaggerv1.Canary, target workload) error {
	return k.scaleFromZero(ctx, cd, target)
}

// setScaledToZero adds or removes the scale-to-zero node selector when the
// DaemonSet has it otherwise.
//
// Unlike Flagger, which updates the whole object from the copy it read: a
// merge patch touches that key alone, so a stale cached copy cannot revert
// other fields.
func (k daemonSetKind) setScaledToZero(ctx context.Context, ds *appsv1.DaemonSet, zero bool) error {
	if ScaledToZero(ds) == zero {
		return nil
	}
	value := "null"
	if zero {
		value = fmt.Sprintf("%q", ScaleToZeroNodeSelectorValue)
	}
	patch := fmt.Appendf(nil, `{"spec":{"template":{"spec":{"nodeSelector":{%q:%s}}}}}`, ScaleToZeroNodeSelectorKey, value)
	_, err := k.kube.AppsV1().DaemonSets(ds.Namespace).Patch(ctx, ds.Name, types.MergePatchType, patch, metav1.PatchOptions{})
	if err != nil {
		verb := "scaling up"
		if zero {
			verb = "scaling down"
		}
		return fmt.Errorf("%s daemonset %s.%s failed: %w", verb, ds.Name, ds.Namespace, err)
	}
	return nil
}

// primaryReady checks the primary's rollout (CheckDaemonSetRollout). A
// primary with the scale-to-zero node selector is not ready: there is
// nothing to compare the canary with.
func (daemonSetKind) primaryReady(cd *flaggerv1.Canary, w workload, now time.Time) error {
	primary := w.listedObject.(*appsv1.DaemonSet)
	err := CheckDaemonSetRollout(primary, cd.Status.LastTransitionTime.Time, cd.GetProgressDeadline(), now)
	if err != nil {
		return wrapNotReady(err, fmt.Sprintf("primary daemonset %s.%s not ready: ", primary.Name, primary.Namespace))
	}
	if ScaledToZero(primary) {
		return &NotReadyError{Message: fmt.Sprintf(
			"halt %s.%s advancement: primary daemonset is scaled to zero", cd.Name, cd.Namespace)}
	}
	return nil
}

// canaryReady checks the target's rollout.
//
// Unlike Flagger, where a target scaled to zero is trivially ready (zero
// pods desired, zero available): here it is not ready, and Draining while
// its pods go. That status says nothing of the pods it will run once scaled
// up, and the informer may not have seen the scale-up yet.
func (daemonSetKind) canaryReady(cd *flaggerv1.Canary, w workload, now time.Time) error {
	target := w.listedObject.(*appsv1.DaemonSet)
	if ScaledToZero(target) {
		if daemonSetDraining(target) {
			return &NotReadyError{Draining: true, Message: fmt.Sprintf(
				"canary daemonset %s.%s not ready: scaling down to zero, %d pods left",
				target.Name, target.Namespace, target.Status.CurrentNumberScheduled+target.Status.NumberMisscheduled)}
		}
		return &NotReadyError{Message: fmt.Sprintf(
			"canary daemonset %s.%s not ready: scaled to zero", target.Name, target.Namespace)}
	}
	err := CheckDaemonSetRollout(target, cd.Status.LastTransitionTime.Time, cd.GetProgressDeadline(), now)
	if err != nil {
		return wrapNotReady(err, fmt.Sprintf("canary daemonset %s.%s not ready: ", target.Name, target.Namespace))
	}
	return nil
}
