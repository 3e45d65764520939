package e2e

import "testing"

// TestSessionAffinityV1beta1 is TestSessionAffinity with the canary's
// spec.provider set to gatewayapi:v1beta1: the route is written and read
// through gateway.networking.k8s.io/v1beta1, with the same rules.
func TestSessionAffinityV1beta1(t *testing.T) {
	t.Parallel()
	testSessionAffinity(t, "test-session-affinity-v1beta1", "v1beta1")
}
