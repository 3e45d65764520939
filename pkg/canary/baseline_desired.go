package canary

import (
	"maps"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/owners"
)

// BaselineSuffix is appended to the target's name for the baseline
// Deployment, to the selector label value of the baseline's pods, and to the
// apex Service's name for the baseline Service.
const BaselineSuffix = "-baseline"

// Annotations of the baseline Deployment.
const (
	// BaselineRunAnnotation, on the baseline's pod template, names the run
	// the pods were started for (see baselineRun): a new run changes it, so
	// the Deployment replaces every pod and the baseline starts fresh, as
	// the canary does, instead of being long warm.
	BaselineRunAnnotation = "serin.dev/baseline-run"
	// BaselineTemplateAnnotation, on the baseline Deployment, is the
	// PodTemplateHash of the template it was given. The live template
	// carries the API server's defaults, so it never equals the one built
	// here; the hash tells whether the primary's template changed since.
	BaselineTemplateAnnotation = "serin.dev/baseline-template"
)

// BaselineName returns the name of the baseline Deployment of a canary.
func BaselineName(cd *flaggerv1.Canary) string {
	return cd.Spec.TargetRef.Name + BaselineSuffix
}

// baselineServiceName is the router's BaselineServiceName, "<apex>-baseline",
// the backend of the baseline weight in the route (a test checks that the
// two agree; this package does not import the router for one line).
func baselineServiceName(cd *flaggerv1.Canary) string {
	apex, _, _ := cd.GetServiceNames()
	return apex + BaselineSuffix
}

// BaselineValue is the selector label value of the baseline's pods: neither
// the primary's nor the canary's, so that no Service selects two arms.
func (s Selector) BaselineValue() string { return s.Value + BaselineSuffix }

// BaselineEnabled reports whether cd's analysis runs a judge baseline
// (spec.analysis.judge.baseline).
func BaselineEnabled(cd *flaggerv1.Canary) bool {
	a := cd.GetAnalysis()
	return a != nil && a.Judge != nil && a.Judge.Baseline
}

// baselineRun identifies the run a baseline is started for: the revision
// under analysis (status.lastAppliedSpec) and, once the state machine
// numbers runs, status.run. Both are in the status before the first tick
// of a run asks for a baseline, so a resumed tick finds the same value.
func baselineRun(cd *flaggerv1.Canary) string {
	if cd.Status.Run > 0 {
		return strconv.Itoa(cd.Status.Run) + "/" + cd.Status.LastAppliedSpec
	}
	return cd.Status.LastAppliedSpec
}

// NewBaselineDeployment returns the baseline Deployment of a canary: the
// primary's pod template (the version in production, config references to
// the -primary copies included) with the selector label set to
// <value>-baseline, the pod anti-affinity and topology spread selectors
// that select the primary's pods pointed at the baseline's, and run in
// BaselineRunAnnotation; the primary's rollout settings; the target's
// replicas, at least one, so that baseline and canary serve alike.
//
// Its only owner is the Canary, as controller. Unlike the primary, it has
// no owner reference to the target: a Canary deleted while Serin is not
// running must take its baseline with it, not leave it serving.
func NewBaselineDeployment(cd *flaggerv1.Canary, target, primary *appsv1.Deployment, sel Selector, run string) *appsv1.Deployment {
	src := primary.DeepCopy()
	replicas := max(ptr.Deref(target.Spec.Replicas, 1), 1)
	tmpl := src.Spec.Template
	tmpl.Labels = withLabel(tmpl.Labels, sel.Key, sel.BaselineValue())
	tmpl.Annotations = withLabel(tmpl.Annotations, BaselineRunAnnotation, run)
	retargetSpreadSelectors(&tmpl.Spec, sel.Key, sel.PrimaryValue(), sel.BaselineValue())
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{
			Name:            BaselineName(cd),
			Namespace:       cd.Namespace,
			Labels:          withLabel(withoutToolkitKeys(src.Labels), sel.Key, sel.BaselineValue()),
			OwnerReferences: []metav1.OwnerReference{owners.Canary(cd)},
		},
		Spec: appsv1.DeploymentSpec{
			Replicas:                &replicas,
			Selector:                &metav1.LabelSelector{MatchLabels: map[string]string{sel.Key: sel.BaselineValue()}},
			Template:                tmpl,
			Strategy:                src.Spec.Strategy,
			MinReadySeconds:         src.Spec.MinReadySeconds,
			RevisionHistoryLimit:    src.Spec.RevisionHistoryLimit,
			ProgressDeadlineSeconds: src.Spec.ProgressDeadlineSeconds,
		},
	}
}

// NewBaselineService returns the baseline Service "<svc>-baseline", of type
// ClusterIP: the primary Service's ports (node ports aside), headlessness
// and traffic distribution, selecting the baseline's pods, labelled as the
// router labels its Services ("<label>: <its name>").
//
// Its owners are those of the router's Services and of the route: the
// Canary as controller, and target, the target's owner reference. The
// route refers to it for as long as judge.baseline is set, also after the
// Canary is deleted without revertOnDeletion, when the target keeps the
// route serving. A Service without pods costs nothing; the pods, which the
// Deployment owns, are what must not outlive the run.
func NewBaselineService(cd *flaggerv1.Canary, primarySvc *corev1.Service, sel Selector, target metav1.OwnerReference) *corev1.Service {
	name := baselineServiceName(cd)
	ports := make([]corev1.ServicePort, len(primarySvc.Spec.Ports))
	for i, p := range primarySvc.Spec.Ports {
		p.NodePort = 0
		ports[i] = p
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{
			Name:            name,
			Namespace:       cd.Namespace,
			Labels:          withLabel(withoutToolkitKeys(primarySvc.Labels), sel.Key, name),
			OwnerReferences: owners.Of(cd, target),
		},
		Spec: corev1.ServiceSpec{
			Type:                corev1.ServiceTypeClusterIP,
			Selector:            map[string]string{sel.Key: sel.BaselineValue()},
			Ports:               ports,
			TrafficDistribution: primarySvc.Spec.TrafficDistribution,
		},
	}
	if primarySvc.Spec.ClusterIP == corev1.ClusterIPNone {
		svc.Spec.ClusterIP = corev1.ClusterIPNone
	}
	return svc
}

// retargetSpreadSelectors points the pod anti-affinity and topology spread
// selectors that select key=from (the primary's pods, in a template copied
// from the primary) at key=to, so that the baseline's replicas spread among
// themselves as the primary's do. It walks what rewriteSpreadSelectors
// walks; the two could share a (from, to) walker.
func retargetSpreadSelectors(spec *corev1.PodSpec, key, from, to string) {
	var selectors []*metav1.LabelSelector
	for i := range spec.TopologySpreadConstraints {
		selectors = append(selectors, spec.TopologySpreadConstraints[i].LabelSelector)
	}
	if spec.Affinity != nil && spec.Affinity.PodAntiAffinity != nil {
		anti := spec.Affinity.PodAntiAffinity
		for i := range anti.PreferredDuringSchedulingIgnoredDuringExecution {
			selectors = append(selectors, anti.PreferredDuringSchedulingIgnoredDuringExecution[i].PodAffinityTerm.LabelSelector)
		}
		for i := range anti.RequiredDuringSchedulingIgnoredDuringExecution {
			selectors = append(selectors, anti.RequiredDuringSchedulingIgnoredDuringExecution[i].LabelSelector)
		}
	}
	for _, ls := range selectors {
		if ls == nil {
			continue
		}
		if ls.MatchLabels[key] == from {
			ls.MatchLabels[key] = to
		}
		for i := range ls.MatchExpressions {
			if ls.MatchExpressions[i].Key != key {
				continue
			}
			for j, v := range ls.MatchExpressions[i].Values {
				if v == from {
					ls.MatchExpressions[i].Values[j] = to
				}
			}
		}
	}
}

// withLabel returns a copy of m with key set to value.
func withLabel(m map[string]string, key, value string) map[string]string {
	out := make(map[string]string, len(m)+1)
	maps.Copy(out, m)
	out[key] = value
	return out
}

// baselineChange is what bringing a live baseline Deployment to the desired
// one takes.
type baselineChange int

const (
	baselineUpToDate baselineChange = iota
	baselineUpdate
	// baselineRecreate: the selector, which is immutable, differs.
	baselineRecreate
)

// diffBaseline compares a live baseline Deployment with the desired one
// (whose BaselineTemplateAnnotation is set). The template is compared by
// the hash of what was written, which sees every change of the primary's,
// and the spec by equality.Semantic.DeepDerivative (every field set in
// desired has its value in live), which sees edits by hand and is not
// disturbed by the API server's defaults.
func diffBaseline(live, desired *appsv1.Deployment) baselineChange {
	switch {
	case !equality.Semantic.DeepEqual(live.Spec.Selector, desired.Spec.Selector):
		return baselineRecreate
	case live.Annotations[BaselineTemplateAnnotation] != desired.Annotations[BaselineTemplateAnnotation],
		ptr.Deref(live.Spec.Replicas, 1) != *desired.Spec.Replicas,
		!equality.Semantic.DeepDerivative(desired.Labels, live.Labels),
		!equality.Semantic.DeepDerivative(desired.Spec, live.Spec):
		return baselineUpdate
	}
	return baselineUpToDate
}

// updatedBaseline returns a copy of live with desired's labels,
// annotations, replicas, template and rollout settings; the rest (status,
// resource version, other owners' references) is live's.
func updatedBaseline(live, desired *appsv1.Deployment) *appsv1.Deployment {
	out := live.DeepCopy()
	out.Labels = mergeMaps(live.Labels, desired.Labels)
	out.Annotations = mergeMaps(live.Annotations, desired.Annotations)
	out.Spec.Replicas = desired.Spec.Replicas
	out.Spec.Template = desired.Spec.Template
	out.Spec.Strategy = desired.Spec.Strategy
	out.Spec.MinReadySeconds = desired.Spec.MinReadySeconds
	out.Spec.RevisionHistoryLimit = desired.Spec.RevisionHistoryLimit
	out.Spec.ProgressDeadlineSeconds = desired.Spec.ProgressDeadlineSeconds
	return out
}

// serviceDiffers reports whether a live baseline Service lacks the desired
// selector, ports (node ports aside), labels or target owner reference.
func serviceDiffers(live, desired *corev1.Service) bool {
	if _, changed := addTargetOf(desired).Changes(live.OwnerReferences); changed ||
		!equality.Semantic.DeepEqual(live.Spec.Selector, desired.Spec.Selector) ||
		!equality.Semantic.DeepDerivative(desired.Labels, live.Labels) ||
		len(live.Spec.Ports) != len(desired.Spec.Ports) {
		return true
	}
	for i, p := range live.Spec.Ports {
		p.NodePort = 0
		if !equality.Semantic.DeepDerivative(desired.Spec.Ports[i], p) {
			return true
		}
	}
	return false
}

// updatedService returns a copy of live with desired's selector, ports
// (keeping live node ports of the same name and port), labels and target
// owner reference. The cluster IP and type are left: the first is
// immutable.
func updatedService(live, desired *corev1.Service) *corev1.Service {
	out := live.DeepCopy()
	out.OwnerReferences, _ = addTargetOf(desired).Changes(live.OwnerReferences)
	out.Labels = mergeMaps(live.Labels, desired.Labels)
	out.Spec.Selector = desired.Spec.Selector
	out.Spec.Ports = make([]corev1.ServicePort, len(desired.Spec.Ports))
	for i, p := range desired.Spec.Ports {
		for _, l := range live.Spec.Ports {
			if l.Name == p.Name && l.Port == p.Port {
				p.NodePort = l.NodePort
			}
		}
		out.Spec.Ports[i] = p
	}
	return out
}

// addTargetOf adds the target owner reference of a desired object (its
// second, see owners.Of) to the live references, replacing that of a
// target deleted and re-created under its name.
func addTargetOf(desired metav1.Object) owners.Rewrite {
	refs := desired.GetOwnerReferences()
	return owners.AddTarget(refs[len(refs)-1])
}

// mergeMaps returns live's entries overwritten by desired's.
func mergeMaps(live, desired map[string]string) map[string]string {
	out := make(map[string]string, len(live)+len(desired))
	maps.Copy(out, live)
	maps.Copy(out, desired)
	return out
}
