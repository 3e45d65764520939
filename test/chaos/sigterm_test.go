package chaos

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// TestSIGTERMDuringStep stops the leader with SIGTERM, as a rolling update of Serin or a node
// drain does, while one of its syncs waits on a slow rollout webhook (6 s). The sync in flight
// must finish: the webhook call completes rather than being cancelled, the step it belongs to
// is applied (the weight advances) and recorded, no check fails for the shutdown, and the
// process exits cleanly within the grace period. A fresh operator then finishes the release.
func TestSIGTERMDuringStep(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t, "chaos-sigterm", env.prom.URL())
	rec := record(t, ns)
	hook := &slowHook{delay: 6 * time.Second, arrived: make(chan *slowCall, 100)}
	srv := newFaultServer(t, hook)
	cfg := operatorConfig{namespace: ns, promURL: env.prom.URL(), leaderElection: true}
	// A leader loses its lease when the API server is away for longer than the renew
	// deadline: keep TestAPIServerRestarted's fault out of this one.
	resume := steady()
	defer resume()
	op := startOperator(t, cfg)
	stopOnCleanup(t, op)
	cd := deploy(t, newCanary(ns, "app", ladder(20, 60), webhook("slow-test", flaggerv1.RolloutHook, srv.URL(), 15*time.Second)))
	waitCanary(t, ns, cd.Name, 3*time.Minute, "initialized", phaseIs(flaggerv1.CanaryPhaseInitialized))
	release(t, ns, cd.Name, image(1))
	waitCanary(t, ns, cd.Name, 3*time.Minute, "progressing", progressingAt(20))

	inFlight := hook.next(t, 3*interval)
	before := getCanary(t, ns, cd.Name).Status
	sent := time.Now()
	require.NoError(t, op.stop())
	took := time.Since(sent)
	after := getCanary(t, ns, cd.Name).Status

	assert.True(t, inFlight.finished(), "the webhook call in flight at SIGTERM was cancelled instead of finishing")
	assert.Equal(t, before.CanaryWeight+20, after.CanaryWeight, "the step in flight at SIGTERM was applied and recorded (weight %d before)", before.CanaryWeight)
	assert.Equal(t, before.FailedChecks, after.FailedChecks, "failed checks: the shutdown must not count as a failure")
	assert.Empty(t, warningsSince(t, ns, cd.Name, sent), "Warning events since SIGTERM")
	assert.NoError(t, op.process.ExitErr(), "exit status after SIGTERM: %s", lastLine(op.log))
	assert.Less(t, took, stopGrace, "exited within the grace period")

	next := startOperator(t, cfg)
	stopOnCleanup(t, next)
	waitCanary(t, ns, cd.Name, 3*time.Minute, "promoted", phaseIs(flaggerv1.CanaryPhaseSucceeded))
	rec.requireSound(t)
	assert.Equal(t, releaseWeights(cd, 1), rec.canaryWeights(cd.Name), "canary weights")
	assert.Equal(t, []string{firstImage, image(1)}, rec.images(cd.Name+"-primary"), "images the primary ran")
	t.Logf("RESULT sigterm: 1 SIGTERM during a 6 s webhook call; call finished %v, weight %d -> %d, failed checks %d -> %d, exit %v after %s; release promoted by the next process",
		inFlight.finished(), before.CanaryWeight, after.CanaryWeight, before.FailedChecks, after.FailedChecks, op.process.ExitErr(), took.Round(100*time.Millisecond))
}

// slowHook is a webhook that answers 200 after delay, and remembers whether each call was
// answered or abandoned by its client.
type slowHook struct {
	delay   time.Duration
	arrived chan *slowCall
}

// slowCall is one call to a slowHook.
type slowCall struct {
	mu     sync.Mutex
	done   bool
	answer bool
}

func (h *slowHook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &slowCall{}
	select {
	case h.arrived <- c:
	default:
	}
	select {
	case <-time.After(h.delay):
		_, _ = w.Write([]byte("ok"))
		c.set(true)
	case <-r.Context().Done():
		c.set(false)
	}
}

func (c *slowCall) set(answered bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.done, c.answer = true, answered
}

// finished reports whether the call was answered rather than abandoned by its client,
// waiting a moment for the server to see a client that went away.
func (c *slowCall) finished() bool {
	deadline := time.Now().Add(2 * time.Second)
	for {
		c.mu.Lock()
		done, answered := c.done, c.answer
		c.mu.Unlock()
		if done || time.Now().After(deadline) {
			return answered
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// next waits for a call that starts from now on.
func (h *slowHook) next(t *testing.T, timeout time.Duration) *slowCall {
	t.Helper()
drain: // calls that started earlier
	for {
		select {
		case <-h.arrived:
		default:
			break drain
		}
	}
	select {
	case c := <-h.arrived:
		return c
	case <-time.After(timeout):
		t.Fatalf("no webhook call within %s", timeout)
		return nil
	}
}
