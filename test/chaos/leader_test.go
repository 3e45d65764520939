package chaos

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/test/lib/must"
)

const (
	// leaseDuration and retryPeriod are cmd/serin's leader election settings: a follower
	// takes over a lease that was not renewed for leaseDuration, and looks every retryPeriod.
	leaseDuration = 15 * time.Second
	retryPeriod   = 2 * time.Second
)

// TestLeaderKilled runs two replicas with leader election, as the manifests do, and kills the
// leader with SIGKILL right after a weight step: the follower must take the release over and
// run its next step within the lease duration plus one interval (plus the follower's retry
// period, the granularity at which it can notice the expired lease). The killed replica comes
// back as a fresh follower, and in the long run the hand-over is repeated at later steps.
func TestLeaderKilled(t *testing.T) {
	t.Parallel()
	handovers := 1
	if env.long {
		handovers = 4
	}
	ns := newNamespace(t, "chaos-leader", env.prom.URL())
	rec := record(t, ns)
	cfg := operatorConfig{namespace: ns, promURL: env.prom.URL(), leaderElection: true}
	// A leader loses its lease when the API server is away for longer than the renew
	// deadline: keep TestAPIServerRestarted's fault out of this one.
	resume := steady()
	defer resume()
	replicas := []*operator{startOperator(t, cfg), startOperator(t, cfg)}
	for _, op := range replicas {
		stopOnCleanup(t, op)
	}
	cd := deploy(t, newCanary(ns, "app", ladder(10, 10*(handovers+2))))
	waitCanary(t, ns, cd.Name, 3*time.Minute, "initialized", phaseIs(flaggerv1.CanaryPhaseInitialized))
	release(t, ns, cd.Name, image(1))

	bound := leaseDuration + interval + retryPeriod
	var gaps []time.Duration
	for i := range handovers {
		weight := int32(10 * (i + 1))
		waitWeight(t, rec, cd.Name, weight, 3*time.Minute)
		leader := leaderOf(t, replicas)
		killedAt := time.Now()
		replicas[leader].kill()
		next := waitWeight(t, rec, cd.Name, weight+10, 2*time.Minute)
		gap := next.Sub(killedAt)
		gaps = append(gaps, gap.Round(100*time.Millisecond))
		assert.LessOrEqual(t, gap, bound, "hand-over %d: the next step came %s after the leader was killed at weight %d", i+1, gap, weight)
		follower := replicas[1-leader]
		assert.True(t, follower.leads(), "the follower took the lease over")
		replicas[leader] = startOperator(t, cfg)
		stopOnCleanup(t, replicas[leader])
	}
	waitCanary(t, ns, cd.Name, 3*time.Minute, "promoted", phaseIs(flaggerv1.CanaryPhaseSucceeded))

	rec.requireSound(t)
	assert.Equal(t, releaseWeights(cd, 1), rec.canaryWeights(cd.Name), "canary weights on the route")
	assert.Equal(t, []string{firstImage, image(1)}, rec.images(cd.Name+"-primary"), "images the primary ran")
	for _, op := range replicas {
		assert.False(t, op.exited(), "a replica exited by itself: %s", lastLine(op.log))
	}
	t.Logf("RESULT leader-kill: %d hand-overs in 1 release, next step after the kill: %v (bound %s), promoted", handovers, gaps, bound)
}

// leaderOf returns the index of the running replica that holds the lease.
func leaderOf(t *testing.T, replicas []*operator) int {
	t.Helper()
	leader := -1
	must.Eventually(t, time.Minute, 200*time.Millisecond, func() (bool, error) {
		for i, op := range replicas {
			if !op.exited() && op.leads() {
				leader = i
				return true, nil
			}
		}
		return false, fmt.Errorf("no running replica logged that it acquired the lease")
	}, "a leader")
	return leader
}

// waitWeight waits until the route of a canary has carried weight for its canary backend and
// returns when the recorder saw the route change to it.
func waitWeight(t *testing.T, rec *recorder, name string, weight int32, timeout time.Duration) time.Time {
	t.Helper()
	var at time.Time
	must.Eventually(t, timeout, 100*time.Millisecond, func() (bool, error) {
		times, ws := rec.weightChanges(name)
		if i := slices.Index(ws, weight); i >= 0 {
			at = times[i]
			return true, nil
		}
		return false, fmt.Errorf("weights so far %v", ws)
	}, "the route of %s to reach weight %d", name, weight)
	require.False(t, at.IsZero())
	return at
}
