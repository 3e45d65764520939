package canary

import (
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/owners"
)

// A DaemonSet has no replica count: Flagger, and Serin, scale one to zero by
// adding this node selector to its pod template, which no node matches.
const (
	ScaleToZeroNodeSelectorKey   = "flagger.app/scale-to-zero"
	ScaleToZeroNodeSelectorValue = "true"
)

// ScaledToZero reports whether a DaemonSet's pod template has the
// scale-to-zero node selector.
func ScaledToZero(ds *appsv1.DaemonSet) bool {
	_, ok := ds.Spec.Template.Spec.NodeSelector[ScaleToZeroNodeSelectorKey]
	return ok
}

// DaemonSetRevisionTemplate returns the pod template a DaemonSet's revision
// is made of: its own without the scale-to-zero node selector, which Serin
// writes itself, so that scaling the target neither looks like a new
// revision nor reaches the primary. It returns ds's own template (shared
// with the cache: read only) when there is nothing to remove.
func DaemonSetRevisionTemplate(ds *appsv1.DaemonSet) *corev1.PodTemplateSpec {
	if !ScaledToZero(ds) {
		return &ds.Spec.Template
	}
	t := ds.Spec.Template.DeepCopy()
	delete(t.Spec.NodeSelector, ScaleToZeroNodeSelectorKey)
	if len(t.Spec.NodeSelector) == 0 {
		t.Spec.NodeSelector = nil
	}
	return t
}

// NewPrimaryDaemonSet returns the primary DaemonSet to create for a target:
// its revision template (DaemonSetRevisionTemplate) with the selector label
// rewritten to <value>-primary, config references rewritten to the -primary
// copies and a new flagger-id; the target's update strategy and timings; a
// controller reference to the canary and an owner reference to the target.
func NewPrimaryDaemonSet(cd *flaggerv1.Canary, target *appsv1.DaemonSet, opts PrimaryOptions) *appsv1.DaemonSet {
	src := target.DeepCopy()
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{
			Name:            src.Name + PrimarySuffix,
			Namespace:       cd.Namespace,
			Labels:          primaryLabels(includeByPrefix(src.Labels, opts.IncludeLabelPrefix), opts.Selector),
			Annotations:     withoutToolkitKeys(src.Annotations),
			OwnerReferences: owners.Of(cd, targetOwner(target)),
		},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{
				MatchLabels: map[string]string{opts.Selector.Key: opts.Selector.PrimaryValue()},
			},
			Template:             primaryPodTemplate(DaemonSetRevisionTemplate(src), opts),
			UpdateStrategy:       src.Spec.UpdateStrategy,
			MinReadySeconds:      src.Spec.MinReadySeconds,
			RevisionHistoryLimit: src.Spec.RevisionHistoryLimit,
		},
	}
}

// PromotePrimaryDaemonSet returns a copy of primary updated from the target:
// pod template (as in NewPrimaryDaemonSet, with a new flagger-id), update
// strategy and timings, labels and annotations filtered by
// IncludeLabelPrefix. The selector, which is immutable, is kept.
func PromotePrimaryDaemonSet(target, primary *appsv1.DaemonSet, opts PrimaryOptions) *appsv1.DaemonSet {
	src := target.DeepCopy()
	out := primary.DeepCopy()
	out.Labels = primaryLabels(includeByPrefix(src.Labels, opts.IncludeLabelPrefix), opts.Selector)
	out.Annotations = includeByPrefix(src.Annotations, opts.IncludeLabelPrefix)
	out.Spec.Template = primaryPodTemplate(DaemonSetRevisionTemplate(src), opts)
	out.Spec.UpdateStrategy = src.Spec.UpdateStrategy
	out.Spec.MinReadySeconds = src.Spec.MinReadySeconds
	out.Spec.RevisionHistoryLimit = src.Spec.RevisionHistoryLimit
	return out
}

// CheckDaemonSetRollout reports whether a DaemonSet has rolled out, by
// Flagger's rule (kubectl rollout status's): every node that should run its
// pod runs the current template (updatedNumberScheduled) and an available
// pod (numberAvailable), once the DaemonSet controller has seen the latest
// spec (observedGeneration). nil when it has, else a *NotReadyError.
//
// A DaemonSet has no progress deadline of its own: as in Flagger, the
// rollout is stuck (Stuck) once deadline has passed since since, the
// Canary's status.lastTransitionTime, which every status change moves.
// readyThreshold does not apply, as in Flagger: a node without its pod is a
// node without the service.
func CheckDaemonSetRollout(ds *appsv1.DaemonSet, since time.Time, deadline time.Duration, now time.Time) error {
	if ds.Generation > ds.Status.ObservedGeneration {
		return &NotReadyError{Message: "waiting for rollout to finish: observed daemonset generation less than desired generation"}
	}
	st := ds.Status
	notUpdated := st.UpdatedNumberScheduled < st.DesiredNumberScheduled
	notAvailable := st.NumberAvailable < st.DesiredNumberScheduled
	if !notUpdated && !notAvailable {
		return nil
	}
	if !since.IsZero() && since.Add(deadline).Before(now) {
		return &NotReadyError{Stuck: true, Message: fmt.Sprintf("exceeded its progressDeadlineSeconds: %d", int(deadline.Seconds()))}
	}
	if notUpdated {
		return &NotReadyError{Message: fmt.Sprintf("waiting for rollout to finish: %d out of %d new pods have been updated",
			st.UpdatedNumberScheduled, st.DesiredNumberScheduled)}
	}
	return &NotReadyError{Message: fmt.Sprintf("waiting for rollout to finish: %d of %d updated pods are available",
		st.NumberAvailable, st.DesiredNumberScheduled)}
}

// daemonSetDraining reports whether a DaemonSet scaled to zero still has
// pods: the DaemonSet controller has not seen the node selector yet, or
// some node still runs (or is deleting) its pod.
func daemonSetDraining(ds *appsv1.DaemonSet) bool {
	st := ds.Status
	return ds.Generation > st.ObservedGeneration || st.CurrentNumberScheduled > 0 || st.NumberMisscheduled > 0 ||
		st.NumberReady > 0
}
