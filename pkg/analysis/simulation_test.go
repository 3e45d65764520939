package analysis

import (
	"cmp"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	"github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

const (
	canaryRollout  = "canary deployment podinfo.test not ready: waiting for rollout to finish: 0 of 1 updated replicas are available"
	primaryRollout = "podinfo-primary.test not ready: waiting for rollout to finish: 1 of 2 updated replicas are available"
)

// world is the cluster as the controller would observe it: it applies a
// tick's actions, and a scaled-up canary or a promoted primary spends one
// tick rolling out before it is ready.
type world struct {
	canary *v1beta1.Canary
	obs    Observations
	checks *fakeChecks
	now    time.Time

	// reportsMirror is false for a router that cannot read its mirror back.
	reportsMirror bool
	canaryLeft    int
	primaryLeft   int
	alerts        []string
}

func newWorld(c *v1beta1.Canary) *world {
	return &world{
		canary: c,
		obs: Observations{
			TargetHash:      rev1,
			Primary:         Readiness{State: Ready},
			PrimaryRevision: rev1,
			Routes:          Routes{Err: errors.New("HTTPRoute podinfo.test not found")},
		},
		checks:        newChecks(),
		now:           t0,
		reportsMirror: true,
	}
}

// tick runs one Step and applies its decision as the controller would.
func (w *world) tick() Decision {
	w.obs.Canary = rollout(&w.canaryLeft, canaryRollout)
	w.obs.Primary = rollout(&w.primaryLeft, primaryRollout)
	d := Step(context.Background(), Input{Canary: w.canary.DeepCopy(), Now: w.now, Observed: w.obs, Checks: w.checks})
	for _, a := range d.Actions {
		w.apply(a)
	}
	w.canary.Status = d.Status
	for _, a := range d.AfterStatus {
		w.apply(a)
	}
	w.alerts = append(w.alerts, alertTexts(d.Alerts)...)
	// An idle canary's next tick comes from an event; the world's next
	// event comes an interval later.
	w.now = w.now.Add(cmp.Or(d.Next.After, w.canary.GetAnalysisInterval()))
	return d
}

func rollout(left *int, msg string) Readiness {
	if *left > 0 {
		*left--
		return Readiness{State: Waiting, Message: msg}
	}
	return Readiness{State: Ready}
}

func (w *world) apply(a Action) {
	switch a := a.(type) {
	case ReconcileRouting:
		if w.obs.Routes.Err != nil {
			w.obs.Routes = Routes{Primary: totalWeight}
		}
	case SetRoutes:
		w.obs.Routes = Routes{Primary: a.Primary, Canary: a.Canary, Mirrored: a.Mirrored && w.reportsMirror}
	case ScaleTargetFromZero:
		w.canaryLeft = 1
	case PromoteToPrimary:
		if w.obs.PrimaryRevision != a.Revision {
			w.primaryLeft = 1
			w.obs.PrimaryRevision = a.Revision
		}
	}
}

// expected is what one tick must leave behind.
type expected struct {
	phase  v1beta1.CanaryPhase
	weight int
	events []string
}

func (w *world) run(t *testing.T, ticks []expected) {
	t.Helper()
	for i, want := range ticks {
		d := w.tick()
		assert.Equal(t, want.phase, d.Status.Phase, "tick %d phase", i+1)
		assert.Equal(t, want.weight, d.Status.CanaryWeight, "tick %d weight", i+1)
		assert.Equal(t, want.events, texts(d.Events), "tick %d events", i+1)
	}
}

func advance(weight string) []string {
	return []string{normal("Advance podinfo.test canary weight " + weight)}
}

// tutorialCanary is the Gateway API tutorial's podinfo canary.
func tutorialCanary() *v1beta1.Canary {
	deadline := int32(60)
	return newCanary(withAutoscaler(),
		func(c *v1beta1.Canary) { c.Spec.ProgressDeadlineSeconds = &deadline },
		withMetrics(metric("error-rate"), metric("latency")),
		withHooks(hook(v1beta1.PreRolloutHook, "smoke-test"), hook("", "load-test")))
}

// TestSimulateTutorial replays the tutorial's timeline (stepWeight 10,
// maxWeight 50): initialization, a new revision, 10..50, promotion,
// finalisation and success, with Flagger's event texts.
func TestSimulateTutorial(t *testing.T) {
	w := newWorld(tutorialCanary())
	w.run(t, []expected{
		{v1beta1.CanaryPhaseInitialized, 0, []string{normal("all the metrics providers are available!"), normal("Initialization done! podinfo.test")}},
		{v1beta1.CanaryPhaseInitialized, 0, nil},
	})
	w.obs.TargetHash = rev2
	w.run(t, []expected{
		{v1beta1.CanaryPhaseProgressing, 0, []string{normal("New revision detected! Scaling up podinfo.test")}},
		{v1beta1.CanaryPhaseProgressing, 0, []string{warning(canaryRollout)}},
		{v1beta1.CanaryPhaseProgressing, 10, []string{
			normal("Starting canary analysis for podinfo.test"),
			normal("Pre-rollout check smoke-test passed"),
			normal("Advance podinfo.test canary weight 10"),
		}},
		{v1beta1.CanaryPhaseProgressing, 20, advance("20")},
		{v1beta1.CanaryPhaseProgressing, 30, advance("30")},
		{v1beta1.CanaryPhaseProgressing, 40, advance("40")},
		{v1beta1.CanaryPhaseProgressing, 50, advance("50")},
		{v1beta1.CanaryPhasePromoting, 50, []string{normal("Copying podinfo.test template spec to podinfo-primary.test")}},
		{v1beta1.CanaryPhasePromoting, 50, []string{warning(primaryRollout)}},
		{v1beta1.CanaryPhaseFinalising, 0, []string{normal("Routing all traffic to primary")}},
		{v1beta1.CanaryPhaseSucceeded, 0, []string{normal("Promotion completed! Scaling down podinfo.test")}},
		{v1beta1.CanaryPhaseSucceeded, 0, nil},
	})

	st := w.canary.Status
	assert.Equal(t, Routes{Primary: 100}, w.obs.Routes)
	assert.Equal(t, []string{rev2, rev2}, []string{st.LastAppliedSpec, st.LastPromotedSpec})
	assert.Equal(t, corev1.ConditionTrue, promoted(st).Status)
	assert.Equal(t, 0, st.FailedChecks)
	assert.Equal(t, []string{
		"info: New Deployment detected, initialization completed.",
		"info: New revision detected, progressing canary analysis.",
		"info: Canary analysis completed successfully, promotion finished.",
	}, w.alerts)
	assert.Equal(t, 5, count(w.checks.calls, "hook load-test Progressing"), "rollout hooks on 20..50 and the promotion tick")
	assert.Equal(t, 5, count(w.checks.calls, "metric error-rate"))
	assert.Equal(t, 1, count(w.checks.calls, "hook smoke-test Progressing"))
	assert.Equal(t, t0.Add(14*time.Minute), w.now, "one interval per tick")
}

// TestSimulateRollback fails the error-rate metric from weight 20 on: five
// failed checks, the rollback on the tick after the fifth, then an idle
// canary that does not retry the revision until a new one arrives.
func TestSimulateRollback(t *testing.T) {
	w := newWorld(tutorialCanary())
	w.tick()
	w.obs.TargetHash = rev2
	w.run(t, []expected{
		{v1beta1.CanaryPhaseProgressing, 0, []string{normal("New revision detected! Scaling up podinfo.test")}},
		{v1beta1.CanaryPhaseProgressing, 0, []string{warning(canaryRollout)}},
		{v1beta1.CanaryPhaseProgressing, 10, []string{
			normal("Starting canary analysis for podinfo.test"),
			normal("Pre-rollout check smoke-test passed"),
			normal("Advance podinfo.test canary weight 10"),
		}},
		{v1beta1.CanaryPhaseProgressing, 20, advance("20")},
	})
	w.checks.failMetric("error-rate", errorRateHalt)
	for i := 1; i <= 5; i++ {
		w.run(t, []expected{{v1beta1.CanaryPhaseProgressing, 20, []string{warning(errorRateHalt)}}})
		require.Equal(t, i, w.canary.Status.FailedChecks)
	}
	w.alerts = nil
	w.run(t, []expected{
		{v1beta1.CanaryPhaseFailed, 0, []string{
			warning("Rolling back podinfo.test failed checks threshold reached 5"),
			warning("Canary failed! Scaling down podinfo.test"),
		}},
		{v1beta1.CanaryPhaseFailed, 0, nil},
	})
	assert.Equal(t, []string{"error: Failed checks threshold reached 5"}, w.alerts)
	assert.Equal(t, Routes{Primary: 100}, w.obs.Routes)
	assert.Equal(t, 5, w.canary.Status.FailedChecks, "kept on Failed")
	assert.Equal(t, corev1.ConditionFalse, promoted(w.canary.Status).Status)
	assert.Equal(t, rev1, w.canary.Status.LastPromotedSpec)

	w.obs.TargetHash = rev3
	w.run(t, []expected{{v1beta1.CanaryPhaseProgressing, 0, []string{normal("New revision detected! Scaling up podinfo.test")}}})
	assert.Equal(t, 0, w.canary.Status.FailedChecks, "a new run starts from zero")
}

// TestSimulateStepWeights walks the [1, 2, 10, 80] ladder to promotion.
func TestSimulateStepWeights(t *testing.T) {
	w := newWorld(newCanary(withAnalysis(func(a *v1beta1.CanaryAnalysis) {
		a.StepWeight, a.MaxWeight, a.StepWeights = 0, 0, []int{1, 2, 10, 80}
	})))
	w.tick()
	w.obs.TargetHash = rev2
	w.tick()
	w.tick()
	var weights []int
	for w.canary.Status.Phase == v1beta1.CanaryPhaseProgressing {
		weights = append(weights, w.tick().Status.CanaryWeight)
	}
	assert.Equal(t, []int{1, 2, 10, 80, 80}, weights, "the tick at 80 analyses, the next one promotes")
	assert.Equal(t, v1beta1.CanaryPhasePromoting, w.canary.Status.Phase)
}

// TestSimulateMirroredCanary runs a weighted canary with mirror: true behind
// a router that never reports the mirror, which stalls Flagger forever.
func TestSimulateMirroredCanary(t *testing.T) {
	w := newWorld(newCanary(withAnalysis(func(a *v1beta1.CanaryAnalysis) { a.Mirror = true })))
	w.reportsMirror = false
	w.tick()
	w.obs.TargetHash = rev2
	w.tick()
	w.tick()
	w.run(t, []expected{
		{v1beta1.CanaryPhaseProgressing, 0, []string{normal("Starting canary analysis for podinfo.test"), normal("Advance podinfo.test canary weight 0")}},
		{v1beta1.CanaryPhaseProgressing, 10, advance("10")},
		{v1beta1.CanaryPhaseProgressing, 20, advance("20")},
	})
}

// TestSimulateBlueGreenMirror runs a mirrored blue/green release: mirrored
// iterations, the switch tick, then promotion.
func TestSimulateBlueGreenMirror(t *testing.T) {
	w := newWorld(newCanary(withAnalysis(func(a *v1beta1.CanaryAnalysis) {
		a.StepWeight, a.MaxWeight, a.Iterations, a.Mirror = 0, 0, 3, true
	})))
	w.tick()
	w.obs.TargetHash = rev2
	w.tick()
	w.tick()
	w.run(t, []expected{
		{v1beta1.CanaryPhaseProgressing, 0, []string{normal("Starting canary analysis for podinfo.test"), normal("Advance podinfo.test canary iteration 1/3")}},
		{v1beta1.CanaryPhaseProgressing, 0, []string{normal("Advance podinfo.test canary iteration 2/3")}},
		{v1beta1.CanaryPhaseProgressing, 0, []string{normal("Advance podinfo.test canary iteration 3/3")}},
		{v1beta1.CanaryPhaseProgressing, 100, []string{normal("Stop traffic mirroring and route all traffic to canary")}},
		{v1beta1.CanaryPhasePromoting, 100, []string{normal("Copying podinfo.test template spec to podinfo-primary.test")}},
		{v1beta1.CanaryPhasePromoting, 100, []string{warning(primaryRollout)}},
		{v1beta1.CanaryPhaseFinalising, 0, []string{normal("Routing all traffic to primary")}},
		{v1beta1.CanaryPhaseSucceeded, 0, []string{normal("Promotion completed! Scaling down podinfo.test")}},
	})
}

func count(calls []string, call string) int {
	n := 0
	for _, c := range calls {
		if c == call {
			n++
		}
	}
	return n
}
