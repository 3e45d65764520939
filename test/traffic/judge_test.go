package traffic

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// The judge's releases (issue 14) on real traffic: Traefik counts each backend Service's
// requests by status code, the judge compares the canary's 5xx share with the baseline's.

const (
	podinfoV0 = "ghcr.io/stefanprodan/podinfo:6.0.0"
	podinfoV1 = "ghcr.io/stefanprodan/podinfo:6.0.1"
	// judgeRPS is each judge scenario's load through the gateway: enough for the judge to
	// decide within the ladder (about 60 requests per arm and tick at the first step).
	judgeRPS = 600
)

// armService matches Traefik's name for an arm's backend Service, <namespace>-<service>-
// <port name>-<port>@kubernetesgateway, from {{ workload }}: the canary arm's Deployment is
// podinfo but its Service podinfo-canary, the baseline's are both podinfo-baseline. With a
// per-arm {{ service }} the optional "canary-" would go.
const armService = `{{ namespace }}-{{ workload }}-(canary-)?http-[0-9]+@kubernetesgateway`

// judgeTemplates are the judge's count templates over Traefik's counters: the 5xx answers,
// the slow answers and all the answers of one arm, cumulative (the judge takes the
// differences). "or vector(0)":
// Traefik has no series for a Service before its first request.
func judgeTemplates(ns, prometheus string) []*unstructured.Unstructured {
	template := func(name, query string) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "flagger.app/v1beta1", "kind": "MetricTemplate",
			"metadata": map[string]any{"name": name, "namespace": ns},
			"spec": map[string]any{
				"provider": map[string]any{"type": "prometheus", "address": prometheus},
				"query":    query,
			},
		}}
	}
	return []*unstructured.Unstructured{
		template("judge-errors", `sum(traefik_service_requests_total{service=~"`+armService+`",code=~"5.."}) or vector(0)`),
		template("judge-requests", `sum(traefik_service_requests_total{service=~"`+armService+`"}) or vector(0)`),
		// Requests slower than 100 ms, Traefik's first bucket.
		template("judge-slow", `sum(traefik_service_request_duration_seconds_count{service=~"`+armService+`"})`+
			` - sum(traefik_service_request_duration_seconds_bucket{service=~"`+armService+`",le="0.1"}) or vector(0)`),
	}
}

// judged turns the tutorial's Canary into a judged one: a baseline, steps of 5% up to 50%
// (ten steps: the judge needs ticks to decide, a fixed threshold only one), the judge's
// defaults but 500 requests per arm, and the errors compared with the baseline's instead of
// the fixed error-rate check (which fixedThreshold evaluates on the side). The latency check
// stays.
func judged(early bool) func(cd *unstructured.Unstructured) {
	return func(cd *unstructured.Unstructured) {
		_ = unstructured.SetNestedField(cd.Object, int64(5), "spec", "analysis", "stepWeight")
		_ = unstructured.SetNestedMap(cd.Object, map[string]any{
			"baseline": true, "earlyPromotion": early, "minRequests": int64(500),
		}, "spec", "analysis", "judge")
		metrics, _, _ := unstructured.NestedSlice(cd.Object, "spec", "analysis", "metrics")
		kept := []any{map[string]any{
			"name":        "errors",
			"templateRef": map[string]any{"name": "judge-errors"},
			"compare": map[string]any{
				"kind": "count", "totalTemplateRef": map[string]any{"name": "judge-requests"},
			},
		}}
		for _, m := range metrics {
			if m.(map[string]any)["name"] != "error-rate" {
				kept = append(kept, m)
			}
		}
		_ = unstructured.SetNestedSlice(cd.Object, kept, "spec", "analysis", "metrics")
	}
}

// newJudgeScenario installs podinfo, the judge's templates and the judged Canary in namespace
// ns, and waits until the canary is initialized and served.
func newJudgeScenario(t *testing.T, ns string, early bool, edits ...func(*unstructured.Unstructured)) *scenario {
	t.Helper()
	if skip != "" {
		t.Skip(skip)
	}
	t.Parallel()
	sc := &scenario{ns: ns, host: ns + ".example.com"}
	ctx := t.Context()
	require.NoError(t, env.InstallApp(ctx, ns))
	require.NoError(t, env.Stack.Apply(ctx, ns, judgeTemplates(ns, env.Stack.PrometheusURL)...))
	require.NoError(t, env.ApplyCanary(ctx, ns, func(cd *unstructured.Unstructured) error {
		if err := sc.retarget(cd); err != nil {
			return err
		}
		judged(early)(cd)
		for _, edit := range edits {
			edit(cd)
		}
		return nil
	}))
	_, err := env.WaitPhase(ctx, ns, 3*time.Minute, flaggerv1.CanaryPhaseInitialized)
	require.NoError(t, err)
	require.NoError(t, env.WaitServed(ctx, sc.host, time.Minute))
	return sc
}

// judgeRun is what a judged release did, timed from the release.
type judgeRun struct {
	phase flaggerv1.CanaryPhase
	// verdict and message are the judge's last for the metric followed.
	verdict, message string
	// baselineAt is when the route first gave the baseline weight, decidedAt when the judge
	// first said Pass or Fail, endedAt when the canary reached Succeeded or Failed.
	baselineAt, decidedAt, endedAt time.Duration
	// maxCanary is the largest canary weight the route gave.
	maxCanary int
}

func (r judgeRun) String() string {
	decided := "the judge did not decide"
	if r.decidedAt > 0 {
		decided = fmt.Sprintf("judge %s at %s", r.verdict, r.decidedAt.Round(time.Second))
	}
	return fmt.Sprintf("%s after %s (baseline routed at %s, %s, canary weight up to %d%%): %s",
		r.phase, r.endedAt.Round(time.Second), r.baselineAt.Round(time.Second), decided, r.maxCanary, r.message)
}

// followJudge releases image with vars and follows the release and the judge's errors metric
// to the end.
func (sc *scenario) followJudge(t *testing.T, image string, vars map[string]string) judgeRun {
	t.Helper()
	return sc.followJudgeMetric(t, "errors", image, vars)
}

// followJudgeMetric releases image with vars and follows the release and the judge's verdicts
// on metric to the end.
func (sc *scenario) followJudgeMetric(t *testing.T, metric, image string, vars map[string]string) judgeRun {
	t.Helper()
	ctx := t.Context()
	start := time.Now()
	require.NoError(t, env.Release(ctx, sc.ns, image, vars))
	var run judgeRun
	started := false
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		cd, err := env.Flagger.FlaggerV1beta1().Canaries(sc.ns).Get(ctx, "podinfo", metav1.GetOptions{})
		require.NoError(t, err)
		since := time.Since(start)
		if canary, baseline, ok := sc.weights(ctx); ok {
			run.maxCanary = max(run.maxCanary, canary)
			if baseline > 0 && run.baselineAt == 0 {
				run.baselineAt = since
				env.Printf("    [%s] %s: the baseline gets %d%%", since.Round(time.Second), sc.ns, baseline)
			}
		}
		for _, j := range cd.Status.Judge {
			if j.Metric != metric {
				continue
			}
			if j.Verdict != run.verdict {
				env.Printf("    [%s] %s: judge %s %s (%s): %s", since.Round(time.Second), sc.ns, metric, j.Verdict, j.Reason, j.Message)
			}
			run.verdict, run.message = j.Verdict, j.Message
			if (j.Verdict == "Pass" || j.Verdict == "Fail") && run.decidedAt == 0 {
				run.decidedAt = since
			}
		}
		switch cd.Status.Phase {
		case flaggerv1.CanaryPhaseSucceeded, flaggerv1.CanaryPhaseFailed:
			if started {
				run.phase, run.endedAt = cd.Status.Phase, since
				return run
			}
		case flaggerv1.CanaryPhaseInitialized:
		default:
			started = true
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("%s: the release did not end within 5 minutes: %s", sc.ns, run)
	return run
}

// logCounts logs what Traefik counted for the scenario's backend Services, by status code.
func (sc *scenario) logCounts(t *testing.T) {
	for _, code := range []string{"2..", "5.."} {
		for _, svc := range []string{"primary", "canary", "baseline"} {
			v, err := promValue(t.Context(), env.Stack.PrometheusURL, fmt.Sprintf(
				`sum(traefik_service_requests_total{service=~"%s-podinfo-%s-http-[0-9]+@kubernetesgateway",code=~"%s"})`, sc.ns, svc, code))
			if err == nil {
				t.Logf("Traefik counted %.0f answers %s from podinfo-%s", v, code, svc)
			}
		}
	}
}

// weights reads the canary's and the baseline's weights in the route's weighted rule.
func (sc *scenario) weights(ctx context.Context) (canary, baseline int, ok bool) {
	rt, err := env.Gateway.GatewayV1().HTTPRoutes(sc.ns).Get(ctx, "podinfo", metav1.GetOptions{})
	if err != nil {
		return 0, 0, false
	}
	for _, r := range rt.Spec.Rules {
		for _, b := range r.BackendRefs {
			w := 1
			if b.Weight != nil {
				w = int(*b.Weight)
			}
			switch {
			case strings.HasSuffix(string(b.Name), "-canary"):
				canary, ok = max(canary, w), true
			case strings.HasSuffix(string(b.Name), "-baseline"):
				baseline = max(baseline, w)
			}
		}
	}
	return canary, baseline, ok
}

// startJudgeLoad starts the scenario's mixed load and the fixed threshold's evaluation beside
// it; both stop with the test.
func (sc *scenario) startJudgeLoad(t *testing.T, always, health float64) (*mix, *fixedThreshold) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	m := &mix{rps: judgeRPS, always: always, health: health, host: sc.host, gateway: env.Stack.GatewayURL}
	mixLoad(ctx, m)
	f := &fixedThreshold{prometheus: env.Stack.PrometheusURL, ns: sc.ns, max: 1, threshold: 5}
	f.watch(ctx, 10*time.Second)
	return m, f
}

// TestJudgePassesAAEarly releases the version in production again (a new revision of the same
// image) for an application that fails 3% of its requests whatever the version: the judge
// finds the canary no worse than the baseline and, with earlyPromotion, promotes it before the
// last step. The tutorial's fixed check (error rate max 1) would roll back every release of
// such an application; it is measured on the side, not asserted.
func TestJudgePassesAAEarly(t *testing.T) {
	sc := newJudgeScenario(t, "judge-aa", true)
	m, fixed := sc.startJudgeLoad(t, 0.03, 0.01)
	run := sc.followJudge(t, podinfoV0, map[string]string{"PODINFO_UI_MESSAGE": "a/a"})
	t.Logf("A/A at 3%% errors: %s", run)
	t.Logf("%s", fixed)
	t.Logf("load: %d requests, %d failed", m.sent.Load(), m.failures.Load())
	sc.logCounts(t)
	require.Equal(t, flaggerv1.CanaryPhaseSucceeded, run.phase, "%s", run)
	assert.Equal(t, "Pass", run.verdict, "the judge passed the A/A release: %s", run)
	assert.Less(t, run.maxCanary, 50, "promoted before the last step: %s", run)
}

// TestJudgeRollsBackSmallErrors releases a version whose health endpoint fails: its GET
// /healthz requests, 0.6% of the load, answer 503, on top of the 0.3% of errors every version
// has. The canary fails 0.9% of its requests, three times the baseline, which the tutorial's
// fixed check (error rate max 1) lets through; the judge rolls it back.
func TestJudgeRollsBackSmallErrors(t *testing.T) {
	sc := newJudgeScenario(t, "judge-errors", true)
	m, fixed := sc.startJudgeLoad(t, 0.003, 0.006)
	run := sc.followJudge(t, podinfoV1, map[string]string{"PODINFO_UNHEALTHY": "true"})
	t.Logf("0.3%% → 0.9%% errors: %s", run)
	t.Logf("%s", fixed)
	t.Logf("load: %d requests, %d failed", m.sent.Load(), m.failures.Load())
	sc.logCounts(t)
	require.Equal(t, flaggerv1.CanaryPhaseFailed, run.phase, "%s", run)
	assert.Equal(t, "Fail", run.verdict, "the judge failed the canary: %s", run)
	canary, baseline, ok := sc.weights(t.Context())
	require.True(t, ok)
	assert.Equal(t, [2]int{0, 0}, [2]int{canary, baseline}, "all traffic back on the primary")
}
