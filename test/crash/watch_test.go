package crash

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/canary"
)

// Names of the objects of a run.
const (
	targetName  = "podinfo"
	primaryName = "podinfo-primary"
	canaryName  = "podinfo"
)

// backends maps the route's Services to the Deployments behind them.
var backends = map[string]string{"podinfo-primary": primaryName, "podinfo-canary": targetName, "podinfo-baseline": baselineName}

// recorder watches the run's Deployments, HTTPRoutes and Canaries and
// replays every version it sees in the order the API server wrote them
// (one etcd: resourceVersions are one sequence across resources), checking
// at each version that no route sends traffic to a Deployment without a
// ready pod, and recording what the other invariants are checked on.
type recorder struct {
	ns  string
	act *activity

	mu      sync.Mutex
	pending []observed

	deps       map[string]*appsv1.Deployment
	route      *gatewayv1.HTTPRoute
	cd         *flaggerv1.Canary
	canaryGone bool

	// initial is the image the primary was created with: analysed by
	// definition.
	initial string
	// shapes, phases and primaryImages are the histories of the route, the
	// canary's phase and the primary's template, without consecutive
	// repeats.
	shapes        []string
	phases        []string
	primaryImages []string
	// imageOfHash maps the operator's hash of each target template seen to
	// its image; promoted holds the hashes of the revisions the canary
	// promoted (status Promoting, Finalising or Succeeded with that
	// lastAppliedSpec).
	imageOfHash map[string]string
	promoted    map[string]bool
	// copied is the image last copied to the primary before the canary's
	// status said it was analysed: the next version of the canary must.
	copied string
	// unconfirmed lists the copies the canary's next version did not
	// record as promoted.
	unconfirmed []string
	// unready are the violations of "no weight to an unready Deployment".
	unready   []string
	lastBadAt string
	// baselineBad are the violations of "weight to the baseline only
	// during an analysis"; maxCanary is the largest canary weight routed.
	baselineBad     []string
	lastBaselineBad string
	maxCanary       int
	// canaryUID is the Canary's, to recognise what it owns once deleted.
	canaryUID types.UID
	// versions lists every version replayed, in short, for the reports.
	versions []string
	lastOf   map[string]string
}

// observed is one watch event.
type observed struct {
	rv  uint64
	typ watch.EventType
	obj runtime.Object
}

func newRecorder(ns string, act *activity) *recorder {
	return &recorder{ns: ns, act: act, deps: map[string]*appsv1.Deployment{},
		imageOfHash: map[string]string{}, promoted: map[string]bool{}, lastOf: map[string]string{}}
}

// start opens the watches; they run until ctx ends. It returns once they
// are open, so that nothing created afterwards is missed.
func (r *recorder) start(ctx context.Context, e *env) error {
	opens := map[string]func(context.Context, metav1.ListOptions) (watch.Interface, error){
		"deployments": e.kube.AppsV1().Deployments(r.ns).Watch,
		"daemonsets":  e.kube.AppsV1().DaemonSets(r.ns).Watch,
		"httproutes":  e.gateway.GatewayV1().HTTPRoutes(r.ns).Watch,
		"canaries":    e.flagger.FlaggerV1beta1().Canaries(r.ns).Watch,
	}
	for resource, open := range opens {
		r.act.follows("harness", resource)
		w, err := open(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		go r.follow(ctx, resource, open, w)
	}
	return nil
}

// follow reads one watch, reopening it from the last version seen when
// the API server closes it.
func (r *recorder) follow(ctx context.Context, resource string, open func(context.Context, metav1.ListOptions) (watch.Interface, error), w watch.Interface) {
	var last string
	for {
		for ev := range w.ResultChan() {
			m, ok := ev.Object.(metav1.Object)
			if !ok || ev.Type == watch.Error || ev.Type == watch.Bookmark {
				continue
			}
			last = m.GetResourceVersion()
			rv, _ := strconv.ParseUint(last, 10, 64)
			r.mu.Lock()
			r.pending = append(r.pending, observed{rv: rv, typ: ev.Type, obj: ev.Object})
			r.mu.Unlock()
			r.act.saw("harness", resource, rv)
		}
		w.Stop()
		for {
			if ctx.Err() != nil {
				return
			}
			var err error
			if w, err = open(ctx, metav1.ListOptions{ResourceVersion: last}); err == nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// drain replays the events received so far in resourceVersion order.
func (r *recorder) drain() {
	r.mu.Lock()
	defer r.mu.Unlock()
	sort.SliceStable(r.pending, func(i, j int) bool { return r.pending[i].rv < r.pending[j].rv })
	for _, ev := range r.pending {
		if ds, ok := ev.obj.(*appsv1.DaemonSet); ok {
			ev.obj = asDeployment(ds)
		}
		r.apply(ev)
		r.checkTraffic(ev.rv)
		r.checkBaseline(ev.rv)
		r.note(ev)
	}
	r.pending = nil
}

func (r *recorder) apply(ev observed) {
	switch o := ev.obj.(type) {
	case *appsv1.Deployment:
		if ev.typ == watch.Deleted {
			delete(r.deps, o.Name)
			return
		}
		r.deps[o.Name] = o
		switch o.Name {
		case targetName:
			if hash, err := canary.PodTemplateHash(&o.Spec.Template); err == nil {
				r.imageOfHash[hash] = imageOf(&o.Spec.Template)
			}
		case primaryName:
			img := imageOf(&o.Spec.Template)
			if r.initial == "" {
				r.initial = img
			}
			if len(r.primaryImages) > 0 && r.primaryImages[len(r.primaryImages)-1] != img && !r.analysed(img) {
				r.copied = img
			}
			r.primaryImages = appendNew(r.primaryImages, img)
		}
	case *gatewayv1.HTTPRoute:
		if ev.typ == watch.Deleted {
			r.route = nil
			r.shapes = appendNew(r.shapes, "deleted")
			return
		}
		r.route = o
		r.shapes = appendNew(r.shapes, shape(o))
	case *flaggerv1.Canary:
		if ev.typ == watch.Deleted {
			r.cd, r.canaryGone = nil, true
			r.phases = appendNew(r.phases, "deleted")
			return
		}
		r.cd, r.canaryUID = o, o.UID
		st := o.Status
		if st.Phase == "" {
			return
		}
		r.phases = appendNew(r.phases, string(st.Phase))
		switch st.Phase {
		case flaggerv1.CanaryPhasePromoting, flaggerv1.CanaryPhaseFinalising, flaggerv1.CanaryPhaseSucceeded:
			r.promoted[st.LastAppliedSpec] = true
		}
		if r.copied != "" && !r.analysed(r.copied) {
			r.unconfirmed = append(r.unconfirmed, fmt.Sprintf("%s (rv %d: the canary's status after the copy is %s for %s)",
				short(r.copied), ev.rv, st.Phase, short(r.imageOfHash[st.LastAppliedSpec])))
		}
		r.copied = ""
	}
}

// analysed reports whether the canary recorded img as promoted.
func (r *recorder) analysed(img string) bool {
	for hash := range r.promoted {
		if r.imageOfHash[hash] == img {
			return true
		}
	}
	return false
}

// note records a version in short, unless it looks like the object's
// previous one.
func (r *recorder) note(ev observed) {
	var obj, what string
	switch o := ev.obj.(type) {
	case *appsv1.Deployment:
		obj = "deployment/" + o.Name
		if o.Kind != "" {
			obj = strings.ToLower(o.Kind) + "/" + o.Name
		}
		replicas := int32(1)
		if o.Spec.Replicas != nil {
			replicas = *o.Spec.Replicas
		}
		what = fmt.Sprintf("%s replicas=%d ready=%d gen=%d/%d", short(imageOf(&o.Spec.Template)), replicas,
			o.Status.ReadyReplicas, o.Status.ObservedGeneration, o.Generation)
	case *gatewayv1.HTTPRoute:
		obj, what = "route", shape(o)
	case *flaggerv1.Canary:
		st := o.Status
		obj = "canary"
		what = fmt.Sprintf("%s weight=%d iterations=%d failedChecks=%d", st.Phase, st.CanaryWeight, st.Iterations, st.FailedChecks)
		if o.DeletionTimestamp != nil {
			what += " deleting"
		}
	}
	if ev.typ == watch.Deleted {
		what = "deleted"
	}
	if r.lastOf[obj] == what {
		return
	}
	r.lastOf[obj] = what
	r.versions = append(r.versions, fmt.Sprintf("rv %d %s: %s", ev.rv, obj, what))
}

// checkTraffic checks the route against the ready pods at version rv. A
// Deployment scaled to zero has no ready pod from the moment its spec
// says so, whatever its status still claims.
func (r *recorder) checkTraffic(rv uint64) {
	if r.route == nil {
		r.lastBadAt = ""
		return
	}
	var bad []string
	for _, rule := range r.route.Spec.Rules {
		for _, ref := range rule.BackendRefs {
			dep, ok := backends[string(ref.Name)]
			if !ok || weightOf(ref) == 0 || r.ready(dep) > 0 {
				continue
			}
			bad = append(bad, fmt.Sprintf("%d%% to %s while %s has no ready pod", weightOf(ref), ref.Name, dep))
		}
	}
	msg := strings.Join(bad, "; ")
	if msg != "" && msg != r.lastBadAt {
		r.unready = append(r.unready, fmt.Sprintf("rv %d: %s (route %s)", rv, msg, shape(r.route)))
	}
	r.lastBadAt = msg
}

// asDeployment describes a DaemonSet in the terms the invariants use: the
// template its revision is made of (the operator's hash of it is the
// revision's), one replica per node that should run its pod (none once
// scaled to zero, whatever its status still claims) and its ready pods.
func asDeployment(ds *appsv1.DaemonSet) *appsv1.Deployment {
	replicas := ds.Status.DesiredNumberScheduled
	if canary.ScaledToZero(ds) {
		replicas = 0
	}
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{Kind: "DaemonSet"},
		ObjectMeta: ds.ObjectMeta,
		Spec:       appsv1.DeploymentSpec{Replicas: &replicas, Template: *canary.DaemonSetRevisionTemplate(ds)},
		Status:     appsv1.DeploymentStatus{ReadyReplicas: ds.Status.NumberReady, ObservedGeneration: ds.Status.ObservedGeneration},
	}
}

func (r *recorder) ready(name string) int32 {
	d, ok := r.deps[name]
	if !ok || (d.Spec.Replicas != nil && *d.Spec.Replicas == 0) {
		return 0
	}
	return d.Status.ReadyReplicas
}

// view is what scenarios look at to script the world.
type view struct {
	phase        flaggerv1.CanaryPhase
	canaryWeight int // the route's
	target       string
	primary      string
	targetReady  int32
	// targetReplicas is the target's spec.replicas.
	targetReplicas int32
	canaryGone     bool
	// maxCanary is the largest canary weight the route has given so far.
	maxCanary int
}

// view drains the events received and returns the current state.
func (r *recorder) view() view {
	r.drain()
	r.mu.Lock()
	defer r.mu.Unlock()
	v := view{canaryGone: r.canaryGone, targetReady: r.ready(targetName)}
	if r.cd != nil {
		v.phase = r.cd.Status.Phase
	}
	if d := r.deps[targetName]; d != nil {
		v.target = imageOf(&d.Spec.Template)
		v.targetReplicas = 1
		if d.Spec.Replicas != nil {
			v.targetReplicas = *d.Spec.Replicas
		}
	}
	if d := r.deps[primaryName]; d != nil {
		v.primary = imageOf(&d.Spec.Template)
	}
	if r.route != nil {
		v.canaryWeight = canaryWeightOf(r.route)
	}
	v.maxCanary = r.maxCanary
	return v
}

// unanalysed returns the templates the primary ran unanalysed: copied to
// it without the canary's status recording them as promoted (lastAppliedSpec
// when Promoting, Finalising or Succeeded) by its next version at the
// latest, or that the metrics server was never asked about while the
// target ran them (skipAnalysis asks nothing). The primary's first
// template counts as analysed.
func (r *recorder) unanalysed(queried func(image string) bool, skipAnalysis bool) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := slices.Clone(r.unconfirmed)
	if r.copied != "" && !r.analysed(r.copied) {
		out = append(out, short(r.copied)+" (never recorded as promoted)")
	}
	for _, img := range r.primaryImages {
		if img != r.initial && !skipAnalysis && !queried(img) {
			out = append(out, short(img)+" (no metric was queried while the target ran it)")
		}
	}
	return out
}

// history returns the recorded sequences.
func (r *recorder) history() (shapes, phases, primary, unready, versions []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.shapes), slices.Clone(r.phases), slices.Clone(r.primaryImages), slices.Clone(r.unready),
		slices.Clone(r.versions)
}

// shape renders a route's backends and mirrors, e.g.
// "primary=75,canary=25 | primary=100 mirror(canary,50%)", or with the
// judge's baseline "primary=80,canary=10,baseline=10".
func shape(route *gatewayv1.HTTPRoute) string {
	var rules []string
	for _, rule := range route.Spec.Rules {
		var refs []string
		for _, ref := range rule.BackendRefs {
			refs = append(refs, fmt.Sprintf("%s=%d", strings.TrimPrefix(string(ref.Name), "podinfo-"), weightOf(ref)))
		}
		s := strings.Join(refs, ",")
		for _, f := range rule.Filters {
			if f.Type == gatewayv1.HTTPRouteFilterRequestMirror && f.RequestMirror != nil {
				pct := 100
				if f.RequestMirror.Percent != nil {
					pct = int(*f.RequestMirror.Percent)
				}
				s += fmt.Sprintf(" mirror(%s,%d%%)", strings.TrimPrefix(string(f.RequestMirror.BackendRef.Name), "podinfo-"), pct)
			}
		}
		rules = append(rules, s)
	}
	return strings.Join(rules, " | ")
}

// canaryWeightOf is the largest weight any rule gives the canary.
func canaryWeightOf(route *gatewayv1.HTTPRoute) int {
	w := 0
	for _, rule := range route.Spec.Rules {
		for _, ref := range rule.BackendRefs {
			if backends[string(ref.Name)] == targetName {
				w = max(w, weightOf(ref))
			}
		}
	}
	return w
}

func weightOf(ref gatewayv1.HTTPBackendRef) int {
	if ref.Weight == nil {
		return 1
	}
	return int(*ref.Weight)
}

// appendNew appends s unless it repeats the last element.
func appendNew(list []string, s string) []string {
	if len(list) > 0 && list[len(list)-1] == s {
		return list
	}
	return append(list, s)
}
