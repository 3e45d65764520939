package chaos

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// apiServerRestarts keeps the API server up while another test measures a delay: the
// restart takes the write lock, steady the read lock.
var apiServerRestarts sync.RWMutex

// steady holds off API server restarts until the returned function is called, so that a
// test's timing is not that of another test's fault. Every other test tolerates a restart.
func steady() (resume func()) {
	apiServerRestarts.RLock()
	return apiServerRestarts.RUnlock
}

// TestAPIServerRestarted restarts kube-apiserver (down for 5 s, then as long as it takes to
// start) in the middle of releases, once per round of releases. The operator runs with leader election, as shipped, under
// a supervisor that restarts it whenever it exits, as a kubelet would: losing the API server
// for longer than the renew deadline makes a leader give its lease up and exit. Every release
// must still promote, with every weight of the ladder in order and no traffic to a
// Deployment without ready replicas.
func TestAPIServerRestarted(t *testing.T) {
	t.Parallel()
	restarts, canaries := 1, 2
	if env.long {
		restarts, canaries = 3, 5
	}
	ns := newNamespace(t, "chaos-apiserver", env.prom.URL())
	rec := record(t, ns)
	sup := supervise(t, operatorConfig{namespace: ns, promURL: env.prom.URL(), leaderElection: true})
	var cds []*flaggerv1.Canary
	for i := range canaries {
		cds = append(cds, deploy(t, newCanary(ns, fmt.Sprintf("app-%d", i))))
	}
	for _, cd := range cds {
		waitCanary(t, ns, cd.Name, 3*time.Minute, "initialized", phaseIs(flaggerv1.CanaryPhaseInitialized))
	}
	// One restart in each round of releases, once the first canary is mid-analysis.
	var downtimes []time.Duration
	var longest time.Duration
	for round := 1; round <= restarts; round++ {
		began := time.Now()
		for _, cd := range cds {
			release(t, ns, cd.Name, image(round))
		}
		waitCanary(t, ns, cds[0].Name, 3*time.Minute, "mid-analysis", progressingAt(cds[0].Spec.Analysis.StepWeight))
		apiServerRestarts.Lock()
		stopped := time.Now()
		err := env.cluster.RestartAPIServer(t.Context(), 5*time.Second)
		downtimes = append(downtimes, time.Since(stopped).Round(100*time.Millisecond))
		apiServerRestarts.Unlock()
		require.NoError(t, err, "restart kube-apiserver")
		longest = max(longest, waitPromoted(t, ns, cds, image(round), began, 6*time.Minute))
	}

	rec.requireSound(t)
	want := []string{firstImage}
	for round := 1; round <= restarts; round++ {
		want = append(want, image(round))
	}
	for _, cd := range cds {
		assert.Equal(t, releaseWeights(cd, restarts), rec.canaryWeights(cd.Name), "%s: canary weights on the route", cd.Name)
		assert.Equal(t, want, rec.images(cd.Name+"-primary"), "%s: images the primary ran", cd.Name)
	}
	t.Logf("RESULT apiserver-restart: %d restarts (API server unavailable %v), %d releases of %d canaries at once, all promoted, longest %s, operator exits %d: %q, watch gaps %d",
		restarts, downtimes, canaries*restarts, canaries, longest.Round(time.Second), len(sup.exits()), sup.exits(), rec.gaps)
}
