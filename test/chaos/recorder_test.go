package chaos

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// recorder follows the HTTPRoutes, Deployments and Canaries of a namespace through watches
// and keeps every version it sees, stamped with its resourceVersion. All three live in one
// etcd, whose revisions order every write of the cluster, so the histories can be lined up
// exactly afterwards: "this route sent traffic to that Deployment while it had no ready
// replica" is decided on revisions, not on when the test happened to look.
type recorder struct {
	namespace string
	mu        sync.Mutex
	history   map[string][]version // by kind/name, in revision order
	// gaps counts the times a watch could not resume where it stopped (410 Gone after an
	// API server restart) and the namespace was listed again: a version that lived only
	// between the two would be missed.
	gaps   int
	errs   []string
	cancel context.CancelFunc
	done   sync.WaitGroup
}

// version is one version of an object, or its deletion.
type version struct {
	rv      uint64
	at      time.Time
	deleted bool
	route   []backend   // HTTPRoute: its backends, rule by rule
	deploy  deployState // Deployment
	canary  canaryState // Canary
}

// backend is a backendRef of a route rule and its weight.
type backend struct {
	rule   int
	name   string
	weight int32
}

type deployState struct {
	ready int32
	image string
}

type canaryState struct {
	phase        flaggerv1.CanaryPhase
	weight       int
	failedChecks int
}

// record starts following a namespace until the test ends. Start it before creating the
// objects it should judge.
func record(t *testing.T, namespace string) *recorder {
	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	r := &recorder{namespace: namespace, history: map[string][]version{}, cancel: cancel}
	for _, s := range r.sources() {
		r.done.Go(func() { r.follow(ctx, s) })
	}
	t.Cleanup(r.stop)
	return r
}

// stop ends the watches.
func (r *recorder) stop() {
	r.cancel()
	r.done.Wait()
}

// source lists and watches one kind in the namespace.
type source struct {
	kind  string
	list  func(ctx context.Context) (runtime.Object, error)
	watch func(ctx context.Context, rv string) (watch.Interface, error)
}

func (r *recorder) sources() []source {
	ns := r.namespace
	opts := func(rv string) metav1.ListOptions {
		return metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true}
	}
	return []source{
		{
			kind: "HTTPRoute",
			list: func(ctx context.Context) (runtime.Object, error) {
				return env.gateway.GatewayV1().HTTPRoutes(ns).List(ctx, metav1.ListOptions{})
			},
			watch: func(ctx context.Context, rv string) (watch.Interface, error) {
				return env.gateway.GatewayV1().HTTPRoutes(ns).Watch(ctx, opts(rv))
			},
		},
		{
			kind: "Deployment",
			list: func(ctx context.Context) (runtime.Object, error) {
				return env.kube.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
			},
			watch: func(ctx context.Context, rv string) (watch.Interface, error) {
				return env.kube.AppsV1().Deployments(ns).Watch(ctx, opts(rv))
			},
		},
		{
			kind: "Canary",
			list: func(ctx context.Context) (runtime.Object, error) {
				return env.flagger.FlaggerV1beta1().Canaries(ns).List(ctx, metav1.ListOptions{})
			},
			watch: func(ctx context.Context, rv string) (watch.Interface, error) {
				return env.flagger.FlaggerV1beta1().Canaries(ns).Watch(ctx, opts(rv))
			},
		},
	}
}

// follow lists, then watches from the list's revision, resuming from the last revision seen
// whenever the watch ends; after a 410 Gone it lists again and counts a gap.
func (r *recorder) follow(ctx context.Context, s source) {
	rv := ""
	for ctx.Err() == nil {
		if rv == "" {
			list, err := s.list(ctx)
			if err != nil {
				pause(ctx)
				continue
			}
			rv = r.relist(s.kind, list)
		}
		w, err := s.watch(ctx, rv)
		if err != nil {
			if apierrors.IsGone(err) || apierrors.IsResourceExpired(err) {
				r.gap()
				rv = ""
			}
			pause(ctx)
			continue
		}
		rv = r.drain(s.kind, w, rv)
		w.Stop()
	}
}

// drain records a watch's events until it ends and returns the revision to resume from,
// or "" to list again.
func (r *recorder) drain(kind string, w watch.Interface, rv string) string {
	for ev := range w.ResultChan() {
		switch ev.Type {
		case watch.Error:
			err := apierrors.FromObject(ev.Object)
			if apierrors.IsGone(err) || apierrors.IsResourceExpired(err) {
				r.gap()
				return ""
			}
			r.fail(fmt.Errorf("%s watch: %w", kind, err))
			return rv
		case watch.Bookmark:
			if m, err := meta.Accessor(ev.Object); err == nil {
				rv = m.GetResourceVersion()
			}
		default:
			if m, err := meta.Accessor(ev.Object); err == nil {
				rv = m.GetResourceVersion()
			}
			r.add(kind, ev.Object, ev.Type == watch.Deleted)
		}
	}
	return rv
}

// relist records a list: objects changed since their last recorded version, and the
// deletion of those that are gone. It returns the list's revision.
func (r *recorder) relist(kind string, list runtime.Object) string {
	items, _ := meta.ExtractList(list)
	seen := map[string]bool{}
	for _, item := range items {
		m, err := meta.Accessor(item)
		if err != nil {
			continue
		}
		seen[kind+"/"+m.GetName()] = true
		r.add(kind, item, false)
	}
	listMeta, _ := meta.ListAccessor(list)
	listRV := parseRV(listMeta.GetResourceVersion())
	r.mu.Lock()
	for key, h := range r.history {
		if strings.HasPrefix(key, kind+"/") && !seen[key] && !h[len(h)-1].deleted {
			r.history[key] = append(h, version{rv: listRV, at: time.Now(), deleted: true})
		}
	}
	r.mu.Unlock()
	return listMeta.GetResourceVersion()
}

// add records a version, unless the history has it already.
func (r *recorder) add(kind string, obj runtime.Object, deleted bool) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return
	}
	v := version{rv: parseRV(m.GetResourceVersion()), at: time.Now(), deleted: deleted}
	switch o := obj.(type) {
	case *gatewayv1.HTTPRoute:
		for i, rule := range o.Spec.Rules {
			for _, b := range rule.BackendRefs {
				w := int32(1)
				if b.Weight != nil {
					w = *b.Weight
				}
				v.route = append(v.route, backend{rule: i, name: string(b.Name), weight: w})
			}
		}
	case *appsv1.Deployment:
		v.deploy = deployState{ready: o.Status.ReadyReplicas}
		if cs := o.Spec.Template.Spec.Containers; len(cs) > 0 {
			v.deploy.image = cs[0].Image
		}
	case *flaggerv1.Canary:
		v.canary = canaryState{phase: o.Status.Phase, weight: o.Status.CanaryWeight, failedChecks: o.Status.FailedChecks}
	}
	key := kind + "/" + m.GetName()
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.history[key]
	if n := len(h); n > 0 && h[n-1].rv >= v.rv {
		return
	}
	r.history[key] = append(h, v)
}

func (r *recorder) gap() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gaps++
}

func (r *recorder) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, err.Error())
}

// versions returns a copy of an object's history.
func (r *recorder) versions(kind, name string) []version {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.history[kind+"/"+name])
}

// canaryWeights returns the successive weights of the canary backend of a canary's route
// (consecutive repeats folded), as the HTTPRoute carried them.
func (r *recorder) canaryWeights(name string) []int32 {
	var out []int32
	for _, v := range r.versions("HTTPRoute", name) {
		if v.deleted {
			continue
		}
		for _, b := range v.route {
			if b.name == name+"-canary" {
				if n := len(out); n == 0 || out[n-1] != b.weight {
					out = append(out, b.weight)
				}
			}
		}
	}
	return out
}

// weightChanges returns when each change of the canary backend's weight was seen, and the
// weight it changed to.
func (r *recorder) weightChanges(name string) ([]time.Time, []int32) {
	var at []time.Time
	var ws []int32
	for _, v := range r.versions("HTTPRoute", name) {
		for _, b := range v.route {
			if b.name == name+"-canary" && (len(ws) == 0 || ws[len(ws)-1] != b.weight) {
				at = append(at, v.at)
				ws = append(ws, b.weight)
			}
		}
	}
	return at, ws
}

// images returns the successive images of a Deployment's template (repeats folded).
func (r *recorder) images(deployment string) []string {
	var out []string
	for _, v := range r.versions("Deployment", deployment) {
		if v.deleted {
			continue
		}
		if n := len(out); n == 0 || out[n-1] != v.deploy.image {
			out = append(out, v.deploy.image)
		}
	}
	return out
}

// phases returns the successive phases of a canary (repeats folded).
func (r *recorder) phases(name string) []string {
	var out []string
	for _, v := range r.versions("Canary", name) {
		p := string(v.canary.phase)
		if v.deleted {
			p = "deleted"
		}
		if n := len(out); n == 0 || out[n-1] != p {
			out = append(out, p)
		}
	}
	return out
}

// unreadyTraffic returns every span of revisions in which a route of the namespace gave a
// weight above zero to a Service whose Deployment had no ready replica (or did not exist).
// The backend Services are named after their Deployments: <app>-primary selects the
// Deployment <app>-primary, <app>-canary the target <app>.
func (r *recorder) unreadyTraffic() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for key, routeHistory := range r.history {
		route, ok := strings.CutPrefix(key, "HTTPRoute/")
		if !ok {
			continue
		}
		for i, rv := range routeHistory {
			if rv.deleted {
				continue
			}
			end := uint64(math.MaxUint64)
			if i+1 < len(routeHistory) {
				end = routeHistory[i+1].rv
			}
			for _, b := range rv.route {
				if b.weight <= 0 {
					continue
				}
				deployment := strings.TrimSuffix(b.name, "-canary")
				for _, span := range unreadySpans(r.history["Deployment/"+deployment]) {
					if rv.rv < span[1] && span[0] < end {
						out = append(out, fmt.Sprintf("HTTPRoute %s (revisions %d-%s, seen %s) sends %d%% to %s while Deployment %s has no ready replica (revisions %d-%s)",
							route, rv.rv, rvString(end), rv.at.Format("15:04:05.000"), b.weight, b.name, deployment, span[0], rvString(span[1])))
					}
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// unreadySpans returns the revision spans [from, to) in which a Deployment had no ready
// replica: before it was created, while its readyReplicas was 0, after it was deleted.
func unreadySpans(h []version) [][2]uint64 {
	if len(h) == 0 {
		return [][2]uint64{{0, math.MaxUint64}}
	}
	spans := [][2]uint64{{0, h[0].rv}}
	for i, v := range h {
		if !v.deleted && v.deploy.ready > 0 {
			continue
		}
		end := uint64(math.MaxUint64)
		if i+1 < len(h) {
			end = h[i+1].rv
		}
		spans = append(spans, [2]uint64{v.rv, end})
	}
	return spans
}

// requireSound fails the test if a watch failed or a route ever sent traffic to a
// Deployment without ready replicas.
func (r *recorder) requireSound(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	errs, gaps := slices.Clone(r.errs), r.gaps
	r.mu.Unlock()
	assert.Empty(t, errs, "watch errors")
	if gaps > 0 {
		t.Logf("recorder: %d watch gap(s) (410 Gone, listed again)", gaps)
	}
	assert.Empty(t, r.unreadyTraffic(), "traffic sent to Deployments with no ready replica")
}

func rvString(rv uint64) string {
	if rv == math.MaxUint64 {
		return "now"
	}
	return strconv.FormatUint(rv, 10)
}

func parseRV(s string) uint64 {
	v, _ := strconv.ParseUint(s, 10, 64)
	return v
}

// pause waits a little before retrying, or until ctx ends.
func pause(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-time.After(500 * time.Millisecond):
	}
}
