package analysis

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

func TestPromotedCondition(t *testing.T) {
	cases := []struct {
		phase  v1beta1.CanaryPhase
		status corev1.ConditionStatus
		msg    string
	}{
		{v1beta1.CanaryPhaseInitializing, corev1.ConditionUnknown, "New Deployment detected, starting initialization."},
		{v1beta1.CanaryPhaseInitialized, corev1.ConditionTrue, "Deployment initialization completed."},
		{v1beta1.CanaryPhaseWaiting, corev1.ConditionUnknown, "Waiting for approval."},
		{v1beta1.CanaryPhaseProgressing, corev1.ConditionUnknown, "New revision detected, progressing canary analysis."},
		{v1beta1.CanaryPhaseWaitingPromotion, corev1.ConditionUnknown, "Waiting for approval."},
		{v1beta1.CanaryPhasePromoting, corev1.ConditionUnknown, "Canary analysis completed, starting primary rolling update."},
		{v1beta1.CanaryPhaseFinalising, corev1.ConditionUnknown, "Canary analysis completed, routing all traffic to primary."},
		{v1beta1.CanaryPhaseSucceeded, corev1.ConditionTrue, "Canary analysis completed successfully, promotion finished."},
		{v1beta1.CanaryPhaseFailed, corev1.ConditionFalse, "Canary analysis failed, Deployment scaled to zero."},
		{v1beta1.CanaryPhaseTerminating, corev1.ConditionUnknown, "Canary deleted, restoring the Deployment."},
		{v1beta1.CanaryPhaseTerminated, corev1.ConditionUnknown, "Canary deleted, Deployment restored."},
	}
	for _, tc := range cases {
		t.Run(string(tc.phase), func(t *testing.T) {
			status, msg := PromotedCondition(tc.phase, "Deployment")
			assert.Equal(t, tc.status, status)
			assert.Equal(t, tc.msg, msg)
		})
	}
}

func TestSetPromoted(t *testing.T) {
	before := metav1.NewTime(t0.Add(-time.Hour))
	now := metav1.NewTime(t0)
	base := func() v1beta1.CanaryStatus {
		return v1beta1.CanaryStatus{Conditions: []v1beta1.CanaryCondition{{
			Type: v1beta1.PromotedType, Status: corev1.ConditionUnknown, Reason: "Progressing",
			Message: "old", LastUpdateTime: before, LastTransitionTime: before,
		}}}
	}

	st := base()
	SetPromoted(&st, corev1.ConditionUnknown, "Progressing", "old", now)
	assert.Equal(t, base(), st, "same status, reason and message: untouched")

	st = base()
	SetPromoted(&st, corev1.ConditionUnknown, "Progressing", "new", now)
	c := st.Conditions[0]
	assert.Equal(t, []any{"new", now, before}, []any{c.Message, c.LastUpdateTime, c.LastTransitionTime},
		"a new message (another invalid field) is written, the transition kept")

	st = base()
	SetPromoted(&st, corev1.ConditionUnknown, "Promoting", "promoting", now)
	c = st.Conditions[0]
	assert.Equal(t, []any{"Promoting", "promoting", now, before}, []any{c.Reason, c.Message, c.LastUpdateTime, c.LastTransitionTime},
		"reason changed, status kept: lastTransitionTime kept")

	st = base()
	SetPromoted(&st, corev1.ConditionTrue, "Succeeded", "done", now)
	c = st.Conditions[0]
	assert.Equal(t, []any{corev1.ConditionTrue, now, now}, []any{c.Status, c.LastUpdateTime, c.LastTransitionTime})

	st = v1beta1.CanaryStatus{}
	SetPromoted(&st, corev1.ConditionUnknown, "Initializing", "init", now)
	assert.Len(t, st.Conditions, 1)
}

func TestLastTransitionTime(t *testing.T) {
	c := newCanary(idleIn(v1beta1.CanaryPhaseSucceeded))
	first := step(c, observed(rev1, 100, 0), newChecks())
	assert.Equal(t, metav1.NewTime(t0), first.Status.LastTransitionTime, "adding the condition is a change")

	c.Status = first.Status
	later := Step(context.Background(), Input{Canary: c, Now: t0.Add(time.Hour), Observed: observed(rev1, 100, 0), Checks: newChecks()})
	assert.Equal(t, c.Status, later.Status, "an idle tick changes nothing, not even lastTransitionTime")

	moved := Step(context.Background(), Input{Canary: c, Now: t0.Add(time.Hour + 500*time.Millisecond), Observed: observed(rev2, 100, 0), Checks: newChecks()})
	assert.Equal(t, metav1.NewTime(t0.Add(time.Hour)), moved.Status.LastTransitionTime, "stamped on change, to the second")
}

func TestObservedGeneration(t *testing.T) {
	c := newCanary(idleIn(v1beta1.CanaryPhaseSucceeded), func(c *v1beta1.Canary) { c.Generation = 7 })
	assert.Equal(t, int64(7), step(c, observed(rev1, 100, 0), newChecks()).Status.ObservedGeneration)
}

func TestNextAfter(t *testing.T) {
	cases := []struct {
		interval string
		want     time.Duration
	}{
		{"", v1beta1.DefaultAnalysisInterval},
		{"1m", time.Minute},
		{"30s", 30 * time.Second},
		{"5s", v1beta1.MinAnalysisInterval},
		{"soon", v1beta1.DefaultAnalysisInterval},
	}
	for _, tc := range cases {
		c := newCanary(running(v1beta1.CanaryPhaseProgressing, 30, 0, 0), withAnalysis(func(a *v1beta1.CanaryAnalysis) { a.Interval = tc.interval }))
		assert.Equal(t, Next{After: tc.want}, step(c, observed(rev2, 70, 30), newChecks()).Next, tc.interval)
	}
	legacy := newCanary(running(v1beta1.CanaryPhaseProgressing, 30, 0, 0), withSpec(func(s *v1beta1.CanarySpec) {
		s.CanaryAnalysis, s.Analysis = &v1beta1.CanaryAnalysis{Interval: "2m", StepWeight: 10}, nil
	}))
	assert.Equal(t, 2*time.Minute, step(legacy, observed(rev2, 70, 30), newChecks()).Next.After, "spec.canaryAnalysis is still read")

	idle := newCanary(idleIn(v1beta1.CanaryPhaseSucceeded))
	assert.Equal(t, Next{}, step(idle, observed(rev1, 100, 0), newChecks()).Next, "an idle canary waits for a change")
	waitingPrimary := observed(rev2, 70, 30)
	waitingPrimary.Primary = Readiness{State: Waiting, Message: "waiting for rollout to finish"}
	assert.Equal(t, Next{After: v1beta1.DefaultAnalysisInterval, WhenReady: PrimaryWorkload},
		step(newCanary(running(v1beta1.CanaryPhaseProgressing, 30, 0, 0)), waitingPrimary, newChecks()).Next)
	waitingCanary := observed(rev2, 70, 30)
	waitingCanary.Canary = Readiness{State: Waiting, Message: "waiting for rollout to finish"}
	assert.Equal(t, Next{After: v1beta1.DefaultAnalysisInterval, WhenReady: TargetWorkload},
		step(newCanary(running(v1beta1.CanaryPhaseProgressing, 30, 0, 0)), waitingCanary, newChecks()).Next)
}

func TestSessionAffinityCookies(t *testing.T) {
	affinity := withAnalysis(func(a *v1beta1.CanaryAnalysis) {
		a.SessionAffinity = &v1beta1.SessionAffinity{CookieName: "flagger-cookie", PrimaryCookieName: "primary-flagger-cookie"}
	})
	c := newCanary(running(v1beta1.CanaryPhaseProgressing, 0, 0, 0), affinity)
	d := step(c, observed(rev2, 100, 0), newChecks())
	require.Equal(t, 10, d.Status.CanaryWeight)
	assert.Regexp(t, regexp.MustCompile(`^flagger-cookie=[a-zA-Z]{10}$`), d.Status.SessionAffinityCookie)
	assert.Regexp(t, regexp.MustCompile(`^primary-flagger-cookie=[a-zA-Z]{10}$`), d.Status.PrimarySessionAffinityCookie)

	c.Status = d.Status
	next := step(c, observed(rev2, 90, 10), newChecks())
	assert.Equal(t, d.Status.SessionAffinityCookie, next.Status.SessionAffinityCookie, "kept for the whole run")

	c.Status = next.Status
	c.Status.FailedChecks = 5
	failed := step(c, observed(rev2, 80, 20), newChecks())
	assert.Equal(t, v1beta1.CanaryPhaseFailed, failed.Status.Phase)
	assert.Empty(t, failed.Status.SessionAffinityCookie)
	assert.Empty(t, failed.Status.PrimarySessionAffinityCookie)
	assert.Equal(t, d.Status.SessionAffinityCookie, failed.Status.PreviousSessionAffinityCookie, "expired by the route")

	retried := Step(context.Background(), Input{Canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 0, 0, 0), affinity),
		Now: t0.Add(time.Minute), Observed: observed(rev2, 100, 0), Checks: newChecks()})
	assert.Equal(t, d.Status.SessionAffinityCookie, retried.Status.SessionAffinityCookie,
		"a step retried after its status write failed sets the cookie already on the route")

	laterRun := withStatus(func(s *v1beta1.CanaryStatus) { s.LastTransitionTime = metav1.NewTime(t0.Add(time.Hour)) })
	other := Step(context.Background(), Input{Canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 0, 0, 0), affinity, laterRun),
		Now: t0.Add(time.Hour), Observed: observed(rev2, 100, 0), Checks: newChecks()})
	assert.NotEqual(t, d.Status.SessionAffinityCookie, other.Status.SessionAffinityCookie, "another run, another cookie")
}

func TestAlertFields(t *testing.T) {
	deadline := int32(60)
	c := newCanary(func(c *v1beta1.Canary) { c.Spec.ProgressDeadlineSeconds = &deadline })
	d := step(c, observed(rev1, 0, 0), newChecks())
	require.Len(t, d.Alerts, 1)
	assert.Equal(t, []AlertField{
		{Name: "Target", Value: "Deployment/podinfo.test"},
		{Name: "Failed checks threshold", Value: "5"},
		{Name: "Progress deadline", Value: "60s"},
		{Name: "Traffic routing", Value: "Weight step: 10 max: 50"},
	}, d.Alerts[0].Fields)

	summary := func(a v1beta1.CanaryAnalysis) string {
		return routingSummary(newCanary(withSpec(func(s *v1beta1.CanarySpec) { s.Analysis = &a })))
	}
	assert.Equal(t, "Weight steps: 1,2,10,80 max: 80", summary(v1beta1.CanaryAnalysis{StepWeights: []int{1, 2, 10, 80}}))
	assert.Equal(t, "Weight step: 25 max: 100", summary(v1beta1.CanaryAnalysis{StepWeight: 25}))
	assert.Equal(t, "Blue/Green", summary(v1beta1.CanaryAnalysis{Iterations: 10, StepWeight: 10}))
	assert.Equal(t, "A/B Testing", summary(v1beta1.CanaryAnalysis{Iterations: 10, Match: []v1beta1.HTTPMatchRequest{{}}}))
	assert.Equal(t, "600s", alertFields(newCanary())[2].Value)
}

func TestPostRolloutEvents(t *testing.T) {
	c := newCanary(withHooks(hook(v1beta1.PostRolloutHook, "notify"), hook(v1beta1.PostRolloutHook, "cleanup"), loadTest))
	checks := newChecks()
	assert.Equal(t, []string{normal("Post-rollout check notify passed"), normal("Post-rollout check cleanup passed")},
		texts(PostRolloutEvents(context.Background(), c, checks, v1beta1.CanaryPhaseSucceeded)))
	assert.Equal(t, []string{"hook notify Succeeded", "hook cleanup Succeeded"}, checks.calls)

	checks = newChecks().failHook("notify", "500 Internal Server Error")
	assert.Equal(t, []string{warning("Post-rollout hook notify failed 500 Internal Server Error")},
		texts(PostRolloutEvents(context.Background(), c, checks, v1beta1.CanaryPhaseFailed)))
}

func TestRevisionDetection(t *testing.T) {
	st := v1beta1.CanaryStatus{LastAppliedSpec: rev2, LastPromotedSpec: rev1, TrackedConfigs: &map[string]string{"configmap/a": "1"}}
	assert.True(t, specChanged(v1beta1.CanaryStatus{}, rev1), "nothing recorded yet")
	assert.False(t, specChanged(st, rev1), "the promoted template")
	assert.False(t, specChanged(st, rev2), "the recorded template")
	assert.True(t, specChanged(st, rev3))

	assert.False(t, configsChanged(st, Observations{}), "config tracking off")
	assert.False(t, configsChanged(st, Observations{TrackedConfigs: map[string]string{"configmap/a": "1"}}))
	assert.True(t, configsChanged(st, Observations{TrackedConfigs: map[string]string{"configmap/a": "2"}}))
	assert.True(t, configsChanged(st, Observations{TrackedConfigs: map[string]string{"configmap/a": "1", "secret/b": "1"}}))
	assert.False(t, configsChanged(v1beta1.CanaryStatus{}, Observations{TrackedConfigs: map[string]string{}}))
}
