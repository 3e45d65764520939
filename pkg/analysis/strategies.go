package analysis

import "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"

// stepCanary takes one step of a weighted canary after a passing analysis:
// the mirror pre-stage, a weight increase, or, at maxWeight, the promotion.
//
// Unlike Flagger, status.canaryWeight keeps the route's real weight in
// WaitingPromotion (Flagger shows 0 while traffic is split, #1819).
func (t *tick) stepCanary() {
	w := t.obs.Routes.Canary
	if w < t.cd.GetMaxWeight() {
		if t.an.Mirror && w == 0 && t.st.Iterations == 0 {
			t.startMirroring()
			return
		}
		if next := NextWeight(t.cd, w); next > w {
			t.advanceWeight(next)
			return
		}
	}
	t.st.CanaryWeight = w
	if t.confirmPromotion() {
		t.promote()
	}
}

// startMirroring is the mirror pre-stage of a weighted canary: one interval
// in which the canary sees a copy of the traffic and answers none of it.
//
// Unlike Flagger, the stage is recorded in status.iterations (0 → 1) instead
// of being read back from the route: Flagger's Gateway API router never
// reports the mirror of a weighted canary, so the stage repeated forever.
// The traffic-increase gate is also asked before the first real traffic, not
// before the mirror, which sends the users nothing.
func (t *tick) startMirroring() {
	t.act(SetRoutes{Primary: totalWeight, Mirrored: true})
	t.st.Iterations = 1
	t.st.CanaryWeight = 0
	t.normal(msgAdvanceWeight, canaryID(t.cd), 0)
}

// advanceWeight routes next percent of the traffic to the canary once the
// confirm-traffic-increase gates agree.
//
// Unlike Flagger, the gates are only asked when the weight really increases;
// Flagger also asks them on the tick that promotes at maxWeight.
func (t *tick) advanceWeight(next int) {
	if !t.confirmTrafficIncrease() {
		return
	}
	t.act(t.split(next))
	t.st.CanaryWeight = next
	t.normal(msgAdvanceWeight, canaryID(t.cd), next)
}

// stepABTesting counts an A/B iteration: the matched requests go to the
// canary (the route's matched rule gets 0/100), the others to the primary.
// status.canaryWeight stays 0, the share of the unmatched traffic.
func (t *tick) stepABTesting() {
	if n := t.an.Iterations; t.st.Iterations < n {
		t.act(SetRoutes{Canary: totalWeight})
		t.st.Iterations++
		t.normal(msgAdvanceIteration, canaryID(t.cd), t.st.Iterations, n)
		return
	}
	if t.confirmPromotion() {
		t.promote()
	}
}

// stepBlueGreen counts a blue/green iteration (with mirroring if asked).
// After the last one, and once the confirm-promotion gates agree, one more
// tick serves all the traffic from the canary, under analysis, before the
// promotion.
//
// Unlike Flagger, status.canaryWeight shows 100 during that switch tick.
func (t *tick) stepBlueGreen() {
	n := t.an.Iterations
	if t.st.Iterations < n {
		if t.an.Mirror && !t.obs.Routes.Mirrored {
			t.act(SetRoutes{Primary: totalWeight, Mirrored: true})
		}
		t.st.Iterations++
		t.normal(msgAdvanceIteration, canaryID(t.cd), t.st.Iterations, n)
		return
	}
	if !t.confirmPromotion() {
		return
	}
	if t.st.Iterations == n {
		t.switchToCanary()
		return
	}
	t.promote()
}

// switchToCanary is blue/green's extra tick with all traffic on the canary.
func (t *tick) switchToCanary() {
	if t.an.Mirror {
		t.normal(msgStopMirroring)
	} else {
		t.normal(msgAllToCanary)
	}
	t.act(SetRoutes{Canary: totalWeight})
	t.st.Iterations++
	t.st.CanaryWeight = totalWeight
}

// promote enters Promoting, and once the status says so, copies the
// analysed revision to the primary; the traffic moves back to the primary
// once the primary's rollout is done. Only a tick whose rollout checks ran
// and passed promotes.
//
// Unlike Flagger, the copy is made after the status write and only of the
// revision that was analysed (see promoting): an interruption between the
// two no longer sends a later primary failure down the rollback path, and
// a push during the promoting tick no longer reaches the primary unanalysed.
func (t *tick) promote() {
	if !t.checked {
		return
	}
	t.normal(msgCopying, targetID(t.cd), primaryID(t.cd))
	if r := t.obs.Routes; r.Baseline > 0 {
		// The analysis is over: the baseline's share goes back to the
		// primary before the promotion starts, and its pods go after.
		t.act(SetRoutes{Primary: totalWeight - r.Canary, Canary: r.Canary, Mirrored: r.Mirrored})
	}
	t.after(PromoteToPrimary{Revision: t.st.AppliedRevision()})
	t.dropBaseline(true)
	t.st.Phase = v1beta1.CanaryPhasePromoting
}
