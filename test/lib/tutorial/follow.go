package tutorial

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/test/lib/splitmeter"
)

// Release changes podinfo's image (and environment), as `kubectl set image` (and `kubectl set
// env`) would, in a single update so that it makes one new revision.
func (e *Env) Release(ctx context.Context, ns, image string, env map[string]string) error {
	container := map[string]any{"name": "podinfod", "image": image}
	var vars []string
	if len(env) > 0 {
		var list []map[string]string
		for k, v := range env {
			list = append(list, map[string]string{"name": k, "value": v})
			vars = append(vars, k+"="+v)
		}
		container["env"] = list
	}
	patch, err := json.Marshal(map[string]any{"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
		"containers": []any{container},
	}}}})
	if err != nil {
		return err
	}
	e.Printf("$ kubectl -n %s set image deployment/podinfo podinfod=%s", ns, image)
	if len(vars) > 0 {
		e.Printf("$ kubectl -n %s set env deployment/podinfo %s   # in the same update", ns, strings.Join(vars, " "))
	}
	_, err = e.Stack.Kube.AppsV1().Deployments(ns).Patch(ctx, "podinfo", types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	return err
}

// WaitPhase waits until the canary reaches one of phases and returns it.
func (e *Env) WaitPhase(ctx context.Context, ns string, timeout time.Duration, phases ...flaggerv1.CanaryPhase) (*flaggerv1.Canary, error) {
	var cd *flaggerv1.Canary
	err := poll(ctx, timeout, func() (bool, string, error) {
		var err error
		cd, err = e.Flagger.FlaggerV1beta1().Canaries(ns).Get(ctx, "podinfo", metav1.GetOptions{})
		if err != nil {
			return false, "", err
		}
		for _, p := range phases {
			if cd.Status.Phase == p {
				return true, "", nil
			}
		}
		return false, fmt.Sprintf("canary %s/podinfo is %s", ns, cd.Status.Phase), nil
	})
	return cd, err
}

// Follow reports a release until done says the canary has reached the state awaited: phase
// changes, new events, and HTTPRoute weight changes, at each of which it opens a new window of
// the meter and reports the one that closed. It returns the last canary seen.
func (e *Env) Follow(ctx context.Context, ns string, timeout time.Duration, meter *splitmeter.Meter, done func(*flaggerv1.Canary) bool) (*flaggerv1.Canary, error) {
	// Events are reported from the second Follow starts in (their times have that resolution).
	f := &follower{env: e, ns: ns, meter: meter, seen: map[types.UID]int32{}, since: time.Now().Truncate(time.Second)}
	_, f.weight, _ = e.RouteWeights(ctx, ns)
	var last *flaggerv1.Canary
	err := poll(ctx, timeout, func() (bool, string, error) {
		cd, err := e.Flagger.FlaggerV1beta1().Canaries(ns).Get(ctx, "podinfo", metav1.GetOptions{})
		if err != nil {
			return false, "", err
		}
		last = cd
		f.events(ctx)
		f.route(ctx)
		if cd.Status.Phase != f.phase {
			f.phase = cd.Status.Phase
			e.Printf("    canary %s/podinfo: %s (weight %d, failed checks %d)", ns, cd.Status.Phase, cd.Status.CanaryWeight, cd.Status.FailedChecks)
		}
		return done(cd), fmt.Sprintf("canary %s/podinfo is %s at weight %d", ns, cd.Status.Phase, cd.Status.CanaryWeight), nil
	})
	if w := meter.Windows(); len(w) > 0 {
		e.Printf("    gateway: %s", w[len(w)-1])
	}
	return last, err
}

// follower remembers what Follow has already reported.
type follower struct {
	env    *Env
	ns     string
	meter  *splitmeter.Meter
	phase  flaggerv1.CanaryPhase
	seen   map[types.UID]int32 // event -> count reported
	since  time.Time
	weight int // the canary weight of the open window
}

// events prints the canary's events not printed yet, oldest first, as `kubectl describe` lists them.
func (f *follower) events(ctx context.Context) {
	list, err := f.env.Stack.Kube.CoreV1().Events(f.ns).List(ctx, metav1.ListOptions{
		FieldSelector: "involvedObject.kind=Canary,involvedObject.name=podinfo",
	})
	if err != nil {
		return
	}
	items := list.Items
	sort.SliceStable(items, func(i, j int) bool { return eventTime(items[i]).Before(eventTime(items[j])) })
	for _, ev := range items {
		if eventTime(ev).Before(f.since) {
			continue
		}
		// An event that happens again comes back with a higher count: report it again.
		count := max(ev.Count, 1)
		if f.seen[ev.UID] == count {
			continue
		}
		f.seen[ev.UID] = count
		f.env.Printf("    event  %-7s %-8s %s", ev.Type, ev.Reason, ev.Message)
	}
}

func eventTime(ev corev1.Event) time.Time {
	if !ev.LastTimestamp.IsZero() {
		return ev.LastTimestamp.Time
	}
	return ev.EventTime.Time
}

// route reads the HTTPRoute's weights and, when the canary's changed, opens a meter window.
func (f *follower) route(ctx context.Context) {
	primary, canary, ok := f.env.RouteWeights(ctx, f.ns)
	if !ok || canary == f.weight {
		return
	}
	if w := f.meter.Windows(); len(w) > 0 {
		f.env.Printf("    gateway: %s", w[len(w)-1])
	}
	f.weight = canary
	f.meter.Mark(fmt.Sprintf("canary %d%%", canary), canary)
	f.env.Printf("    HTTPRoute %s/podinfo weights: podinfo-primary=%d podinfo-canary=%d", f.ns, primary, canary)
}

// RouteWeights reads the primary and canary weights of the first rule of the HTTPRoute that
// routes to both.
func (e *Env) RouteWeights(ctx context.Context, ns string) (primary, canary int, ok bool) {
	rt, err := e.Gateway.GatewayV1().HTTPRoutes(ns).Get(ctx, "podinfo", metav1.GetOptions{})
	if err != nil {
		return 0, 0, false
	}
	return ruleWeights(rt.Spec.Rules)
}

// ruleWeights finds the weights of podinfo-primary and podinfo-canary in the first rule that
// names both.
func ruleWeights(rules []gatewayv1.HTTPRouteRule) (primary, canary int, ok bool) {
	for _, r := range rules {
		var p, c = -1, -1
		for _, b := range r.BackendRefs {
			w := 1
			if b.Weight != nil {
				w = int(*b.Weight)
			}
			switch {
			case strings.HasSuffix(string(b.Name), "-primary"):
				p = w
			case strings.HasSuffix(string(b.Name), "-canary"):
				c = w
			}
		}
		if p >= 0 && c >= 0 {
			return p, c, true
		}
	}
	return 0, 0, false
}

// Finished returns a condition for Follow: the canary has started analysing a new revision
// and has then ended, Succeeded or Failed. A canary that is still Succeeded from a previous
// release has not finished this one.
func Finished() func(*flaggerv1.Canary) bool {
	started := false
	return func(cd *flaggerv1.Canary) bool {
		switch cd.Status.Phase {
		case flaggerv1.CanaryPhaseSucceeded, flaggerv1.CanaryPhaseFailed:
			return started
		case flaggerv1.CanaryPhaseInitialized:
			return false
		default:
			started = true
			return false
		}
	}
}

// WaitIterations waits until the canary has run n analysis iterations (A/B, blue/green).
func (e *Env) WaitIterations(ctx context.Context, ns string, n int, timeout time.Duration) (*flaggerv1.Canary, error) {
	var cd *flaggerv1.Canary
	err := poll(ctx, timeout, func() (bool, string, error) {
		var err error
		cd, err = e.Flagger.FlaggerV1beta1().Canaries(ns).Get(ctx, "podinfo", metav1.GetOptions{})
		if err != nil {
			return false, "", err
		}
		return cd.Status.Iterations >= n, fmt.Sprintf("canary %s/podinfo: %s, iteration %d", ns, cd.Status.Phase, cd.Status.Iterations), nil
	})
	return cd, err
}
