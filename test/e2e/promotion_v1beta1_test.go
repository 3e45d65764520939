package e2e

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// TestAutomatedPromotionV1beta1 is the tutorial's weighted release with
// spec.provider gatewayapi:v1beta1, the setting its note gives for
// implementations that serve the v1beta1 HTTPRoute: the operator's default
// is gatewayapi:v1, and the route goes through v1beta1 for this canary.
func TestAutomatedPromotionV1beta1(t *testing.T) {
	t.Parallel()
	const ns = "test-promotion-v1beta1"
	deploy(t, seed(t, "podinfo-canary.yaml", ns, provider("gatewayapi:v1beta1")))
	routes := recordRoutes(t, ns, "v1beta1")
	setImage(t, ns, "ghcr.io/stefanprodan/podinfo:6.0.1")

	waitPhase(t, ns, flaggerv1.CanaryPhaseSucceeded, 4*time.Minute)
	routes.requireShapes(ladder(10, 20, 30, 40, 50)...)
	requireEvents(t, ns,
		"New revision detected! Scaling up podinfo."+ns,
		"Advance podinfo."+ns+" canary weight 10",
		"Advance podinfo."+ns+" canary weight 20",
		"Advance podinfo."+ns+" canary weight 30",
		"Advance podinfo."+ns+" canary weight 40",
		"Advance podinfo."+ns+" canary weight 50",
		"Copying podinfo."+ns+" template spec to podinfo-primary."+ns,
		"Routing all traffic to primary",
		"Promotion completed! Scaling down podinfo."+ns,
	)
	assert.Equal(t, "ghcr.io/stefanprodan/podinfo:6.0.1", targetImage(t, ns, "podinfo-primary"))
}
