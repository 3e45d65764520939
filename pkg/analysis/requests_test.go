package analysis

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// withRequest annotates the canary with a request.
func withRequest(action, id, revision string) canaryOption {
	return func(c *v1beta1.Canary) {
		c.Annotations = map[string]string{RequestAnnotation: action, RequestIDAnnotation: id}
		if revision != "" {
			c.Annotations[RequestRevisionAnnotation] = revision
		}
	}
}

// handledRequest is a status that already handled the request id.
func handledRequest(id string) canaryOption {
	return withStatus(func(s *v1beta1.CanaryStatus) { s.LastHandledRequest = id })
}

// failedRun is a canary whose run of rev2 failed, rev1 promoted.
func failedRun(c *v1beta1.Canary) {
	c.Status.Phase = v1beta1.CanaryPhaseFailed
	c.Status.LastAppliedSpec = rev2
	c.Status.LastPromotedSpec = rev1
	c.Status.FailedChecks = 5
}

func TestStepRequests(t *testing.T) {
	gate := func(typ v1beta1.HookType) canaryOption { return withHooks(hook(typ, "gate")) }
	refusing := func() *fakeChecks { return newChecks().failHook("gate", "closed") }
	primaryWaiting := observed(rev2, 100, 0)
	primaryWaiting.Primary = Readiness{State: Waiting, Message: "waiting for rollout to finish"}
	tests := []struct {
		name    string
		canary  *v1beta1.Canary
		obs     Observations
		checks  *fakeChecks
		phase   v1beta1.CanaryPhase
		handled string
		reason  string
		event   string   // an event the tick records
		actions []Action // actions the tick takes, among others
		after   []Action // actions after the status write, among others
		noCalls bool     // no webhook is called
	}{{
		name:    "abort rolls a run back at once, in the status write that handles it",
		canary:  newCanary(running(v1beta1.CanaryPhaseProgressing, 30, 0, 0), withRequest(RequestAbort, "r1", "")),
		obs:     observed(rev2, 70, 30),
		phase:   v1beta1.CanaryPhaseFailed,
		handled: "r1", reason: ReasonRequest,
		event:   warning("Rolling back podinfo.test: aborted by request r1"),
		actions: actions(SetRoutes{Primary: 100}),
		after:   actions(ScaleTargetToZero{}),
	}, {
		name:    "so does abort while a confirm-rollout gate holds the revision",
		canary:  newCanary(running(v1beta1.CanaryPhaseWaiting, 0, 0, 0), gate(v1beta1.ConfirmRolloutHook), withRequest(RequestAbort, "r1", rev2)),
		obs:     observed(rev2, 100, 0),
		checks:  refusing(),
		phase:   v1beta1.CanaryPhaseFailed,
		handled: "r1", reason: ReasonRequest,
		event: warning("Rolling back podinfo.test: aborted by request r1"),
	}, {
		name:    "a handled request is not handled twice",
		canary:  newCanary(running(v1beta1.CanaryPhaseProgressing, 30, 0, 0), withRequest(RequestAbort, "r1", ""), handledRequest("r1")),
		obs:     observed(rev2, 70, 30),
		phase:   v1beta1.CanaryPhaseProgressing,
		handled: "r1",
		actions: actions(SetRoutes{Primary: 60, Canary: 40}),
	}, {
		name:    "a request for another revision is ignored with an event, and the run goes on",
		canary:  newCanary(running(v1beta1.CanaryPhaseProgressing, 30, 0, 0), withRequest(RequestAbort, "r1", rev3)),
		obs:     observed(rev2, 70, 30),
		phase:   v1beta1.CanaryPhaseProgressing,
		handled: "r1",
		event:   normal("Request abort (r1) ignored: it is for revision rev3, and podinfo.test runs rev2"),
		actions: actions(SetRoutes{Primary: 60, Canary: 40}),
	}, {
		name:    "promote opens a waiting confirm-rollout gate once, without calling it",
		canary:  newCanary(running(v1beta1.CanaryPhaseWaiting, 0, 0, 0), gate(v1beta1.ConfirmRolloutHook), withRequest(RequestPromote, "r2", rev2)),
		obs:     observed(rev2, 100, 0),
		checks:  refusing(),
		phase:   v1beta1.CanaryPhaseProgressing,
		handled: "r2",
		event:   normal("Request promote (r2): the waiting confirm gates open once"),
		actions: actions(ScaleTargetFromZero{}),
		noCalls: true,
	}, {
		name:    "promote opens a refusing confirm-promotion gate",
		canary:  newCanary(running(v1beta1.CanaryPhaseWaitingPromotion, 50, 0, 0), gate(v1beta1.ConfirmPromotionHook), withRequest(RequestPromote, "r2", "")),
		obs:     observed(rev2, 50, 50),
		checks:  refusing(),
		phase:   v1beta1.CanaryPhasePromoting,
		handled: "r2",
		after:   actions(PromoteToPrimary{Revision: v1beta1.RevisionID(rev2, nil)}),
	}, {
		name:    "promote-full promotes a run at its first step, through Promoting",
		canary:  newCanary(running(v1beta1.CanaryPhaseProgressing, 10, 0, 0), withRequest(RequestPromoteFull, "r3", "")),
		obs:     observed(rev2, 90, 10),
		phase:   v1beta1.CanaryPhasePromoting,
		handled: "r3", reason: ReasonRequest,
		event:   normal("Request promote-full (r3): promoting podinfo.test without the rest of its analysis"),
		after:   actions(PromoteToPrimary{Revision: v1beta1.RevisionID(rev2, nil)}),
		noCalls: true,
	}, {
		name:   "promote-full waits for a ready canary like any step",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 10, 0, 0), withRequest(RequestPromoteFull, "r3", "")),
		obs:    func() Observations { o := observed(rev2, 90, 10); o.Canary = Readiness{State: Waiting}; return o }(),
		phase:  v1beta1.CanaryPhaseProgressing,
		reason: ReasonCanaryNotReady,
	}, {
		name:    "retry runs the failed revision again",
		canary:  newCanary(failedRun, withRequest(RequestRetry, "r4", rev2)),
		obs:     observed(rev2, 100, 0),
		phase:   v1beta1.CanaryPhaseProgressing,
		handled: "r4", reason: ReasonRequest,
		event:   normal("Request retry (r4): running podinfo.test again"),
		actions: actions(ScaleTargetFromZero{}),
	}, {
		name:   "a retry held by an unready primary stays pending",
		canary: newCanary(failedRun, withRequest(RequestRetry, "r4", "")),
		obs:    primaryWaiting,
		phase:  v1beta1.CanaryPhaseFailed,
		reason: ReasonPrimaryNotReady,
	}, {
		name:    "retry of a reverted target is ignored",
		canary:  newCanary(failedRun, withRequest(RequestRetry, "r4", "")),
		obs:     observed(rev1, 100, 0),
		phase:   v1beta1.CanaryPhaseFailed,
		handled: "r4",
		event:   normal("Request retry (r4) ignored: the target no longer runs the failed revision"),
	}, {
		name:    "a request that does not fit the phase is ignored",
		canary:  newCanary(idleIn(v1beta1.CanaryPhaseSucceeded), withRequest(RequestAbort, "r5", "")),
		obs:     observed(rev1, 100, 0),
		phase:   v1beta1.CanaryPhaseSucceeded,
		handled: "r5",
		event:   normal("Request abort (r5) ignored: nothing to abort while the canary is Succeeded"),
	}, {
		name:    "an unknown request is ignored, naming the ones there are",
		canary:  newCanary(running(v1beta1.CanaryPhaseProgressing, 30, 0, 0), withRequest("rollback", "r6", "")),
		obs:     observed(rev2, 70, 30),
		phase:   v1beta1.CanaryPhaseProgressing,
		handled: "r6",
		event:   normal("Request rollback (r6) ignored: unknown request; use promote, promote-full, abort, retry, pause or resume"),
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checks := tt.checks
			if checks == nil {
				checks = newChecks()
			}
			d := step(tt.canary, tt.obs, checks)
			assert.Equal(t, tt.phase, d.Status.Phase, "phase")
			assert.Equal(t, tt.handled, d.Status.LastHandledRequest, "lastHandledRequest")
			assert.Equal(t, tt.reason, d.Reason, "reason")
			if tt.event != "" {
				assert.Contains(t, texts(d.Events), tt.event)
			}
			for _, a := range tt.actions {
				assert.Contains(t, d.Actions, a)
			}
			for _, a := range tt.after {
				assert.Contains(t, d.AfterStatus, a)
			}
			if tt.noCalls {
				for _, call := range checks.calls {
					assert.NotContains(t, call, "hook gate", "the gate is not asked")
				}
			}
		})
	}
}

// A tick whose status write is lost is decided again from the same inputs:
// the request, still pending, is handled by the retried tick.
func TestRequestSurvivesALostStatusWrite(t *testing.T) {
	c := newCanary(running(v1beta1.CanaryPhaseProgressing, 30, 0, 0), withRequest(RequestAbort, "r1", ""))
	first := step(c, observed(rev2, 100, 0), newChecks()) // the route already moved back
	again := step(c, observed(rev2, 100, 0), newChecks())
	assert.Equal(t, first.Status.Phase, again.Status.Phase)
	assert.Equal(t, "r1", again.Status.LastHandledRequest)
}
