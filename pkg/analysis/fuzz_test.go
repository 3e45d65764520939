package analysis

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// FuzzStep runs one tick on an arbitrary canary: spec, status, observations
// and check results all come from the fuzz bytes (see fuzzInput), and the
// decision must keep the invariants of checkDecision whatever the input.
// Specs the CRD rejects are fuzzed too: a canary admitted by an older CRD, or
// a status edited by hand, must not make Step panic or misroute.
func FuzzStep(f *testing.F) {
	for _, s := range stepSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, obs, checks := fuzzInput(data)
		before := c.DeepCopy()
		d := step(c, obs, checks)
		require.Equal(t, before, c, "Step must not modify its input")
		checkDecision(t, c, obs, checks, d)

		again := fuzzChecksFor(c, data)
		require.True(t, reflect.DeepEqual(d, step(c, obs, again)), "Step is not a pure function of its input")
		require.Equal(t, checks.calls, again.calls, "the same input must make the same checks")
	})
}

// Fields of the fuzz input, one byte each, in this order; a byte picks one
// of the field's options modulo their number, and a missing byte is 0. The
// first option of every field is the tutorial canary (stepWeight 10,
// maxWeight 50, threshold 5) analysing rev2 with everything ready, so that
// the zero input is its first analysis tick and seeds only name what they
// change. The bytes after the last field name a phase of their own.
const (
	fAnalysis = iota // spec.analysis, spec.canaryAnalysis or none
	fIterations
	fMatch
	fStepWeight
	fStepWeightsLen
	fStepWeight0 // the four rungs of stepWeights
	fStepWeight1
	fStepWeight2
	fStepWeight3
	fMaxWeight
	fThreshold
	fMirror
	fSkipAnalysis
	fSuspend
	fStepWeightPromotion
	fHooks       // bit i: a webhook of hookTypes[i]
	fSecondHooks // bit i: a second one
	fMetrics
	fSessionAffinity
	fAutoscaler
	fDeletion
	fRevertOnDeletion
	fHookFails       // bit i: the first hook of hookTypes[i] answers non-2xx
	fSecondHookFails // bit i: the second one does
	fMetricFails     // bit i: metric i fails
	fProbeFails
	fPhase
	fWeight
	fStatusIterations
	fFailedChecks
	fLastApplied
	fLastPromoted
	fStatusConfigs
	fConditions
	fTargetMissing
	fTargetHash
	fObservedConfigs
	fPrimaryReady
	fCanaryReady
	fPrimaryRevision
	fRoutePrimary
	fRouteCanary
	fMirrored
	fRouteErr
	fRequest         // a request in the annotations (requests.go)
	fRequestRevision // the revision it names
	fieldCount
)

// Options of the fields; out-of-range and negative values are there on
// purpose.
var (
	iterationOptions   = []int{0, 1, 2, 3, 5, -1}
	stepWeightOptions  = []int{10, 0, 20, 33, 50, 100, 1, -10, 150}
	ladderOptions      = []int{5, 10, 20, 50, 80, 100, 0, 120, -5}
	maxWeightOptions   = []int{50, 0, 100, 30, -1, 150}
	thresholdOptions   = []int{5, 0, 1, 2, -1}
	promotionOptions   = []int{0, 10, 50, 100, -10, 200}
	weightOptions      = []int{0, 10, 20, 50, 100, 33, -5, 150}
	counterOptions     = []int{0, 1, 2, 3, 5, 6, 10, -1}
	revisionOptions    = []string{rev2, rev1, rev3, ""}
	promotedOptions    = []string{rev1, rev2, rev3, ""}
	routePrimaryOption = []int{100, 90, 50, 0, 70, -10, 150}
	routeCanaryOption  = []int{0, 10, 50, 100, 30, -10, 150}
	readyOptions       = []ReadyState{Ready, Waiting, Failed, ReadyState(9)}
	configOptions      = []map[string]string{nil, {"configmap/podinfo": "a"}, {"configmap/podinfo": "b"}, {}}
	hookTypes          = []v1beta1.HookType{
		v1beta1.ConfirmRolloutHook, v1beta1.PreRolloutHook, v1beta1.RolloutHook, "",
		v1beta1.ConfirmTrafficIncreaseHook, v1beta1.ConfirmPromotionHook, v1beta1.RollbackHook, v1beta1.PostRolloutHook,
	}
	// phaseOptions are the phases a stored status may hold; the last one
	// stands for the phase spelled by the bytes after the fields.
	requestOptions = []string{"", RequestPromote, RequestPromoteFull, RequestAbort, RequestRetry, "rollback", "handled"}
	phaseOptions   = []v1beta1.CanaryPhase{
		v1beta1.CanaryPhaseProgressing, v1beta1.CanaryPhaseWaitingPromotion, v1beta1.CanaryPhasePromoting,
		v1beta1.CanaryPhaseFinalising, v1beta1.CanaryPhaseSucceeded, v1beta1.CanaryPhaseFailed,
		v1beta1.CanaryPhaseInitialized, v1beta1.CanaryPhaseInitializing, v1beta1.CanaryPhaseWaiting,
		v1beta1.CanaryPhaseTerminating, v1beta1.CanaryPhaseTerminated, "", "promoting", customPhase,
	}
)

// customPhase marks the phase taken from the input's tail.
const customPhase v1beta1.CanaryPhase = "\x00custom"

// fuzzBytes reads the fields of a fuzz input.
type fuzzBytes []byte

func (b fuzzBytes) at(field int) int {
	if field < len(b) {
		return int(b[field])
	}
	return 0
}

func (b fuzzBytes) bool(field int) bool { return b.at(field)%2 == 1 }

func (b fuzzBytes) bit(field, i int) bool { return b.at(field)&(1<<i) != 0 }

func pick[T any](b fuzzBytes, field int, options []T) T {
	return options[b.at(field)%len(options)]
}

// fuzzInput decodes a canary, the observations and the check results.
func fuzzInput(data []byte) (*v1beta1.Canary, Observations, *fakeChecks) {
	b := fuzzBytes(data)
	c := newCanary(withAnalysis(func(a *v1beta1.CanaryAnalysis) { fuzzAnalysis(b, a) }),
		withSpec(func(s *v1beta1.CanarySpec) { fuzzSpec(b, s) }),
		withStatus(func(s *v1beta1.CanaryStatus) { fuzzStatus(b, s) }))
	// The finalizer, but where removed below: revertOnDeletion's, or, on a
	// canary without it, one that an older Serin put there.
	c.Finalizers = []string{Finalizer}
	if action := pick(b, fRequest, requestOptions); action != "" {
		c.Annotations = map[string]string{RequestAnnotation: action, RequestIDAnnotation: "req"}
		if rev := pick(b, fRequestRevision, []string{"", rev2, rev3}); rev != "" {
			c.Annotations[RequestRevisionAnnotation] = rev
		}
		if action == "handled" {
			c.Status.LastHandledRequest = "req"
		}
	}
	switch b.at(fDeletion) % 4 {
	case 1:
		c.DeletionTimestamp = &metav1.Time{Time: t0}
	case 2:
		c.DeletionTimestamp = &metav1.Time{Time: t0}
		c.Finalizers = nil
	case 3:
		c.Finalizers = nil
	}
	return c, fuzzObservations(b, c.Status), fuzzChecksFor(c, data)
}

func fuzzAnalysis(b fuzzBytes, a *v1beta1.CanaryAnalysis) {
	a.Iterations = pick(b, fIterations, iterationOptions)
	if b.bool(fMatch) {
		a.Match = []v1beta1.HTTPMatchRequest{{}}
	}
	a.StepWeight = pick(b, fStepWeight, stepWeightOptions)
	for i := range b.at(fStepWeightsLen) % 5 {
		a.StepWeights = append(a.StepWeights, pick(b, fStepWeight0+i, ladderOptions))
	}
	a.MaxWeight = pick(b, fMaxWeight, maxWeightOptions)
	a.Threshold = pick(b, fThreshold, thresholdOptions)
	a.Mirror = b.bool(fMirror)
	a.StepWeightPromotion = pick(b, fStepWeightPromotion, promotionOptions)
	for i, typ := range hookTypes {
		for n, field := range []int{fHooks, fSecondHooks} {
			if b.bit(field, i) {
				a.Webhooks = append(a.Webhooks, hook(typ, fuzzHookName(typ, n)))
			}
		}
	}
	a.Metrics = [][]v1beta1.CanaryMetric{
		nil,
		{metric("error-rate")},
		{{Name: "request-success-rate"}},
		{metric("error-rate"), {Name: "request-duration"}},
		{metric("error-rate"), metric("latency"), {Name: "request-success-rate"}},
	}[b.at(fMetrics)%5]
	switch b.at(fSessionAffinity) % 3 {
	case 1:
		a.SessionAffinity = &v1beta1.SessionAffinity{CookieName: "canary"}
	case 2:
		a.SessionAffinity = &v1beta1.SessionAffinity{CookieName: "canary", PrimaryCookieName: "primary"}
	}
}

func fuzzHookName(typ v1beta1.HookType, n int) string {
	if typ == "" {
		typ = "untyped"
	}
	return string(typ) + "-" + string(rune('a'+n))
}

func fuzzSpec(b fuzzBytes, s *v1beta1.CanarySpec) {
	switch b.at(fAnalysis) % 3 {
	case 1:
		s.CanaryAnalysis, s.Analysis = s.Analysis, nil
	case 2:
		s.Analysis = nil
	}
	s.SkipAnalysis = b.bool(fSkipAnalysis)
	s.Suspend = b.bool(fSuspend)
	s.RevertOnDeletion = b.bool(fRevertOnDeletion)
	if b.bool(fAutoscaler) {
		s.AutoscalerRef = &v1beta1.AutoscalerReference{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler", Name: "podinfo"}
	}
}

func fuzzStatus(b fuzzBytes, s *v1beta1.CanaryStatus) {
	s.Phase = pick(b, fPhase, phaseOptions)
	if s.Phase == customPhase {
		s.Phase = ""
		if len(b) > fieldCount {
			s.Phase = v1beta1.CanaryPhase(b[fieldCount:])
		}
	}
	s.CanaryWeight = pick(b, fWeight, weightOptions)
	s.Iterations = pick(b, fStatusIterations, counterOptions)
	s.FailedChecks = pick(b, fFailedChecks, counterOptions)
	s.LastAppliedSpec = pick(b, fLastApplied, revisionOptions)
	s.LastPromotedSpec = pick(b, fLastPromoted, promotedOptions)
	if configs := pick(b, fStatusConfigs, configOptions[:3]); configs != nil {
		s.TrackedConfigs = &configs
	}
	conditions := b.at(fConditions) % 4
	if conditions&1 != 0 {
		status, msg := PromotedCondition(s.Phase, "Deployment")
		s.Conditions = append(s.Conditions, v1beta1.CanaryCondition{
			Type: v1beta1.PromotedType, Status: status, Reason: string(s.Phase), Message: msg,
		})
	}
	if conditions&2 != 0 {
		s.Conditions = append(s.Conditions, v1beta1.CanaryCondition{Type: SuspendedType, Status: "True", Reason: ReasonSuspended})
	}
}

func fuzzObservations(b fuzzBytes, st v1beta1.CanaryStatus) Observations {
	obs := Observations{
		TargetMissing:  b.bool(fTargetMissing),
		TargetHash:     pick(b, fTargetHash, revisionOptions),
		TrackedConfigs: pick(b, fObservedConfigs, configOptions),
		Primary:        Readiness{State: pick(b, fPrimaryReady, readyOptions), Message: "podinfo-primary.test not ready"},
		Canary:         Readiness{State: pick(b, fCanaryReady, readyOptions), Message: "podinfo.test not ready"},
		PrimaryRevision: pick(b, fPrimaryRevision,
			[]string{rev1, st.AppliedRevision(), rev2, rev3, ""}),
		Routes: Routes{
			Primary:  pick(b, fRoutePrimary, routePrimaryOption),
			Canary:   pick(b, fRouteCanary, routeCanaryOption),
			Mirrored: b.bool(fMirrored),
		},
	}
	if b.bool(fRouteErr) {
		obs.Routes.Err = errRouteNotAccepted
	}
	return obs
}

// errRouteNotAccepted is the route error of the fuzz inputs; one value, so
// that two decisions on the same input compare equal.
var errRouteNotAccepted = errFuzz("HTTPRoute test/podinfo not accepted by gateway")

type errFuzz string

func (e errFuzz) Error() string { return string(e) }

// fuzzChecksFor answers the webhooks and metrics of c as the fuzz bytes say.
func fuzzChecksFor(c *v1beta1.Canary, data []byte) *fakeChecks {
	b := fuzzBytes(data)
	checks := newChecks()
	for i, typ := range hookTypes {
		for n, field := range []int{fHookFails, fSecondHookFails} {
			if b.bit(field, i) {
				checks.failHook(fuzzHookName(typ, n), "gate closed")
			}
		}
	}
	if a := c.GetAnalysis(); a != nil {
		for i, m := range a.Metrics {
			if b.bit(fMetricFails, i) {
				checks.failMetric(m.Name, "Halt advancement no values found for custom metric: "+m.Name)
			}
		}
	}
	if b.bool(fProbeFails) {
		checks.probe = errFuzz("prometheus unavailable")
	}
	return checks
}

// stepSeeds are the seed corpus: every phase of the tutorial canary, then
// the inputs that reach the interesting branches (promotion at maxWeight,
// skipAnalysis, blue/green and A/B at their last iteration, failing checks,
// unready workloads, deletion, suspension, hand-edited statuses).
func stepSeeds() [][]byte {
	var seeds [][]byte
	for p := range phaseOptions {
		seeds = append(seeds, fuzzSeed(fPhase, p))
	}
	return append(seeds,
		// Weighted canary at maxWeight with checks: promotes.
		fuzzSeed(fWeight, 3, fRoutePrimary, 2, fRouteCanary, 2, fMetrics, 3, fHooks, 0b00001100),
		fuzzSeed(fWeight, 3, fRoutePrimary, 2, fRouteCanary, 2, fMetrics, 3, fMetricFails, 2),
		fuzzSeed(fWeight, 3, fRoutePrimary, 2, fRouteCanary, 2, fHooks, 0b00100000, fHookFails, 0b00100000),
		// stepWeights ladder, mirror pre-stage, stepped promotion.
		fuzzSeed(fStepWeightsLen, 3, fStepWeight, 1, fStepWeight0, 1, fStepWeight1, 2, fStepWeight2, 3),
		fuzzSeed(fMirror, 1, fMetrics, 1),
		fuzzSeed(fPhase, 2, fStepWeightPromotion, 1, fRoutePrimary, 2, fRouteCanary, 2, fPrimaryRevision, 1),
		// Specs the CRD now rejects: no step to take.
		fuzzSeed(fStepWeight, 1, fMetrics, 1),
		fuzzSeed(fStepWeight, 1, fStepWeightsLen, 1, fStepWeight0, 6),
		fuzzSeed(fAnalysis, 2),
		// skipAnalysis, blue/green and A/B at their last iterations.
		fuzzSeed(fSkipAnalysis, 1, fCanaryReady, 1),
		fuzzSeed(fSkipAnalysis, 1, fPhase, 5),
		fuzzSeed(fIterations, 4, fStatusIterations, 4, fMetrics, 1),
		fuzzSeed(fIterations, 4, fStatusIterations, 5, fMetrics, 1, fMirror, 1, fMirrored, 1),
		fuzzSeed(fIterations, 3, fMatch, 1, fStatusIterations, 3, fRouteCanary, 3, fRoutePrimary, 3),
		// Gates, thresholds, unready and failed workloads.
		fuzzSeed(fPhase, 4, fTargetHash, 2, fHooks, 0b00000001, fHookFails, 0b00000001),
		fuzzSeed(fPhase, 8, fTargetHash, 0, fHooks, 0b01000001, fHookFails, 0b00000001),
		fuzzSeed(fFailedChecks, 4, fWeight, 1, fRouteCanary, 1, fRoutePrimary, 1),
		fuzzSeed(fCanaryReady, 1, fWeight, 1, fRouteCanary, 1, fRoutePrimary, 1),
		fuzzSeed(fCanaryReady, 2, fWeight, 1, fRouteCanary, 1, fRoutePrimary, 1),
		// A promoted primary that fails while the canary is not ready either:
		// failPromotion routes all the traffic to the unready canary.
		fuzzSeed(fPhase, 2, fPrimaryReady, 2, fCanaryReady, 1, fRouteCanary, 2, fRoutePrimary, 2, fPrimaryRevision, 1),
		fuzzSeed(fPhase, 2, fTargetHash, 2),
		fuzzSeed(fRouteErr, 1),
		fuzzSeed(fTargetHash, 2, fObservedConfigs, 1, fStatusConfigs, 2),
		fuzzSeed(fTargetMissing, 1),
		// Deletion, suspension, garbage.
		fuzzSeed(fDeletion, 1, fRevertOnDeletion, 1),
		fuzzSeed(fDeletion, 1, fRevertOnDeletion, 1, fPhase, 9, fAutoscaler, 1),
		fuzzSeed(fDeletion, 1, fPhase, 10),
		fuzzSeed(fDeletion, 2),
		fuzzSeed(fSuspend, 1, fConditions, 1),
		fuzzSeed(fConditions, 3, fSessionAffinity, 2, fWeight, 1, fRouteCanary, 1, fRoutePrimary, 1),
		fuzzSeed(fPhase, 13, fieldCount, 'X'),
		// Another writer set the route to -10/150 (Gateway API weights are
		// relative, not percentages): the status must not say 150.
		fuzzSeed(fWeight, 6, fStatusIterations, 7, fFailedChecks, 7, fRoutePrimary, 5, fRouteCanary, 6),
		fuzzSeed(fPhase, 2, fStepWeightPromotion, 1, fRoutePrimary, 5, fRouteCanary, 6, fPrimaryRevision, 1),
		// maxWeight and stepWeight 150, admitted by an older CRD (replacing a
		// CRD does not validate the objects already stored).
		fuzzSeed(fMaxWeight, 5, fStepWeight, 8),
		// A failed promotion at rest while the canary is not ready and the
		// primary is: the idle tick moves all the traffic to the canary.
		fuzzSeed(fPhase, 5, fWeight, 4, fCanaryReady, 1),
	)
}

// fuzzSeed builds an input from field, option pairs; a field at or past
// fieldCount is a byte of the custom phase.
func fuzzSeed(pairs ...int) []byte {
	b := make([]byte, fieldCount)
	for i := 0; i+1 < len(pairs); i += 2 {
		for len(b) <= pairs[i] {
			b = append(b, 0)
		}
		b[pairs[i]] = byte(pairs[i+1])
	}
	return b
}

// canaryShare is the percentage of the traffic a route sends to the canary,
// rounded up: Gateway API weights are relative (1/3 is 25% for the canary),
// and a negative weight counts as 0.
func canaryShare(r Routes) int {
	p, c := max(r.Primary, 0), max(r.Canary, 0)
	if p+c == 0 {
		return 0
	}
	return (c*100 + p + c - 1) / (p + c)
}

// knownPhase reports whether p is one of Flagger's phases.
func knownPhase(p v1beta1.CanaryPhase) bool {
	for _, known := range phaseOptions[:11] {
		if p == known {
			return true
		}
	}
	return false
}

// hasFormattingError reports a fmt verb that did not match its argument.
func hasFormattingError(s string) bool {
	return strings.Contains(s, "%!")
}

// fuzzCall is a call recorded by fakeChecks: "hook <name> <phase>" or
// "metric <name>".
func fuzzCalled(calls []string, kind, name string) bool {
	for _, c := range calls {
		f := strings.Fields(c)
		if len(f) >= 2 && f[0] == kind && f[1] == name {
			return true
		}
	}
	return false
}

// checkDecision asserts what every tick must decide, whatever its input.
func checkDecision(t testing.TB, c *v1beta1.Canary, obs Observations, checks *fakeChecks, d Decision) {
	t.Helper()
	in := c.Status
	all := append(append([]Action{}, d.Actions...), d.AfterStatus...)
	for i, a := range all {
		switch a := a.(type) {
		case SetRoutes:
			require.True(t, a.Primary >= 0 && a.Canary >= 0 && a.Primary+a.Canary == 100,
				"SetRoutes %d/%d: weights must be in [0, 100] and sum to 100", a.Primary, a.Canary)
			// A canary that is not ready may keep the traffic it has (a
			// stepped promotion takes it back a step at a time), never get
			// more.
			if share := canaryShare(obs.Routes); obs.Canary.State != Ready && a.Canary > share {
				require.Failf(t, "SetRoutes gives more traffic to a canary that is not ready",
					"%d%% (the route, %d/%d, gives it %d%%; canary %v)", a.Canary, obs.Routes.Primary, obs.Routes.Canary, share, obs.Canary)
			}
		case PromoteToPrimary:
			checkPromotion(t, c, obs, checks, a)
		case ScaleTargetToZero:
			if i < len(d.Actions) {
				require.NotContains(t, []v1beta1.CanaryPhase{v1beta1.CanaryPhaseProgressing, v1beta1.CanaryPhaseWaitingPromotion}, in.Phase,
					"the target is scaled to zero before the status leaves %s: an interrupted tick would wait for it forever", in.Phase)
			}
		case AddFinalizer:
			require.NotContains(t, c.Finalizers, Finalizer, "AddFinalizer on a canary that has it")
		case RemoveFinalizer:
			if c.DeletionTimestamp != nil {
				require.Equal(t, len(all)-1, i, "RemoveFinalizer must be the last action of a deleted canary")
				continue
			}
			// An older Serin's finalizer goes from a live canary after the
			// actions that make it useless.
			require.False(t, c.Spec.RevertOnDeletion, "RemoveFinalizer on a canary with revertOnDeletion that is not being deleted")
			require.Equal(t, len(d.Actions)-1, i, "RemoveFinalizer must be the last of the actions before the status")
			require.Contains(t, d.Actions, Action(EnsurePrimary{}), "RemoveFinalizer before the primary side is reconciled")
			require.Contains(t, d.Actions, Action(ReconcileRouting{}), "RemoveFinalizer before the routing is reconciled")
		}
	}

	st := d.Status
	if st.Phase != in.Phase {
		require.True(t, knownPhase(st.Phase), "Step wrote the unknown phase %q", st.Phase)
	}
	require.Contains(t, []int{in.FailedChecks, in.FailedChecks + 1, 0}, st.FailedChecks, "failedChecks")
	if st.CanaryWeight != in.CanaryWeight {
		require.True(t, st.CanaryWeight >= 0 && st.CanaryWeight <= 100, "canaryWeight %d", st.CanaryWeight)
	}
	if st.Iterations != in.Iterations {
		n := 0
		if a := c.GetAnalysis(); a != nil {
			n = a.Iterations
		}
		require.True(t, st.Iterations >= 0 && st.Iterations <= max(n+1, 1), "iterations %d of %d", st.Iterations, n)
	}
	if st.LastPromotedSpec != in.LastPromotedSpec {
		require.Equal(t, st.LastAppliedSpec, st.LastPromotedSpec, "only the applied revision becomes the promoted one")
		require.Contains(t, []v1beta1.CanaryPhase{v1beta1.CanaryPhaseSucceeded, v1beta1.CanaryPhaseInitialized}, st.Phase,
			"lastPromotedSpec changed in phase %s", st.Phase)
	}
	require.Equal(t, c.Generation, st.ObservedGeneration, "observedGeneration")
	require.GreaterOrEqual(t, d.Next.After, time.Duration(0), "next.after")
	if Idle(st.Phase) {
		require.Equal(t, Next{}, d.Next, "an idle canary has no tick due")
	} else if c.DeletionTimestamp == nil {
		require.Positive(t, d.Next.After, "a canary that is not idle has a tick due")
	}

	if c.Spec.Suspend && c.DeletionTimestamp == nil {
		require.Empty(t, all, "a suspended canary changes nothing")
		require.Empty(t, checks.calls, "a suspended canary calls nothing")
	}
	for _, e := range d.Events {
		require.Contains(t, []string{corev1.EventTypeNormal, corev1.EventTypeWarning}, e.Type, "event type")
		require.Equal(t, EventReason, e.Reason, "event reason")
		require.NotEmpty(t, e.Message, "event message")
		require.False(t, hasFormattingError(e.Message), "event message %q", e.Message)
	}
	for _, a := range d.Alerts {
		require.Contains(t, []v1beta1.AlertSeverity{v1beta1.SeverityInfo, v1beta1.SeverityWarn, v1beta1.SeverityError}, a.Severity, "alert severity")
		require.NotEmpty(t, a.Message, "alert message")
		require.False(t, hasFormattingError(a.Message), "alert message %q", a.Message)
	}
}

// checkPromotion asserts that a promotion copies the analysed revision, and
// only after the analysis the spec asks for. What one tick can prove: from
// Promoting, the copy is of the revision the status recorded and the target
// still runs it; from an analysis phase, the canary is ready and runs that
// revision, and, unless analysis is skipped, this tick ran every rollout
// hook and metric and all passed, and it is not the run's first tick (which
// only runs the pre-rollout hooks; Flagger's definition: no canary weight,
// no iteration, nothing mirrored).
func checkPromotion(t testing.TB, c *v1beta1.Canary, obs Observations, checks *fakeChecks, p PromoteToPrimary) {
	t.Helper()
	st := c.Status
	require.Equal(t, st.AppliedRevision(), p.Revision, "PromoteToPrimary must copy the analysed revision")
	switch st.Phase {
	case v1beta1.CanaryPhasePromoting:
		require.Equal(t, v1beta1.RevisionID(obs.TargetHash, obs.TrackedConfigs), p.Revision,
			"the copy is made while the target runs another revision")
		return
	case v1beta1.CanaryPhaseProgressing, v1beta1.CanaryPhaseWaitingPromotion:
	default:
		require.Failf(t, "PromoteToPrimary outside an analysis", "phase %q", st.Phase)
	}
	require.Equal(t, st.LastAppliedSpec, obs.TargetHash, "promoted while the target runs another revision")
	require.Equal(t, Ready, obs.Canary.State, "promoted a canary that is not ready")
	if c.SkipAnalysis() {
		return
	}
	if r, ok := pendingRequest(c, st); ok && r.action == RequestPromoteFull && (r.revision == "" || r.revision == obs.TargetHash) {
		return // promoted by hand, without the rest of the analysis
	}
	a := c.GetAnalysis()
	for _, h := range a.Webhooks {
		switch h.Type {
		case v1beta1.RolloutHook, "":
			require.True(t, fuzzCalled(checks.calls, "hook", h.Name), "promoted without calling rollout hook %s", h.Name)
			require.NoError(t, checks.hooks[h.Name], "promoted although rollout hook %s failed", h.Name)
		case v1beta1.PreRolloutHook:
			require.False(t, fuzzCalled(checks.calls, "hook", h.Name), "promoted on the tick of the pre-rollout hooks")
		}
	}
	for _, m := range a.Metrics {
		require.True(t, fuzzCalled(checks.calls, "metric", m.Name), "promoted without checking metric %s", m.Name)
		require.NoError(t, checks.metrics[m.Name], "promoted although metric %s failed", m.Name)
	}
	first := obs.Routes.Canary == 0 && st.Iterations == 0 && !(a.Mirror && obs.Routes.Mirrored)
	require.False(t, first, "promoted on the first tick of a run")
}
