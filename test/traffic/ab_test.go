package traffic

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/test/lib/splitmeter"
	"github.com/serin-dev/serin/test/lib/tutorial"
)

// abTesting turns the tutorial's Canary into its A/B test (test/testdata/
// podinfo-ab-match-canary.yaml): iterations instead of weights, and the insider header or the
// canary=always cookie send a request to the canary, and the load test sends the header. Four
// iterations keep it short.
func abTesting(cd *unstructured.Unstructured) {
	hooks, _, _ := unstructured.NestedSlice(cd.Object, "spec", "analysis", "webhooks")
	for _, h := range hooks {
		md := h.(map[string]any)["metadata"].(map[string]any)
		md["cmd"] = strings.Replace(md["cmd"].(string), "hey ", "hey -H 'X-Canary: insider' ", 1)
	}
	_ = unstructured.SetNestedSlice(cd.Object, hooks, "spec", "analysis", "webhooks")
	unstructured.RemoveNestedField(cd.Object, "spec", "analysis", "maxWeight")
	unstructured.RemoveNestedField(cd.Object, "spec", "analysis", "stepWeight")
	_ = unstructured.SetNestedField(cd.Object, int64(4), "spec", "analysis", "iterations")
	_ = unstructured.SetNestedSlice(cd.Object, []any{
		map[string]any{"headers": map[string]any{"x-canary": map[string]any{"exact": "insider"}}},
		map[string]any{"headers": map[string]any{"cookie": map[string]any{"regex": "^(.*?;)?(canary=always)(;.*)?$"}}},
	}, "spec", "analysis", "match")
}

// TestABTestingThroughTraefik checks the A/B routes with real requests: while the iterations
// run, every request with the insider header or the canary=always cookie is answered by the
// canary and every other one by the primary; then the canary is promoted.
func TestABTestingThroughTraefik(t *testing.T) {
	sc := newScenario(t, "ab", abTesting)
	insider := sc.meter(t, http.Header{"X-Canary": {"insider"}})
	// The tutorial's regex wants the cookie first or after a ';' with no space: browsers send
	// "a=1; canary=always", which it does not match (nor does it with Istio).
	cookie := sc.meter(t, http.Header{"Cookie": {"canary=always; theme=dark"}})
	everyone := sc.meter(t, nil)
	meters := []*splitmeter.Meter{insider, cookie, everyone}
	require.NoError(t, env.Release(t.Context(), sc.ns, "ghcr.io/stefanprodan/podinfo:6.0.1", nil))

	sc.waitABRoute(t)
	insider.Mark("A/B", 100)
	cookie.Mark("A/B", 100)
	everyone.Mark("A/B", 0)
	_, err := env.WaitIterations(t.Context(), sc.ns, 2, 2*time.Minute)
	require.NoError(t, err)
	for _, m := range meters {
		m.Mark("after two iterations", 0)
	}
	for name, m := range map[string]*splitmeter.Meter{"insider header": insider, "canary=always cookie": cookie, "no match": everyone} {
		w := m.Windows()[1]
		t.Logf("%s: %s", name, w)
		require.Greater(t, w.Canary+w.Primary, 100, "%s: too few answers", name)
		assert.Zero(t, w.Failed, "%s: failed requests", name)
		if w.Weight == 100 {
			assert.Zero(t, w.Primary, "%s: every matching request reaches the canary", name)
		} else {
			assert.Zero(t, w.Canary, "%s: no other request reaches the canary", name)
		}
	}

	cd, err := env.Follow(t.Context(), sc.ns, 4*time.Minute, everyone, tutorial.Finished())
	require.NoError(t, err)
	assert.Equal(t, flaggerv1.CanaryPhaseSucceeded, cd.Status.Phase)
}

// waitABRoute waits until the HTTPRoute has a rule with header matches that sends everything
// to the canary.
func (sc *scenario) waitABRoute(t *testing.T) {
	t.Helper()
	require.Eventually(t, func() bool {
		rt, err := env.Gateway.GatewayV1().HTTPRoutes(sc.ns).Get(t.Context(), "podinfo", metav1.GetOptions{})
		if err != nil {
			return false
		}
		for _, r := range rt.Spec.Rules {
			if len(r.Matches) == 0 || len(r.Matches[0].Headers) == 0 {
				continue
			}
			for _, b := range r.BackendRefs {
				if fmt.Sprint(b.Name) == "podinfo-canary" && b.Weight != nil && *b.Weight == 100 {
					return true
				}
			}
		}
		return false
	}, 2*time.Minute, 250*time.Millisecond, "the A/B rule in HTTPRoute %s/podinfo", sc.ns)
}
