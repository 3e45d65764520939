package canary

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/owners"
)

// PrimaryOptions are the inputs of the primary builders besides the objects.
type PrimaryOptions struct {
	// Selector is the target's selector label.
	Selector Selector
	// Configs are the tracked configs (status.trackedConfigs keys) that have
	// -primary copies; the primary's pod spec refers to the copies.
	Configs map[string]string
	// IncludeLabelPrefix filters the Deployment-level labels (and, on
	// promotion, annotations) copied from the target.
	IncludeLabelPrefix []string
	// ID is the value of the flagger-id pod annotation.
	ID string
}

// NewPrimaryDeployment returns the primary Deployment to create for a target:
// the target's pod template with the selector label rewritten to
// <value>-primary, config references rewritten to the -primary copies and a
// new flagger-id; the target's rollout settings; at least one replica; a
// controller reference to the canary and an owner reference to the target.
func NewPrimaryDeployment(cd *flaggerv1.Canary, target *appsv1.Deployment, opts PrimaryOptions) *appsv1.Deployment {
	src := target.DeepCopy()
	replicas := int32(1)
	if r := ptr.Deref(src.Spec.Replicas, 0); r > 0 {
		replicas = r
	}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{
			Name:            src.Name + PrimarySuffix,
			Namespace:       cd.Namespace,
			Labels:          primaryLabels(includeByPrefix(src.Labels, opts.IncludeLabelPrefix), opts.Selector),
			Annotations:     withoutToolkitKeys(src.Annotations),
			OwnerReferences: owners.Of(cd, targetOwner(target)),
		},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{
				MatchLabels: map[string]string{opts.Selector.Key: opts.Selector.PrimaryValue()},
			},
			Template:                primaryPodTemplate(&src.Spec.Template, opts),
			Strategy:                src.Spec.Strategy,
			MinReadySeconds:         src.Spec.MinReadySeconds,
			RevisionHistoryLimit:    src.Spec.RevisionHistoryLimit,
			ProgressDeadlineSeconds: src.Spec.ProgressDeadlineSeconds,
		},
	}
}

// PromotePrimary returns a copy of primary updated from the target: pod
// template (as in NewPrimaryDeployment, with a new flagger-id), strategy and
// timings, Deployment labels and annotations filtered by IncludeLabelPrefix,
// and the replicas unless an autoscaler owns them. The selector, which is
// immutable, is kept.
func PromotePrimary(cd *flaggerv1.Canary, target, primary *appsv1.Deployment, opts PrimaryOptions) *appsv1.Deployment {
	src := target.DeepCopy()
	out := primary.DeepCopy()
	out.Labels = primaryLabels(includeByPrefix(src.Labels, opts.IncludeLabelPrefix), opts.Selector)
	out.Annotations = includeByPrefix(src.Annotations, opts.IncludeLabelPrefix)
	out.Spec.Template = primaryPodTemplate(&src.Spec.Template, opts)
	out.Spec.Strategy = src.Spec.Strategy
	out.Spec.MinReadySeconds = src.Spec.MinReadySeconds
	out.Spec.RevisionHistoryLimit = src.Spec.RevisionHistoryLimit
	out.Spec.ProgressDeadlineSeconds = src.Spec.ProgressDeadlineSeconds
	// Unlike Flagger, a target at zero (or unset) replicas never scales the
	// primary down: that would take the stable version out of service.
	if cd.Spec.AutoscalerRef == nil && ptr.Deref(src.Spec.Replicas, 0) > 0 {
		out.Spec.Replicas = src.Spec.Replicas
	}
	return out
}

// primaryPodTemplate derives the primary's pod template from the target's,
// which it changes: pass a copy.
func primaryPodTemplate(t *corev1.PodTemplateSpec, opts PrimaryOptions) corev1.PodTemplateSpec {
	t.Labels = primaryLabels(t.Labels, opts.Selector)
	t.Annotations = primaryPodAnnotations(t.Annotations, opts.ID)
	ApplyPrimaryConfigRefs(&t.Spec, opts.Configs)
	rewriteSpreadSelectors(&t.Spec, opts.Selector)
	return *t
}

// rewriteSpreadSelectors points the pod anti-affinity and topology spread
// label selectors that select the target's pods at the primary's pods, so
// that the primary's replicas spread among themselves as the target's did.
func rewriteSpreadSelectors(spec *corev1.PodSpec, sel Selector) {
	for i := range spec.TopologySpreadConstraints {
		rewriteSelector(spec.TopologySpreadConstraints[i].LabelSelector, sel)
	}
	if spec.Affinity == nil || spec.Affinity.PodAntiAffinity == nil {
		return
	}
	anti := spec.Affinity.PodAntiAffinity
	for i := range anti.PreferredDuringSchedulingIgnoredDuringExecution {
		rewriteSelector(anti.PreferredDuringSchedulingIgnoredDuringExecution[i].PodAffinityTerm.LabelSelector, sel)
	}
	for i := range anti.RequiredDuringSchedulingIgnoredDuringExecution {
		rewriteSelector(anti.RequiredDuringSchedulingIgnoredDuringExecution[i].LabelSelector, sel)
	}
}

// rewriteSelector appends -primary to the selector label's value in ls.
//
// Unlike Flagger, which rewrites any selector-label key whose value equals
// the target's name, this rewrites exactly the label that the primary's pods
// carry rewritten: the selector key with the target's selector value. A
// Deployment named differently from its app label is handled, and a
// selector on another key (whose pod label is not rewritten) still matches.
func rewriteSelector(ls *metav1.LabelSelector, sel Selector) {
	if ls == nil {
		return
	}
	if v, ok := ls.MatchLabels[sel.Key]; ok && v == sel.Value {
		ls.MatchLabels[sel.Key] = sel.PrimaryValue()
	}
	for i := range ls.MatchExpressions {
		expr := &ls.MatchExpressions[i]
		if expr.Key != sel.Key {
			continue
		}
		for j := range expr.Values {
			if expr.Values[j] == sel.Value {
				expr.Values[j] = sel.PrimaryValue()
			}
		}
	}
}
