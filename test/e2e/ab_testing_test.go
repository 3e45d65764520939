package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// TestABTesting is the tutorial's A/B testing in the form it describes
// (test/testdata/podinfo-ab-match-canary.yaml: iterations 10, the X-Canary
// insider header or the canary=always cookie): the matching requests go to
// the canary for ten iterations while a second rule keeps everyone else on
// the primary, then the canary is promoted.
func TestABTesting(t *testing.T) {
	t.Parallel()
	testABTesting(t, "test-ab", "v1")
}

// testABTesting runs the A/B release with the route read and written
// through an API version.
func testABTesting(t *testing.T, ns, version string) {
	routes := releaseThrough(t, version, testdataCanary(t, "podinfo-ab-match-canary.yaml", ns), "ghcr.io/stefanprodan/podinfo:6.0.3")

	cd := waitCanary(t, ns, 2*time.Minute, "A/B iterations", func(cd *flaggerv1.Canary) error {
		if cd.Status.Iterations < 3 {
			return fmt.Errorf("iteration %d", cd.Status.Iterations)
		}
		return nil
	})
	assert.Equal(t, flaggerv1.CanaryPhaseProgressing, cd.Status.Phase)
	assert.Equal(t, 0, cd.Status.CanaryWeight, "the unmatched traffic stays on the primary")
	waitPhase(t, ns, flaggerv1.CanaryPhaseSucceeded, 4*time.Minute)

	ab := func(primary, canary int) string {
		return fmt.Sprintf("/ x-canary=insider | / cookie~^(.*?;)?(canary=always)(;.*)?$ -> primary=%d canary=%d ; / -> primary=100", primary, canary)
	}
	routes.requireShapes(ab(100, 0), ab(0, 100), ab(100, 0))
	want := []string{"New revision detected! Scaling up podinfo." + ns, "Starting canary analysis for podinfo." + ns}
	for i := 1; i <= 10; i++ {
		want = append(want, fmt.Sprintf("Advance podinfo.%s canary iteration %d/10", ns, i))
	}
	want = append(want,
		"Copying podinfo."+ns+" template spec to podinfo-primary."+ns,
		"Routing all traffic to primary",
		"Promotion completed! Scaling down podinfo."+ns,
	)
	requireEvents(t, ns, want...)
	assert.Equal(t, "ghcr.io/stefanprodan/podinfo:6.0.3", targetImage(t, ns, "podinfo-primary"))
	assert.Equal(t, int32(0), replicas(t, ns, "podinfo"))
}
