package analysis

import "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"

// Webhooks of one type run sequentially in spec order; the first failure
// stops that type for the tick (for rollback hooks, the first success).

// call posts one webhook with the phase the canary is in.
func (t *tick) call(h v1beta1.CanaryWebhook) error {
	return t.in.Checks.CallWebhook(t.ctx, h, t.st.Phase)
}

// confirmRollout runs the confirm-rollout gates before a new revision is
// scaled up. The first refusal moves the canary to Waiting with one warning
// event and one alert; later refusals add nothing until the gate opens.
func (t *tick) confirmRollout() bool {
	if t.gatesOpened() {
		return true
	}
	waiting := t.st.Phase == v1beta1.CanaryPhaseWaiting
	for _, h := range t.an.WebhooksOf(v1beta1.ConfirmRolloutHook) {
		if err := t.call(h); err != nil {
			if !waiting {
				t.st.Phase = v1beta1.CanaryPhaseWaiting
				t.warning(msgWaitRollout, canaryID(t.cd), h.Name)
				t.gateAlert(h, alertWaitRollout)
			}
			return false
		}
		if waiting {
			t.normal(msgRolloutPassed, h.Name)
		}
	}
	return true
}

// confirmTrafficIncrease runs the confirm-traffic-increase gates before a
// weight increase; Flagger warns and alerts on every refused tick.
func (t *tick) confirmTrafficIncrease() bool {
	if t.gatesOpened() {
		return true
	}
	for _, h := range t.an.WebhooksOf(v1beta1.ConfirmTrafficIncreaseHook) {
		if err := t.call(h); err != nil {
			t.warning(msgWaitTraffic, canaryID(t.cd), h.Name)
			t.gateAlert(h, alertWaitTraffic)
			return false
		}
		t.normal(msgTrafficPassed, h.Name)
	}
	return true
}

// confirmPromotion runs the confirm-promotion gates once the analysis is
// done. The first refusal moves the canary to WaitingPromotion and alerts;
// the analysis keeps running on later ticks, each refusal warning again.
func (t *tick) confirmPromotion() bool {
	if t.gatesOpened() {
		return true
	}
	for _, h := range t.an.WebhooksOf(v1beta1.ConfirmPromotionHook) {
		if err := t.call(h); err != nil {
			t.warning(msgWaitPromotion, canaryID(t.cd), h.Name)
			if t.st.Phase != v1beta1.CanaryPhaseWaitingPromotion {
				t.st.Phase = v1beta1.CanaryPhaseWaitingPromotion
				t.gateAlert(h, alertWaitPromotion)
			}
			return false
		}
		t.normal(msgPromotionPassed, h.Name)
	}
	return true
}

// gateAlert sends a gate's waiting alert unless the hook mutes it.
func (t *tick) gateAlert(h v1beta1.CanaryWebhook, msg string) {
	if !h.MuteAlert {
		t.alert(v1beta1.SeverityWarn, "%s", msg)
	}
}

// preRollout runs the pre-rollout hooks on the first analysis tick.
func (t *tick) preRollout() bool {
	for _, h := range t.an.WebhooksOf(v1beta1.PreRolloutHook) {
		if err := t.call(h); err != nil {
			t.warning(msgPreRolloutFailed, canaryID(t.cd), h.Name, err)
			return false
		}
		t.normal(msgPreRolloutPassed, h.Name)
	}
	return true
}

// rolloutChecks runs the rollout hooks, then the metrics; the first failure
// is reported and fails the tick's analysis.
func (t *tick) rolloutChecks() bool {
	for _, h := range t.an.WebhooksOf(v1beta1.RolloutHook) {
		if err := t.call(h); err != nil {
			t.warning(msgRolloutHookFailed, canaryID(t.cd), h.Name, err)
			return false
		}
	}
	for _, m := range metricsInOrder(t.an) {
		if m.Compare != nil && judging(t.an) {
			continue // judged against the baseline below, not against a threshold
		}
		if err := t.in.Checks.CheckMetric(t.ctx, m); err != nil {
			t.warning("%s", err.Error())
			return false
		}
	}
	final := StrategyOf(t.an) == StrategyCanary && t.obs.Routes.Canary >= t.cd.GetMaxWeight()
	if !t.judgeMetrics(final) {
		return false
	}
	t.checked = true
	return true
}

// noManualRollback asks the rollback hooks whether to roll back; the first
// that answers 2xx does.
func noManualRollback(t *tick) result {
	for _, h := range t.an.WebhooksOf(v1beta1.RollbackHook) {
		if err := t.call(h); err != nil {
			t.normal(msgRollbackHookIdle, h.Name)
			continue
		}
		t.warning(msgRollbackHookPassed, h.Name)
		return result{verdict: rollback, reason: ReasonManualRollback}
	}
	return passed
}

// probeMetricProviders reports, without blocking, whether the metric
// providers answer.
//
// Unlike Flagger, which probes on every tick until the primary is ready, the
// probe runs once, when the canary is first seen.
func (t *tick) probeMetricProviders() {
	if t.st.Phase != "" || t.cd.SkipAnalysis() || len(t.an.Metrics) == 0 {
		return
	}
	if err := t.in.Checks.ProbeMetricProviders(t.ctx); err != nil {
		t.warning(msgProvidersUnavailable, err)
		return
	}
	t.normal(msgProvidersAvailable)
}
