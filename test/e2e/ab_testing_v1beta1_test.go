package e2e

import "testing"

// TestABTestingV1beta1 is TestABTesting with spec.provider
// gatewayapi:v1beta1.
func TestABTestingV1beta1(t *testing.T) {
	t.Parallel()
	testABTesting(t, "test-ab-v1beta1", "v1beta1")
}
