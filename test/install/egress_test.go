package install

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	clientset "github.com/serin-dev/serin/pkg/client/clientset/versioned"
	"github.com/serin-dev/serin/pkg/operator"
	"github.com/serin-dev/serin/pkg/webhook/egress"
	"github.com/serin-dev/serin/test/lib/cluster"
	"github.com/serin-dev/serin/test/lib/manifest"
	"github.com/serin-dev/serin/test/lib/must"
	"github.com/serin-dev/serin/test/lib/testbin"
)

// TestWebhookAllowListRefusalOnTheCanary runs the operator with
// -webhook-allowed-hosts listing only Slack, releases the tutorial's
// podinfo (kustomize/podinfo, the seed Canary with its smoke test pointed
// at a server on 127.0.0.1), and checks that the smoke test never reaches
// the server and that the refusal is a Warning event on the Canary naming
// the webhook, the destination and the flag.
func TestWebhookAllowListRefusalOnTheCanary(t *testing.T) {
	root, err := testbin.RepoRoot()
	require.NoError(t, err)
	c := cluster.StartForTest(t, cluster.Options{
		Full: true, GatewayAPI: true,
		CRDPaths: []string{filepath.Join(root, "artifacts", "flagger", "crd.yaml")},
	})
	kube := kubernetes.NewForConfigOrDie(c.Config)
	flagger := clientset.NewForConfigOrDie(c.Config)
	runCommands(t, c, [][]string{{"create", "ns", "test"}, {"apply", "-k", "kustomize/podinfo", "-n", "test"}})
	mustBeAvailable(t, kube, "test", "podinfo", 1)

	var hits atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	t.Cleanup(hook.Close)
	hookURL, err := url.Parse(hook.URL)
	require.NoError(t, err)

	policy, err := egress.Parse([]string{"hooks.slack.com"})
	require.NoError(t, err)
	startInProcess(t, operator.Config{REST: c.Config, Namespace: "test", Workers: 2, SchedulerTick: 100 * time.Millisecond, Egress: policy})

	cd := smokeTestedCanary(t, filepath.Join(root, "test/testdata/seed/podinfo-canary.yaml"), hook.URL+"/")
	_, err = flagger.FlaggerV1beta1().Canaries("test").Create(t.Context(), cd, metav1.CreateOptions{})
	require.NoError(t, err)
	waitPhase(t, flagger, flaggerv1.CanaryPhaseInitialized)
	runCommands(t, c, [][]string{{"-n", "test", "set", "image", "deployment/podinfo", "podinfod=ghcr.io/stefanprodan/podinfo:6.0.1"}})

	want := fmt.Sprintf("Halt podinfo.test advancement pre-rollout check smoke-test failed "+
		"webhook smoke-test: destination %s is not allowed by -webhook-allowed-hosts", hookURL.Host)
	must.Eventually(t, time.Minute, 200*time.Millisecond, func() (bool, error) {
		events, err := kube.CoreV1().Events("test").List(t.Context(), metav1.ListOptions{FieldSelector: "involvedObject.kind=Canary,type=Warning"})
		if err != nil {
			return false, err
		}
		var messages []string
		for _, e := range events.Items {
			messages = append(messages, e.Message)
		}
		return slices.Contains(messages, want), fmt.Errorf("warnings so far: %q", messages)
	}, "the refusal as a warning event on the Canary")
	assert.Zero(t, hits.Load(), "the smoke test never reached its server")
}

// smokeTestedCanary is the seed Canary with no metrics (the cluster has no
// Prometheus), a 1s interval, and only its pre-rollout smoke test, sent to
// hookURL.
func smokeTestedCanary(t *testing.T, seed, hookURL string) *flaggerv1.Canary {
	t.Helper()
	objs, err := manifest.ReadFiles(seed)
	require.NoError(t, err)
	require.Len(t, objs, 1)
	var cd flaggerv1.Canary
	require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(objs[0].Object, &cd))
	cd.Namespace = "test"
	an := cd.Spec.Analysis
	an.Interval, an.Metrics = "1s", nil
	var hooks []flaggerv1.CanaryWebhook
	for _, h := range an.Webhooks {
		if h.Type == flaggerv1.PreRolloutHook {
			h.URL = hookURL
			hooks = append(hooks, h)
		}
	}
	require.Len(t, hooks, 1, "the seed has one smoke test")
	an.Webhooks = hooks
	return &cd
}

// startInProcess runs an operator until the test ends.
func startInProcess(t *testing.T, cfg operator.Config) {
	t.Helper()
	logger := logrus.New()
	logger.SetOutput(io.Discard)
	cfg.Logger = logrus.NewEntry(logger)
	ctx, cancel := context.WithCancel(context.Background())
	op, err := operator.New(ctx, cfg)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- op.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done)
	})
}

func waitPhase(t *testing.T, flagger clientset.Interface, phase flaggerv1.CanaryPhase) {
	t.Helper()
	must.Eventually(t, time.Minute, 200*time.Millisecond, func() (bool, error) {
		cd, err := flagger.FlaggerV1beta1().Canaries("test").Get(t.Context(), "podinfo", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return cd.Status.Phase == phase, fmt.Errorf("phase %q", cd.Status.Phase)
	}, "canary podinfo.test %s", phase)
}
