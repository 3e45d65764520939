package analysis

import (
	"context"

	"github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// tick is the working state of one Step: the inputs and the decision under
// construction. Phase handlers read the inputs and append to the decision.
type tick struct {
	ctx context.Context
	in  Input
	cd  *v1beta1.Canary
	an  *v1beta1.CanaryAnalysis // never nil; empty when the spec has none
	obs Observations

	// st is the new status, a deep copy of the canary's.
	st v1beta1.CanaryStatus
	// conditionMessage, when set, replaces the Promoted condition's message
	// for the phase the tick ends in.
	conditionMessage string
	// frozen leaves the status as it is but for observedGeneration.
	frozen bool
	// checked is set once this tick's rollout checks (hooks and metrics)
	// ran and passed; nothing is promoted on a tick without them.
	checked bool
	// req is the pending request the phase handler acts on (requests.go).
	req request
	// judgeFailure is the rollback the judge asks for on this tick, and
	// judgePassed says that it promotes early (judge.go).
	judgeFailure result
	judgePassed  bool
	// judgeRecheck is set when a judged run's route is all on the primary
	// mid-run: the checks run before the weights are put back.
	judgeRecheck bool
	d            Decision
}

// Step runs one tick of the canary state machine and returns what the
// controller must do. It follows Flagger's tick order (flagger-behaviour.md
// §2.2), with the deviations documented where they are made. Step does no I/O
// of its own: webhooks and metrics go through in.Checks.
func Step(ctx context.Context, in Input) Decision {
	t := newTick(ctx, in)
	t.run()
	return t.finish()
}

func newTick(ctx context.Context, in Input) *tick {
	an := in.Canary.GetAnalysis()
	if an == nil {
		an = &v1beta1.CanaryAnalysis{}
	}
	return &tick{
		ctx: ctx,
		in:  in,
		cd:  in.Canary,
		an:  an,
		obs: observedShares(in.Observed),
		st:  *in.Canary.Status.DeepCopy(),
		d:   Decision{Next: Next{After: in.Canary.GetAnalysisInterval()}},
	}
}

// observedShares returns obs with the route's weights as percentages.
func observedShares(obs Observations) Observations {
	obs.Routes = asShares(obs.Routes)
	return obs
}

// run dispatches to the handler of the current phase.
func (t *tick) run() {
	switch {
	case t.cd.DeletionTimestamp != nil:
		t.terminate()
		return
	case t.cd.Spec.Suspend:
		t.suspend()
		return
	}
	t.resume()
	if t.obs.TargetMissing {
		t.d.Reason = ReasonTargetNotFound
		t.warning(msgTargetMissing, t.cd.Spec.TargetRef.Kind, targetID(t.cd))
		return
	}
	t.syncFinalizer()
	t.takeRequest()
	switch phase := t.st.Phase; {
	case phase != "" && Idle(phase):
		t.idle()
	case phase == v1beta1.CanaryPhaseWaiting:
		t.waiting()
	case phase == v1beta1.CanaryPhaseProgressing || phase == v1beta1.CanaryPhaseWaitingPromotion:
		t.analyse()
	case phase == v1beta1.CanaryPhasePromoting:
		t.promoting()
	case phase == v1beta1.CanaryPhaseFinalising:
		t.finalising()
	default:
		// "", Initializing, and Terminating or Terminated on a canary that
		// is not being deleted (only a hand-edited status gets there).
		t.initialize()
	}
	t.dropFinalizer()
}

// act appends actions to the decision.
func (t *tick) act(actions ...Action) {
	t.d.Actions = append(t.d.Actions, actions...)
}

// after appends actions to run once the status is written.
func (t *tick) after(actions ...Action) {
	t.d.AfterStatus = append(t.d.AfterStatus, actions...)
}

// actOnAutoscaler appends an autoscaler action when the canary has one.
func (t *tick) actOnAutoscaler(a Action) {
	if t.cd.Spec.AutoscalerRef != nil {
		t.act(a)
	}
}

// finish completes the status and returns the decision.
func (t *tick) finish() Decision {
	if !t.frozen {
		t.syncSessionCookies()
		t.stampStatus()
	}
	t.st.ObservedGeneration = t.cd.Generation
	t.d.Status = t.st
	if Idle(t.st.Phase) {
		t.d.Next = Next{}
	}
	return t.d
}
