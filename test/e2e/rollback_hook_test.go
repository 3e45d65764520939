package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// TestRollbackWebhook rolls a progressing release back by hand: the
// rollback webhook answers 403 ("not signaling a rollback") until the test
// opens it, and the next tick rolls back.
func TestRollbackWebhook(t *testing.T) {
	t.Parallel()
	const ns = "test-rollback-hook"
	rb := rollbackPrefix + ns
	deploy(t, seed(t, "podinfo-canary.yaml", ns, hook("rollback", flaggerv1.RollbackHook, rb)))
	routes := recordRoutes(t, ns, "v1")
	setImage(t, ns, "ghcr.io/stefanprodan/podinfo:6.0.1")

	waitCanary(t, ns, 2*time.Minute, "weight 20", func(cd *flaggerv1.Canary) error {
		if cd.Status.CanaryWeight < 20 {
			return fmt.Errorf("not at 20%% yet")
		}
		return nil
	})
	env.hooks.open(rb)
	waitPhase(t, ns, flaggerv1.CanaryPhaseFailed, time.Minute)

	requireEvents(t, ns,
		"Rollback hook rollback not signaling a rollback",
		"Advance podinfo."+ns+" canary weight 20",
		"Rollback check rollback passed",
		"Rolling back podinfo."+ns+" manual webhook invoked",
		"Canary failed! Scaling down podinfo."+ns,
	)
	shapes := routes.seen()
	assert.Equal(t, split(100, 0), shapes[len(shapes)-1], "all traffic back on the primary")
	assert.Equal(t, ladder(10, 20, 30, 40)[:len(shapes)-1], shapes[:len(shapes)-1], "the ladder up to the rollback")
	assert.Equal(t, int32(0), replicas(t, ns, "podinfo"))
	assert.Equal(t, "ghcr.io/stefanprodan/podinfo:6.0.0", targetImage(t, ns, "podinfo-primary"))
}
