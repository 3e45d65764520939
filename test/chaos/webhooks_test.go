package chaos

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// hookTimeout is the timeout of the hooks that are made to hang.
const hookTimeout = 3 * time.Second

// TestWebhookFaults makes a pre-rollout, a rollout and a confirm-rollout webhook hang past
// their timeout, answer 500, then refuse connections, each in the release of its own canary.
// A failing pre-rollout or rollout hook is a failed check with a Warning event that says why;
// a failing confirm-rollout hook is a closed gate, as in Flagger: the canary waits (Warning
// "waiting for approval", once), without a failed check. Once the hooks answer again, every release
// promotes, and the operator stays up throughout.
func TestWebhookFaults(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t, "chaos-webhooks", env.prom.URL())
	rec := record(t, ns)
	op := startOperator(t, operatorConfig{namespace: ns, promURL: env.prom.URL()})
	stopOnCleanup(t, op)
	faults := func(counted bool, gate string) []faultCase {
		if !counted {
			// One Warning when the gate first refuses, none for later refusals (as in
			// Flagger): the canary only stays Waiting.
			return []faultCase{{hanging, 0, gate, ""}, {failing500, 0, "", ""}, {refused, 0, "", ""}}
		}
		return []faultCase{
			{hanging, 1, "deadline exceeded", ""},
			{failing500, 1, failing500.body, ""},
			{refused, 1, "connection refused", ""},
		}
	}
	cases := []struct {
		name   string
		typ    flaggerv1.HookType
		faults []faultCase
	}{
		{"pre-rollout", flaggerv1.PreRolloutHook, faults(true, "")},
		{"rollout", flaggerv1.RolloutHook, faults(true, "")},
		{"confirm-rollout", flaggerv1.ConfirmRolloutHook, faults(false, "waiting for approval")},
	}
	var (
		mu      sync.Mutex
		results []string
	)
	t.Run("hooks", func(t *testing.T) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				srv := newFaultServer(t, okHandler)
				cd := deploy(t, newCanary(ns, c.name, ladder(20, 40), webhook("chaos-"+c.name, c.typ, srv.URL(), hookTimeout)))
				waitCanary(t, ns, cd.Name, 3*time.Minute, "initialized", phaseIs(flaggerv1.CanaryPhaseInitialized))
				srv.set(c.faults[0].fault) // before the release: pre-rollout and gates are asked at once
				release(t, ns, cd.Name, image(1))
				var outcomes []string
				for _, f := range c.faults {
					outcomes = append(outcomes, injectFault(t, srv, ns, cd.Name, f))
					assert.False(t, op.exited(), "the operator exited during %q: %s", f.fault.name, lastLine(op.log))
				}
				if len(c.faults) > 0 && c.faults[0].checks == 0 {
					assert.Equal(t, flaggerv1.CanaryPhaseWaiting, getCanary(t, ns, cd.Name).Status.Phase, "a closed gate holds the release")
				}
				srv.set(healthyFault)
				done := waitCanary(t, ns, cd.Name, 3*time.Minute, "promoted once the hook answers", phaseIs(flaggerv1.CanaryPhaseSucceeded))
				assert.Equal(t, releaseWeights(cd, 1), rec.canaryWeights(cd.Name), "canary weights")
				mu.Lock()
				results = append(results, fmt.Sprintf("%s (%s) promoted with %d failed checks",
					c.name, strings.Join(outcomes, "; "), done.Status.FailedChecks))
				mu.Unlock()
			})
		}
	})
	rec.requireSound(t)
	assert.False(t, op.exited(), "the operator exited: %s", lastLine(op.log))
	t.Logf("RESULT webhooks: 3 faults x 3 hook types, 3 releases, all promoted, operator up: %s", strings.Join(results, " || "))
}

// TestEventWebhookHangs releases two canaries at once; one has an event webhook that hangs
// until its timeout on every event. The other canary's steps must keep their interval: the
// gaps between its weight steps stay well below what one hanging event call would add.
func TestEventWebhookHangs(t *testing.T) {
	t.Parallel()
	// Long enough that a step held by one hanging call (interval + 45 s)
	// stands well apart from a step late on a loaded machine (CI saw 29.5 s
	// with a 20 s timeout and a 20 s bound).
	const eventHookTimeout = 45 * time.Second
	ns := newNamespace(t, "chaos-event-hook", env.prom.URL())
	rec := record(t, ns)
	op := startOperator(t, operatorConfig{namespace: ns, promURL: env.prom.URL()})
	stopOnCleanup(t, op)
	hang := newFaultServer(t, okHandler)
	hang.set(hanging)
	stuck := deploy(t, newCanary(ns, "stuck", webhook("chaos-events", flaggerv1.EventHook, hang.URL(), eventHookTimeout)))
	free := deploy(t, newCanary(ns, "free"))
	for _, cd := range []*flaggerv1.Canary{stuck, free} {
		waitCanary(t, ns, cd.Name, 3*time.Minute, "initialized", phaseIs(flaggerv1.CanaryPhaseInitialized))
	}
	for _, cd := range []*flaggerv1.Canary{stuck, free} {
		release(t, ns, cd.Name, image(1))
	}
	resume := steady()
	waitCanary(t, ns, free.Name, 4*time.Minute, "promoted", phaseIs(flaggerv1.CanaryPhaseSucceeded))
	resume()

	// The gaps between weight steps, from the first step to maxWeight; the start waits for the
	// canary's rollout and the promotion for the primary's, which take other times.
	at, ws := rec.weightChanges(free.Name)
	var gaps []time.Duration
	bound := interval + eventHookTimeout/2
	for i := 1; i < len(at); i++ {
		if ws[i-1] == 0 || ws[i] <= ws[i-1] {
			continue
		}
		gap := at[i].Sub(at[i-1]).Round(100 * time.Millisecond)
		gaps = append(gaps, gap)
		assert.Less(t, gap, bound, "free: step %d→%d took %s while the other canary's event webhook hung", ws[i-1], ws[i], gap)
	}
	assert.Len(t, gaps, len(weights(free))-1, "free: steps measured")
	assert.Equal(t, releaseWeights(free, 1), rec.canaryWeights(free.Name), "free: canary weights")
	assert.Positive(t, hang.requestCount(), "the hanging event webhook was called")
	rec.requireSound(t)
	assert.False(t, op.exited(), "the operator exited: %s", lastLine(op.log))
	t.Logf("RESULT event-webhook-hang: %d hanging event calls (%s each); the other canary's step gaps %v (interval %s), promoted; the hung canary is %s at %d%%",
		hang.requestCount(), eventHookTimeout, gaps, interval, getCanary(t, ns, stuck.Name).Status.Phase, getCanary(t, ns, stuck.Name).Status.CanaryWeight)
}
