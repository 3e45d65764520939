package analysis

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/judge"
)

// t0 is the time of every tick that does not advance a clock.
var t0 = time.Date(2026, 7, 14, 12, 0, 0, 0, time.UTC)

// Revision hashes: rev1 is promoted, rev2 is under analysis, rev3 is newer.
const (
	rev1 = "rev1"
	rev2 = "rev2"
	rev3 = "rev3"
)

// fakeChecks answers webhooks and metrics from maps keyed by name; anything
// not listed passes. It records the calls it gets.
type fakeChecks struct {
	hooks   map[string]error
	metrics map[string]error
	probe   error
	calls   []string
	// verdicts are the judge's verdicts by metric (Continue if unlisted);
	// compareErr fails CompareMetric.
	verdicts   map[string]judge.Verdict
	compareErr error
}

var _ Checks = (*fakeChecks)(nil)

func newChecks() *fakeChecks {
	return &fakeChecks{hooks: map[string]error{}, metrics: map[string]error{}}
}

// failHook makes a webhook answer non-2xx with body.
func (f *fakeChecks) failHook(name, body string) *fakeChecks {
	f.hooks[name] = errors.New(body)
	return f
}

// failMetric makes a metric fail with the event text msg.
func (f *fakeChecks) failMetric(name, msg string) *fakeChecks {
	f.metrics[name] = errors.New(msg)
	return f
}

func (f *fakeChecks) CallWebhook(_ context.Context, h v1beta1.CanaryWebhook, phase v1beta1.CanaryPhase) error {
	f.calls = append(f.calls, fmt.Sprintf("hook %s %s", h.Name, phase))
	return f.hooks[h.Name]
}

func (f *fakeChecks) CheckMetric(_ context.Context, m v1beta1.CanaryMetric) error {
	f.calls = append(f.calls, "metric "+m.Name)
	return f.metrics[m.Name]
}

// judged makes the judge decide verdict for a compared metric.
func (f *fakeChecks) judged(name string, verdict judge.Verdict) *fakeChecks {
	if f.verdicts == nil {
		f.verdicts = map[string]judge.Verdict{}
	}
	f.verdicts[name] = verdict
	return f
}

// CompareMetric answers the listed verdict and a state that counts the
// ticks, "n=1", "n=2", ...
func (f *fakeChecks) CompareMetric(_ context.Context, m v1beta1.CanaryMetric, index int, state string, final bool) (Comparison, error) {
	f.calls = append(f.calls, fmt.Sprintf("compare %s final=%t", m.Name, final))
	if f.compareErr != nil {
		return Comparison{}, f.compareErr
	}
	n := 0
	fmt.Sscanf(state, "n=%d", &n)
	v, ok := f.verdicts[m.Name]
	if !ok {
		v = judge.Continue
	}
	return Comparison{State: fmt.Sprintf("n=%d", n+1), Decision: judge.Decision{Verdict: v, Reason: "Because",
		Message: fmt.Sprintf("%s after %d ticks", v, n+1)}}, nil
}

func (f *fakeChecks) ProbeMetricProviders(context.Context) error {
	f.calls = append(f.calls, "probe")
	return f.probe
}

// canaryOption changes a fixture canary.
type canaryOption func(*v1beta1.Canary)

// newCanary returns the tutorial's canary (podinfo.test, stepWeight 10,
// maxWeight 50, threshold 5, interval 1m) changed by opts.
func newCanary(opts ...canaryOption) *v1beta1.Canary {
	c := &v1beta1.Canary{
		// Without revertOnDeletion a canary carries no finalizer.
		ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "test", Generation: 1},
		Spec: v1beta1.CanarySpec{
			TargetRef: v1beta1.TargetReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "podinfo"},
			Analysis: &v1beta1.CanaryAnalysis{
				Interval: "1m", Threshold: 5, MaxWeight: 50, StepWeight: 10,
			},
		},
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

func withAnalysis(f func(a *v1beta1.CanaryAnalysis)) canaryOption {
	return func(c *v1beta1.Canary) { f(c.Spec.Analysis) }
}

func withSpec(f func(s *v1beta1.CanarySpec)) canaryOption {
	return func(c *v1beta1.Canary) { f(&c.Spec) }
}

func withStatus(f func(s *v1beta1.CanaryStatus)) canaryOption {
	return func(c *v1beta1.Canary) { f(&c.Status) }
}

func withHooks(hooks ...v1beta1.CanaryWebhook) canaryOption {
	return withAnalysis(func(a *v1beta1.CanaryAnalysis) { a.Webhooks = append(a.Webhooks, hooks...) })
}

func withMetrics(metrics ...v1beta1.CanaryMetric) canaryOption {
	return withAnalysis(func(a *v1beta1.CanaryAnalysis) { a.Metrics = append(a.Metrics, metrics...) })
}

func withAutoscaler() canaryOption {
	return withSpec(func(s *v1beta1.CanarySpec) {
		s.AutoscalerRef = &v1beta1.AutoscalerReference{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler", Name: "podinfo"}
	})
}

func hook(t v1beta1.HookType, name string) v1beta1.CanaryWebhook {
	return v1beta1.CanaryWebhook{Type: t, Name: name, URL: "http://flagger-loadtester.test/"}
}

func metric(name string) v1beta1.CanaryMetric {
	return v1beta1.CanaryMetric{Name: name, TemplateRef: &v1beta1.CrossNamespaceObjectReference{Name: name}}
}

// idleIn is a canary resting in phase with rev1 promoted.
func idleIn(phase v1beta1.CanaryPhase) canaryOption {
	return withStatus(func(s *v1beta1.CanaryStatus) {
		s.Phase = phase
		s.LastAppliedSpec = rev1
		s.LastPromotedSpec = rev1
	})
}

// running is a canary analysing rev2 in phase with the given counters.
func running(phase v1beta1.CanaryPhase, weight, iterations, failed int) canaryOption {
	return withStatus(func(s *v1beta1.CanaryStatus) {
		s.Phase = phase
		s.CanaryWeight = weight
		s.Iterations = iterations
		s.FailedChecks = failed
		s.LastAppliedSpec = rev2
		s.LastPromotedSpec = rev1
	})
}

// observed returns ready workloads running hash, routed primary/canary.
func observed(hash string, primary, canary int) Observations {
	return Observations{
		TargetHash: hash,
		Primary:    Readiness{State: Ready},
		Canary:     Readiness{State: Ready},
		Routes:     Routes{Primary: primary, Canary: canary},
	}
}

func step(c *v1beta1.Canary, obs Observations, checks *fakeChecks) Decision {
	return Step(context.Background(), Input{Canary: c, Now: t0, Observed: obs, Checks: checks})
}

// texts returns the events as "Normal: msg" / "Warning: msg".
func texts(events []Event) []string {
	var out []string
	for _, e := range events {
		out = append(out, e.Type+": "+e.Message)
	}
	return out
}

// alertTexts returns the alerts as "severity: msg".
func alertTexts(alerts []Alert) []string {
	var out []string
	for _, a := range alerts {
		out = append(out, string(a.Severity)+": "+a.Message)
	}
	return out
}

func normal(msg string) string  { return corev1.EventTypeNormal + ": " + msg }
func warning(msg string) string { return corev1.EventTypeWarning + ": " + msg }

// transition is one row of a state-machine table: a canary and what the
// controller observed, and everything the tick must decide.
type transition struct {
	name   string
	canary *v1beta1.Canary
	obs    Observations
	checks *fakeChecks

	phase                v1beta1.CanaryPhase
	weight, iterations   int
	failedChecks         int
	actions              []Action
	after                []Action // AfterStatus
	events               []string
	alerts               []string
	reason               string
	lastApplied          string // checked when set
	lastPromoted         string // checked when set
	conditionStatus      corev1.ConditionStatus
	conditionMsgContains string
}

func runTransitions(t *testing.T, cases []transition) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checks := tc.checks
			if checks == nil {
				checks = newChecks()
			}
			before := tc.canary.DeepCopy()
			d := step(tc.canary, tc.obs, checks)
			assert.Equal(t, before, tc.canary, "Step must not modify its input")
			assertTransition(t, tc, d)
		})
	}
}

func assertTransition(t *testing.T, tc transition, d Decision) {
	t.Helper()
	assert.Equal(t, tc.phase, d.Status.Phase, "phase")
	assert.Equal(t, tc.weight, d.Status.CanaryWeight, "canaryWeight")
	assert.Equal(t, tc.iterations, d.Status.Iterations, "iterations")
	assert.Equal(t, tc.failedChecks, d.Status.FailedChecks, "failedChecks")
	assert.Equal(t, tc.actions, d.Actions, "actions")
	assert.Equal(t, tc.after, d.AfterStatus, "actions after the status write")
	assert.Equal(t, tc.events, texts(d.Events), "events")
	assert.Equal(t, tc.alerts, alertTexts(d.Alerts), "alerts")
	assert.Equal(t, tc.reason, d.Reason, "reason")
	if tc.lastApplied != "" {
		assert.Equal(t, tc.lastApplied, d.Status.LastAppliedSpec, "lastAppliedSpec")
	}
	if tc.lastPromoted != "" {
		assert.Equal(t, tc.lastPromoted, d.Status.LastPromotedSpec, "lastPromotedSpec")
	}
	if tc.conditionStatus != "" {
		c := promoted(d.Status)
		if assert.NotNil(t, c, "Promoted condition") {
			assert.Equal(t, tc.conditionStatus, c.Status)
			assert.Equal(t, string(tc.phase), c.Reason)
			assert.Contains(t, c.Message, tc.conditionMsgContains)
		}
	}
}

func promoted(st v1beta1.CanaryStatus) *v1beta1.CanaryCondition {
	for i := range st.Conditions {
		if st.Conditions[i].Type == v1beta1.PromotedType {
			return &st.Conditions[i]
		}
	}
	return nil
}

// Shorthands for the actions every reconciling tick starts with.
var (
	ensure    = EnsurePrimary{}
	reconcile = ReconcileRouting{}
	// toZero is what an idle tick ends with: the target kept at zero.
	toZero = ScaleTargetToZero{}
)

func actions(a ...Action) []Action { return a }
