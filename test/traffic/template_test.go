package traffic

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/test/lib/must"
	"github.com/serin-dev/serin/test/lib/splitmeter"
)

// templateName is the route template Git owns; Serin renders the live route podinfo from it.
const templateName = "podinfo-template"

// TestTemplatedRouteKeepsItsRulesThroughARelease releases podinfo behind a route rendered from
// a template with two rules: everything to the apex Service with a header filter, and requests
// with x-legacy: yes to the primary Service with another one. Through the whole release, every
// answer shows its rule's header at the backend (podinfo echoes request headers at /headers),
// the split holds, and no request fails. Mid-release a second field manager (a GitOps
// controller) server-side-applies the same template without conflict, since Serin never writes
// it, and the first one then changes its header, which reaches the live route without moving
// traffic back.
func TestTemplatedRouteKeepsItsRulesThroughARelease(t *testing.T) {
	if skip != "" {
		t.Skip(skip)
	}
	t.Parallel()
	sc := &scenario{ns: "template", host: "template.example.com"}
	ctx := t.Context()
	require.NoError(t, env.InstallApp(ctx, sc.ns))
	sc.applyTemplate(t, "flux-kustomize-controller", "v1", false)
	require.NoError(t, env.ApplyCanary(ctx, sc.ns, func(cd *unstructured.Unstructured) error {
		if err := sc.retarget(cd); err != nil {
			return err
		}
		if err := unstructured.SetNestedField(cd.Object, int64(25), "spec", "analysis", "stepWeight"); err != nil {
			return err
		}
		return unstructured.SetNestedMap(cd.Object, map[string]any{
			"name": "podinfo", "templateRef": map[string]any{"name": templateName},
		}, "spec", "service", "route")
	}))
	_, err := env.WaitPhase(ctx, sc.ns, 3*time.Minute, flaggerv1.CanaryPhaseInitialized)
	require.NoError(t, err)
	require.NoError(t, env.WaitServed(ctx, sc.host, time.Minute))

	m := sc.meter(t, nil)
	headers := sc.watchHeaders(t)
	require.NoError(t, env.Release(ctx, sc.ns, "ghcr.io/stefanprodan/podinfo:6.0.1", nil))

	// At the first step, Argo CD applies the template it also tracks (the same values: they
	// share the atomic rules list, which Serin never touches), then Flux changes it (with
	// force, as Flux applies, since Argo CD co-owns the list now).
	cd := sc.followRelease(t, m, func() {
		sc.applyTemplate(t, "argocd-controller", "v1", false)
		sc.applyTemplate(t, "flux-kustomize-controller", "v2", true)
	})
	require.Equal(t, flaggerv1.CanaryPhaseSucceeded, cd.Status.Phase)
	m.Stop()
	headers.stop()

	var steps []int
	for _, w := range m.Windows() {
		t.Logf("%s", w)
		assert.Zero(t, w.Failed, "%s: failed requests by status code (0: no answer): %v", w.Label, w.Codes)
		if w.Weight > 0 {
			steps = append(steps, w.Weight)
		}
		require.GreaterOrEqual(t, w.Canary+w.Primary, 100, "%s: too few answers to measure the split", w.Label)
		// The header checks share Traefik's round robin with the meter, whose own share
		// drifts from the weight by a few points (TestPromotionUnderLoad measures it exactly).
		assert.InDelta(t, w.Weight, w.Share(), 2*windowTolerance(w), "%s", w)
	}
	assert.Equal(t, []int{25, 50}, steps, "the canary weights, in order: the template changes moved no traffic back")
	counts := headers.counts()
	t.Logf("header checks: %+v", counts)
	assert.Zero(t, counts["wrong"], "answers without their rule's header")
	assert.Zero(t, counts["failed"], "failed header checks (the last: %s)", headers.failure)
	assert.Greater(t, counts["legacy"], 50, "answers of the second rule")
	assert.True(t, headers.seen("v2"), "the template's new header reached the backend during the release")

	tmpl, err := env.Gateway.GatewayV1().HTTPRoutes(sc.ns).Get(ctx, templateName, metav1.GetOptions{})
	require.NoError(t, err)
	for _, f := range tmpl.ManagedFields {
		assert.Contains(t, []string{"argocd-controller", "flux-kustomize-controller"}, f.Manager, "the template's writers")
	}
}

// applyTemplate server-side-applies the route template as field manager, with its filters'
// header values suffixed by version: rule api sends everything to the apex Service with
// X-Route: api-<version>; rule legacy sends x-legacy: yes to the primary Service with
// X-Route: legacy-<version>. It has no parentRefs: only the live route attaches to the
// Gateway. Every default the API server would fill in is written out: the rules are an atomic
// list, which two managers share only when they apply exactly the stored value.
func (sc *scenario) applyTemplate(t *testing.T, manager, version string, force bool) {
	t.Helper()
	header := func(value string) []any {
		return []any{map[string]any{"type": "RequestHeaderModifier", "requestHeaderModifier": map[string]any{
			"set": []any{map[string]any{"name": "X-Route", "value": value}},
		}}}
	}
	backend := func(name string) []any {
		return []any{map[string]any{"group": "", "kind": "Service", "name": name, "port": 9898, "weight": 1}}
	}
	route := map[string]any{
		"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
		"metadata": map[string]any{"name": templateName, "namespace": sc.ns},
		"spec": map[string]any{
			"hostnames": []any{sc.host},
			"rules": []any{
				map[string]any{
					"name":        "api",
					"matches":     []any{map[string]any{"path": map[string]any{"type": "PathPrefix", "value": "/"}}},
					"filters":     header("api-" + version),
					"backendRefs": backend("podinfo"),
				},
				map[string]any{
					"name": "legacy",
					"matches": []any{map[string]any{
						"path":    map[string]any{"type": "PathPrefix", "value": "/"},
						"headers": []any{map[string]any{"type": "Exact", "name": "x-legacy", "value": "yes"}},
					}},
					"filters":     header("legacy-" + version),
					"backendRefs": backend("podinfo-primary"),
				},
			},
		},
	}
	body, err := json.Marshal(route)
	require.NoError(t, err)
	_, err = env.Gateway.GatewayV1().HTTPRoutes(sc.ns).Patch(t.Context(), templateName, types.ApplyPatchType, body,
		metav1.PatchOptions{FieldManager: manager, Force: &force})
	require.NoError(t, err, "server-side apply of the template by %s", manager)
}

// headerWatch asks the gateway for /headers every 50 ms, alternately without and with
// x-legacy: yes, and counts the answers by the X-Route header the backend received.
type headerWatch struct {
	mu     sync.Mutex
	count  map[string]int
	values map[string]bool
	// failure describes the last failed check.
	failure string
	done    chan struct{}
	wg      sync.WaitGroup
}

func (sc *scenario) watchHeaders(t *testing.T) *headerWatch {
	h := &headerWatch{count: map[string]int{}, values: map[string]bool{}, done: make(chan struct{})}
	client := &http.Client{Timeout: 2 * time.Second}
	h.wg.Go(func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-h.done:
				return
			case <-tick.C:
			}
			h.check(client, sc.host, i%2 == 1)
		}
	})
	t.Cleanup(h.stop)
	return h
}

// check sends one request and counts its answer: api or legacy when the backend saw that
// rule's header, wrong when it saw another or none, failed without a 200.
func (h *headerWatch) check(client *http.Client, host string, legacy bool) {
	req, err := http.NewRequest(http.MethodGet, env.Stack.GatewayURL+"/headers", nil)
	if err != nil {
		return
	}
	req.Host = host
	want := "api-"
	if legacy {
		req.Header.Set("x-legacy", "yes")
		want = "legacy-"
	}
	resp, err := client.Do(req)
	kind := "failed"
	var got, failure string
	if err != nil {
		failure = err.Error()
	} else {
		failure = resp.Status
		var echoed map[string][]string
		if resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(&echoed) == nil {
			if v := echoed["X-Route"]; len(v) == 1 {
				got = v[0]
			}
			kind = "wrong"
			if len(got) > len(want) && got[:len(want)] == want {
				kind = want[:len(want)-1]
			}
		}
		resp.Body.Close()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.count[kind]++
	if kind == "failed" {
		h.failure = failure
	}
	if got != "" {
		h.values[got[len(got)-2:]] = true
	}
}

// seen reports whether an answer carried a header of the template's version.
func (h *headerWatch) seen(version string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.values[version]
}

func (h *headerWatch) counts() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[string]int, len(h.count))
	for k, v := range h.count {
		out[k] = v
	}
	return out
}

func (h *headerWatch) stop() {
	select {
	case <-h.done:
	default:
		close(h.done)
	}
	h.wg.Wait()
}

// followRelease follows the release to its end, opening a meter window at each change of the
// route's canary weight, calls atFirstStep once when the first weight step is live, and
// returns the final canary.
func (sc *scenario) followRelease(t *testing.T, m *splitmeter.Meter, atFirstStep func()) *flaggerv1.Canary {
	t.Helper()
	ctx := t.Context()
	weight, stepped := 0, false
	var cd *flaggerv1.Canary
	must.Eventually(t, 4*time.Minute, 250*time.Millisecond, func() (bool, error) {
		if _, w, ok := env.RouteWeights(ctx, sc.ns); ok && w != weight {
			weight = w
			m.Mark(fmt.Sprintf("canary %d%%", w), w)
			if w > 0 && !stepped {
				stepped = true
				atFirstStep()
			}
		}
		var err error
		cd, err = env.Flagger.FlaggerV1beta1().Canaries(sc.ns).Get(ctx, "podinfo", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		done := cd.Status.Phase == flaggerv1.CanaryPhaseSucceeded || cd.Status.Phase == flaggerv1.CanaryPhaseFailed
		return done, fmt.Errorf("canary %s/podinfo is %s at weight %d", sc.ns, cd.Status.Phase, cd.Status.CanaryWeight)
	}, "the release of %s/podinfo", sc.ns)
	return cd
}
