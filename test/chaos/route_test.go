package chaos

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/test/lib/must"
)

// intruderWeight is the canary weight another writer sets: off the ladder (steps of 10), so
// that it can be told apart from the operator's weights.
const intruderWeight = 55

// TestRouteOverwritten has another writer change a canary's HTTPRoute at 20%, in the middle
// of the analysis: the weights set to 45/55 (off the ladder) for one canary, the canary
// backend removed for another. The operator must put its own weights back, with an event
// about the route, and go on with the ladder from where it was: no step skipped, none taken
// from the intruder's weights.
func TestRouteOverwritten(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t, "chaos-route", env.prom.URL())
	rec := record(t, ns)
	op := startOperator(t, operatorConfig{namespace: ns, promURL: env.prom.URL()})
	stopOnCleanup(t, op)
	intrusions := []struct {
		name  string
		apply func(rule *gatewayv1.HTTPRouteRule)
	}{
		{"weights", func(rule *gatewayv1.HTTPRouteRule) {
			for i := range rule.BackendRefs {
				w := int32(100 - intruderWeight)
				if strings.HasSuffix(string(rule.BackendRefs[i].Name), "-canary") {
					w = intruderWeight
				}
				rule.BackendRefs[i].Weight = new(w)
			}
		}},
		{"backend", func(rule *gatewayv1.HTTPRouteRule) {
			rule.BackendRefs = slices.DeleteFunc(rule.BackendRefs, func(b gatewayv1.HTTPBackendRef) bool {
				return strings.HasSuffix(string(b.Name), "-canary")
			})
			rule.BackendRefs[0].Weight = new(int32(100))
		}},
	}
	var (
		mu       sync.Mutex
		outcomes []string
	)
	t.Run("intrusions", func(t *testing.T) {
		for _, in := range intrusions {
			t.Run(in.name, func(t *testing.T) {
				t.Parallel()
				cd := deploy(t, newCanary(ns, in.name, ladder(10, 50)))
				waitCanary(t, ns, cd.Name, 3*time.Minute, "initialized", phaseIs(flaggerv1.CanaryPhaseInitialized))
				release(t, ns, cd.Name, image(1))
				waitWeight(t, rec, cd.Name, 20, 3*time.Minute)
				since := time.Now()
				overwriteRoute(t, ns, cd.Name, in.apply)
				restored := waitRestored(t, ns, cd.Name, 3*interval)
				var said []string
				err := must.Poll(interval, 250*time.Millisecond, func() (bool, error) {
					said = eventsSince(t, ns, cd.Name, since, "HTTPRoute")
					return len(said) > 0, nil
				})
				assert.NoError(t, err, "no event about the HTTPRoute since it was overwritten; events: %q", eventMessages(t, ns, cd.Name))
				waitCanary(t, ns, cd.Name, 3*time.Minute, "promoted", phaseIs(flaggerv1.CanaryPhaseSucceeded))
				assert.Equal(t, releaseWeights(cd, 1), withoutIntruder(rec.canaryWeights(cd.Name)), "canary weights on the route, the intruder's removed")
				assert.Equal(t, []string{firstImage, image(1)}, rec.images(cd.Name+"-primary"), "images the primary ran")
				mu.Lock()
				outcomes = append(outcomes, fmt.Sprintf("%s overwritten at 20%%: %s, events %q, weights seen %v", in.name, restored, said, rec.canaryWeights(cd.Name)))
				mu.Unlock()
			})
		}
	})
	rec.requireSound(t)
	t.Logf("RESULT route-writer: %d intrusions, 1 release each: %s", len(intrusions), strings.Join(outcomes, "; "))
}

// overwriteRoute changes the route's last rule as another controller or a person would.
func overwriteRoute(t *testing.T, ns, name string, change func(rule *gatewayv1.HTTPRouteRule)) {
	t.Helper()
	call(t, "overwrite route", func(ctx context.Context) error {
		return retry.RetryOnConflict(retry.DefaultRetry, func() error {
			route, err := env.gateway.GatewayV1().HTTPRoutes(ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			change(&route.Spec.Rules[len(route.Spec.Rules)-1])
			_, err = env.gateway.GatewayV1().HTTPRoutes(ns).Update(ctx, route, metav1.UpdateOptions{FieldManager: "chaos-intruder"})
			return err
		})
	})
}

// waitRestored waits until the route's canary weight is the one the canary's status records
// again, and says how long that took.
func waitRestored(t *testing.T, ns, name string, timeout time.Duration) string {
	t.Helper()
	began := time.Now()
	var seen string
	err := must.Poll(timeout, 250*time.Millisecond, func() (bool, error) {
		cd := getCanary(t, ns, name)
		route, err := env.gateway.GatewayV1().HTTPRoutes(ns).Get(t.Context(), name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		seen = fmt.Sprintf("route %s, status weight %d, phase %s", backendsOf(route), cd.Status.CanaryWeight, cd.Status.Phase)
		for _, b := range route.Spec.Rules[len(route.Spec.Rules)-1].BackendRefs {
			if string(b.Name) == name+"-canary" && b.Weight != nil && int(*b.Weight) == cd.Status.CanaryWeight {
				return true, nil
			}
		}
		return false, nil
	})
	if !assert.NoError(t, err, "the operator did not restore its weights within %s: %s", timeout, seen) {
		return "not restored: " + seen
	}
	return fmt.Sprintf("restored after %s (%s)", time.Since(began).Round(100*time.Millisecond), seen)
}

// backendsOf prints a route's backends and weights.
func backendsOf(route *gatewayv1.HTTPRoute) string {
	var out []string
	for _, r := range route.Spec.Rules {
		for _, b := range r.BackendRefs {
			w := int32(1)
			if b.Weight != nil {
				w = *b.Weight
			}
			out = append(out, fmt.Sprintf("%s=%d", b.Name, w))
		}
	}
	return strings.Join(out, " ")
}

// withoutIntruder drops the intruder's weight from a weight history and folds the repeats
// that leaves.
func withoutIntruder(ws []int32) []int32 {
	var out []int32
	for _, w := range ws {
		if w != intruderWeight && (len(out) == 0 || out[len(out)-1] != w) {
			out = append(out, w)
		}
	}
	return out
}

// eventsSince returns the messages of a canary's events (of either type) last seen at or
// after since that contain text.
func eventsSince(t *testing.T, ns, name string, since time.Time, text string) []string {
	t.Helper()
	var out []string
	for _, e := range events(t, ns, name) {
		if !lastSeen(e).Before(since.Truncate(time.Second)) && strings.Contains(e.Message, text) {
			out = append(out, e.Type+" "+e.Message)
		}
	}
	return out
}
