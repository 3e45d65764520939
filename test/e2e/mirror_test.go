package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// TestTrafficMirroring is the tutorial's "Traffic mirroring" with
// podinfo-mirror-canary.yaml: a blue/green release whose ten iterations keep
// all users on the primary while a RequestMirror filter copies their
// requests to the canary, checked with the builtin request-success-rate and
// request-duration metrics (podinfo's own histogram, from the exporter);
// then one interval with all traffic on the canary, then the promotion.
func TestTrafficMirroring(t *testing.T) {
	t.Parallel()
	const ns = "test-mirror"
	deploy(t, seed(t, "podinfo-mirror-canary.yaml", ns))
	routes := recordRoutes(t, ns, "v1")
	setImage(t, ns, "ghcr.io/stefanprodan/podinfo:6.0.1")

	waitCanary(t, ns, 4*time.Minute, "the switch to the canary", func(cd *flaggerv1.Canary) error {
		if cd.Status.Iterations != 11 {
			return fmt.Errorf("not switched yet")
		}
		return nil
	})
	waitPhase(t, ns, flaggerv1.CanaryPhaseSucceeded, 2*time.Minute)
	routes.requireShapes(
		split(100, 0),
		split(100, 0)+" mirror(podinfo-canary)",
		split(0, 100),
		split(100, 0),
	)
	want := []string{"New revision detected! Scaling up podinfo." + ns, "Starting canary analysis for podinfo." + ns}
	for i := 1; i <= 10; i++ {
		want = append(want, fmt.Sprintf("Advance podinfo.%s canary iteration %d/10", ns, i))
	}
	want = append(want,
		"Stop traffic mirroring and route all traffic to canary",
		"Copying podinfo."+ns+" template spec to podinfo-primary."+ns,
		"Routing all traffic to primary",
		"Promotion completed! Scaling down podinfo."+ns,
	)
	requireEvents(t, ns, want...)
	for _, m := range eventMessages(t, ns) {
		assert.NotContains(t, m, "no values found", "the builtin metrics found podinfo's series")
		assert.NotContains(t, m, "Halt", "no check failed")
	}
	assert.Equal(t, "ghcr.io/stefanprodan/podinfo:6.0.1", targetImage(t, ns, "podinfo-primary"))
}
