package analysis

import (
	"fmt"

	"github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// Requests steer a release by hand without touching the spec, so that a
// GitOps tool has nothing to revert (Flux's reconcile.fluxcd.io/requestedAt
// works the same way). A request is three annotations on the Canary, set
// together (kubectl annotate, or kubectl serin):
//
//	serin.dev/request:          promote | promote-full | abort | retry |
//	                            pause | resume
//	serin.dev/request-id:       any token, new for each request
//	serin.dev/request-revision: optional; the revision (status.lastAppliedSpec)
//	                            the request is for
//
// A request is pending while its id differs from status.lastHandledRequest.
// The tick that handles it writes the id there in the same status write as
// the step it causes, so an interrupted tick handles it again, and a request
// is never handled twice. A request that does not fit the canary's phase, or
// names another revision, is handled by an event saying why it was ignored.
//
// Unlike Flagger, which has no such requests: its users toggle spec fields
// (skipAnalysis, suspend), which GitOps tools revert, or call the load
// tester's gates.
const (
	RequestAnnotation         = "serin.dev/request"
	RequestIDAnnotation       = "serin.dev/request-id"
	RequestRevisionAnnotation = "serin.dev/request-revision"
)

// The requests.
const (
	// RequestPromote opens the confirm gates that are waiting (confirm-
	// rollout, confirm-traffic-increase, confirm-promotion) once, for the
	// current revision.
	RequestPromote = "promote"
	// RequestPromoteFull promotes the revision under analysis now, skipping
	// the rest of its analysis and its gates, once.
	RequestPromoteFull = "promote-full"
	// RequestAbort rolls the run back now.
	RequestAbort = "abort"
	// RequestRetry runs a Failed revision again, without a spec change.
	RequestRetry = "retry"
	// RequestPause holds the release where it is (status.paused) until a
	// resume request: no check runs and no traffic moves. An abort request
	// still rolls it back; promote, promote-full and retry are refused
	// until it is resumed. A promotion under way (Promoting, Finalising) is
	// not held: stopping halfway would leave the primary half-updated.
	RequestPause = "pause"
	// RequestResume lets a paused release go on from where it was held.
	RequestResume = "resume"
)

// ReasonRequest means the tick was decided by a request.
const ReasonRequest = "Request"

const (
	msgRequestIgnored       = "Request %s (%s) ignored: %s"
	msgRequestOtherRevision = "it is for revision %s, and %s runs %s"
	msgRequestPhase         = "nothing to %s while the canary is %s"
	msgRequestUnknown       = "unknown request; use promote, promote-full, abort, retry, pause or resume"
	msgRequestPaused        = "the canary is paused; resume it first"
	msgRequestNotPaused     = "the canary is not paused"
	msgRequestAlreadyPaused = "the canary is already paused"
	msgPauseRequest         = "Request pause (%s): %s holds here until resumed"
	msgResumeRequest        = "Request resume (%s): %s goes on"
	msgRequestFailedPromo   = "the last promotion failed and the canary serves all the traffic; push a new revision instead"
	msgRequestNoFailed      = "the target no longer runs the failed revision"
	msgGatesOpened          = "Request promote (%s): the waiting confirm gates open once"
	msgPromoteFull          = "Request promote-full (%s): promoting %s without the rest of its analysis"
	msgAborted              = "Rolling back %s: aborted by request %s"
	msgRetry                = "Request retry (%s): running %s again"
	alertAborted            = "Rolling back: aborted by request"
)

// request is a pending request.
type request struct {
	action, id, revision string
}

// pendingRequest returns the request in cd's annotations that st has not
// handled.
func pendingRequest(cd *v1beta1.Canary, st v1beta1.CanaryStatus) (request, bool) {
	r := request{
		action:   cd.Annotations[RequestAnnotation],
		id:       cd.Annotations[RequestIDAnnotation],
		revision: cd.Annotations[RequestRevisionAnnotation],
	}
	if r.id == "" || r.id == st.LastHandledRequest {
		return request{}, false
	}
	return r, true
}

// PendingRequest returns the id of the request in cd's annotations that
// its status has not handled; empty when there is none.
func PendingRequest(cd *v1beta1.Canary) string {
	r, _ := pendingRequest(cd, cd.Status)
	return r.id
}

// takeRequest looks at the pending request, if any, before the phase
// handler runs. It records in t.req the request the handler acts on, and
// handles at once, with an event, the requests that cannot apply.
func (t *tick) takeRequest() {
	r, ok := pendingRequest(t.cd, t.st)
	if !ok {
		return
	}
	phase := t.st.Phase
	if phase == "" {
		phase = v1beta1.CanaryPhaseInitializing
	}
	ignore := func(why string) {
		t.handled(r)
		t.normal(msgRequestIgnored, r.action, r.id, why)
	}
	if r.revision != "" && r.revision != t.obs.TargetHash {
		ignore(fmt.Sprintf(msgRequestOtherRevision, r.revision, targetID(t.cd), t.obs.TargetHash))
		return
	}
	analysing := phase == v1beta1.CanaryPhaseProgressing || phase == v1beta1.CanaryPhaseWaitingPromotion
	switch r.action {
	case RequestPause, RequestResume:
		t.pauseOrResume(r, phase, ignore)
		return
	case RequestPromote, RequestPromoteFull, RequestRetry:
		if t.st.Paused {
			ignore(msgRequestPaused)
			return
		}
	}
	switch r.action {
	case RequestPromote, RequestAbort:
		if !analysing && phase != v1beta1.CanaryPhaseWaiting {
			ignore(fmt.Sprintf(msgRequestPhase, r.action, phase))
			return
		}
	case RequestPromoteFull:
		if !analysing {
			ignore(fmt.Sprintf(msgRequestPhase, r.action, phase))
			return
		}
	case RequestRetry:
		switch {
		case phase != v1beta1.CanaryPhaseFailed:
			ignore(fmt.Sprintf(msgRequestPhase, r.action, phase))
			return
		case failedPromotion(t.st):
			ignore(msgRequestFailedPromo)
			return
		case t.obs.TargetHash != t.st.LastAppliedSpec || t.st.LastAppliedSpec == t.st.LastPromotedSpec:
			ignore(msgRequestNoFailed)
			return
		}
	default:
		ignore(msgRequestUnknown)
		return
	}
	t.req = r
}

// handled records r as handled in the status being written.
func (t *tick) handled(r request) {
	t.st.LastHandledRequest = r.id
}

// requested reports whether the pending request of the tick is action.
func (t *tick) requested(action string) bool {
	return t.req.action == action
}

// gatesOpened reports whether a promote request opens this tick's confirm
// gates, and records the request as handled the first time it does.
func (t *tick) gatesOpened() bool {
	if !t.requested(RequestPromote) {
		return false
	}
	if t.st.LastHandledRequest != t.req.id {
		t.handled(t.req)
		t.normal(msgGatesOpened, t.req.id)
	}
	return true
}

// abortRequested rolls the run back on an abort request.
func abortRequested(t *tick) result {
	if !t.requested(RequestAbort) {
		return passed
	}
	t.handled(t.req)
	return result{verdict: rollback, reason: ReasonRequest, message: t.req.id}
}

// promoteFull promotes the revision under analysis on a promote-full
// request, through the same Promoting phase as a finished analysis.
func (t *tick) promoteFull() bool {
	if !t.requested(RequestPromoteFull) {
		return false
	}
	t.handled(t.req)
	t.d.Reason = ReasonRequest
	t.normal(msgPromoteFull, t.req.id, targetID(t.cd))
	t.checked = true
	t.promote()
	return true
}

// retryRequested records the retry request as handled once the Failed
// revision has left Failed (its run started, or waits at its confirm-rollout
// gate); takeRequest has checked that it is the failed one.
func (t *tick) retryRequested() {
	t.handled(t.req)
	t.d.Reason = ReasonRequest
	t.normal(msgRetry, t.req.id, targetID(t.cd))
}

// pauseOrResume handles a pause or resume request at once: it only sets
// status.paused, which the notPaused policy reads on this tick and the next.
func (t *tick) pauseOrResume(r request, phase v1beta1.CanaryPhase, ignore func(string)) {
	pause := r.action == RequestPause
	switch {
	case phase == v1beta1.CanaryPhaseTerminating || phase == v1beta1.CanaryPhaseTerminated:
		ignore(fmt.Sprintf(msgRequestPhase, r.action, phase))
	case pause && t.st.Paused:
		ignore(msgRequestAlreadyPaused)
	case !pause && !t.st.Paused:
		ignore(msgRequestNotPaused)
	default:
		t.st.Paused = pause
		t.handled(r)
		if pause {
			t.normal(msgPauseRequest, r.id, canaryID(t.cd))
		} else {
			t.normal(msgResumeRequest, r.id, canaryID(t.cd))
		}
	}
}

// notPaused holds a paused canary: no check, no traffic step, no new run.
// It does not warn on every tick: the pause request's event said why.
func notPaused(t *tick) result {
	if !t.st.Paused {
		return passed
	}
	return result{verdict: wait, reason: ReasonPaused}
}
