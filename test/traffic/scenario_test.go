package traffic

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/test/lib/splitmeter"
	"github.com/serin-dev/serin/test/lib/tutorial"
)

// meterRPS is the test's own load through the gateway, on top of the load tester's 20 rps.
const meterRPS = 50

// scenario is one namespace with podinfo and the tutorial's Canary, reached through the
// gateway under its own host name.
type scenario struct {
	ns, host string
}

// newScenario installs podinfo and the Canary in namespace ns, with host name
// <ns>.example.com, edited further by edits, and waits until the canary is initialized.
func newScenario(t *testing.T, ns string, edits ...func(*unstructured.Unstructured)) *scenario {
	t.Helper()
	if skip != "" {
		t.Skip(skip)
	}
	t.Parallel()
	sc := &scenario{ns: ns, host: ns + ".example.com"}
	ctx := t.Context()
	require.NoError(t, env.InstallApp(ctx, ns))
	require.NoError(t, env.ApplyCanary(ctx, ns, func(cd *unstructured.Unstructured) error {
		if err := sc.retarget(cd); err != nil {
			return err
		}
		for _, edit := range edits {
			edit(cd)
		}
		return nil
	}))
	_, err := env.WaitPhase(ctx, ns, 3*time.Minute, flaggerv1.CanaryPhaseInitialized)
	require.NoError(t, err)
	require.NoError(t, env.WaitServed(ctx, sc.host, time.Minute))
	return sc
}

// retarget points the tutorial's Canary at the scenario's namespace and host name: the route's
// host, the smoke test's canary URL and the load test's Host header.
func (sc *scenario) retarget(cd *unstructured.Unstructured) error {
	if err := unstructured.SetNestedStringSlice(cd.Object, []string{sc.host}, "spec", "service", "hosts"); err != nil {
		return err
	}
	hooks, _, err := unstructured.NestedSlice(cd.Object, "spec", "analysis", "webhooks")
	if err != nil {
		return err
	}
	for _, h := range hooks {
		md := h.(map[string]any)["metadata"].(map[string]any)
		cmd := strings.ReplaceAll(md["cmd"].(string), "podinfo-canary.test:", "podinfo-canary."+sc.ns+":")
		md["cmd"] = strings.ReplaceAll(cmd, "-host www.example.com", "-host "+sc.host)
	}
	return unstructured.SetNestedSlice(cd.Object, hooks, "spec", "analysis", "webhooks")
}

// meter starts steady load through the gateway for the scenario's host, with header added to
// every request; it stops with the test.
func (sc *scenario) meter(t *testing.T, header http.Header) *splitmeter.Meter {
	m := splitmeter.Start(splitmeter.Config{
		URL: env.Stack.GatewayURL + "/", Host: sc.host, Header: header, RPS: meterRPS,
		IsCanary: isCanary,
	}, "before the release", 0)
	t.Cleanup(m.Stop)
	return m
}

// follow follows the release to its end and returns the final canary.
func (sc *scenario) follow(t *testing.T, m *splitmeter.Meter) *flaggerv1.Canary {
	t.Helper()
	cd, err := env.Follow(t.Context(), sc.ns, 6*time.Minute, m, tutorial.Finished())
	require.NoError(t, err)
	return cd
}

// isCanary tells the canary's Pods (podinfo-<hash>-<id>) from the primary's.
func isCanary(pod string) bool { return !strings.HasPrefix(pod, "podinfo-primary-") }
