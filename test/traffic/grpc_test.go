package traffic

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/metrics"
	"github.com/serin-dev/serin/test/lib/must"
	"github.com/serin-dev/serin/test/lib/splitmeter"
)

// grpcPort is podinfo's gRPC port in the gRPC scenarios (its usual one).
const grpcPort = 9999

// unavailableCalls is how many calls TestGRPCCanaryWeightedThroughTraefik has answered
// UNAVAILABLE.
const unavailableCalls = 20

// windowTolerance is how far a window's canary share may be from its weight: shareTolerance
// at a weight step, twice that at weight 0 (before the release, and after the promotion,
// whose window opens when the route changes and where the canary's Pods keep answering until
// Traefik has applied it, which a loaded machine can delay past the settling time).
func windowTolerance(w splitmeter.Window) float64 {
	if w.Weight == 0 {
		return 2 * shareTolerance
	}
	return shareTolerance
}

// grpcFailure offsets a gRPC status code in a meter window's failure codes, so that OK (0)
// cannot be taken for "no answer".
const grpcFailure = 1000

// TestGRPCCanaryWeightedThroughTraefik releases podinfo's gRPC server as a weighted canary on
// a GRPCRoute: at each step the canary answers the share of real gRPC calls (InfoService/Info,
// which reports the Pod's host name) that the route's weight intends, no call fails, and the
// builtin grpc-error-rate query reads 0 from Traefik's counters of those calls.
func TestGRPCCanaryWeightedThroughTraefik(t *testing.T) {
	sc := newGRPCScenario(t, "grpc-weighted")
	// Before the release every call goes to the primary: a few answered UNAVAILABLE by the
	// server, to see how Traefik counts them.
	sc.callStatus(t, "Unavailable", unavailableCalls)
	m := sc.grpcMeter(t, nil)
	require.NoError(t, env.Release(t.Context(), sc.ns, "ghcr.io/stefanprodan/podinfo:6.0.1", nil))
	cd := sc.followGRPC(t, m)
	require.Equal(t, flaggerv1.CanaryPhaseSucceeded, cd.Status.Phase)
	m.Stop()

	var steps []int
	for _, w := range m.Windows() {
		t.Logf("%s", w)
		assert.Empty(t, w.Codes, "%s: failed calls by code (%d+gRPC code; 0: no answer)", w.Label, grpcFailure)
		if w.Weight > 0 {
			steps = append(steps, w.Weight)
		}
		require.GreaterOrEqual(t, w.Canary+w.Primary, 100, "%s: too few answers to measure the split", w.Label)
		assert.InDelta(t, w.Weight, w.Share(), windowTolerance(w), "%s", w)
	}
	assert.Equal(t, []int{25, 50}, steps, "the canary weights the gateway applied, in order")

	// How Traefik 3.6 counts gRPC calls (see pkg/metrics/builtin.go): a server's error answer
	// with its code, a successful call as Unknown (2), never as OK (0).
	codes := map[string]float64{}
	for _, s := range promQuery(t, fmt.Sprintf(`sum by (code) (traefik_service_requests_total{service=~"%s-podinfo-(primary|canary)-%d-grpc@kubernetesgateway", protocol="grpc"})`, sc.ns, grpcPort)) {
		codes[string(s.Metric["code"])] = float64(s.Value)
	}
	t.Logf("Traefik's gRPC calls by code label: %v", codes)
	assert.InDelta(t, unavailableCalls, codes["14"], 0, "UNAVAILABLE answers")
	assert.Greater(t, codes["2"], 1000.0, "successful calls, counted as Unknown")
	assert.Zero(t, codes["0"], "calls counted as OK")

	// The builtin leaves those out: an error-free canary reads 0.
	query, err := metrics.BuiltinQuery(metrics.GRPCErrorRate, metrics.NewModel(cd, flaggerv1.CanaryMetric{Name: metrics.GRPCErrorRate, Interval: "5m"}))
	require.NoError(t, err)
	vec := promQuery(t, query)
	require.Len(t, vec, 1, "grpc-error-rate: %s", query)
	assert.Zero(t, float64(vec[0].Value), "grpc-error-rate of a canary whose calls all succeeded")
}

// newGRPCScenario installs podinfo with its gRPC server on grpcPort in namespace ns and a
// Canary whose route is a GRPCRoute to that port (host <ns>.example.com), with two weight
// steps, no metrics and no webhooks (the tutorial's speak HTTP), edited further by edits; it
// waits until gRPC calls are served through the gateway.
func newGRPCScenario(t *testing.T, ns string, edits ...func(*unstructured.Unstructured)) *scenario {
	t.Helper()
	if skip != "" {
		t.Skip(skip)
	}
	t.Parallel()
	sc := &scenario{ns: ns, host: ns + ".example.com"}
	ctx := t.Context()
	require.NoError(t, env.InstallApp(ctx, ns))
	patch := fmt.Sprintf(`[
		{"op": "add", "path": "/spec/template/spec/containers/0/command/-", "value": "--grpc-port=%d"},
		{"op": "add", "path": "/spec/template/spec/containers/0/ports/-", "value": {"name": "grpc", "containerPort": %d, "protocol": "TCP"}}
	]`, grpcPort, grpcPort)
	_, err := env.Stack.Kube.AppsV1().Deployments(ns).Patch(ctx, "podinfo", types.JSONPatchType, []byte(patch), metav1.PatchOptions{})
	require.NoError(t, err)
	require.NoError(t, env.WaitAvailable(ctx, ns, "podinfo", 2*time.Minute))
	require.NoError(t, env.ApplyCanary(ctx, ns, func(cd *unstructured.Unstructured) error {
		obj := cd.Object
		for _, err := range []error{
			unstructured.SetNestedStringSlice(obj, []string{sc.host}, "spec", "service", "hosts"),
			unstructured.SetNestedField(obj, int64(grpcPort), "spec", "service", "port"),
			unstructured.SetNestedField(obj, int64(grpcPort), "spec", "service", "targetPort"),
			unstructured.SetNestedField(obj, "GRPCRoute", "spec", "service", "route", "kind"),
			unstructured.SetNestedField(obj, int64(25), "spec", "analysis", "stepWeight"),
		} {
			if err != nil {
				return err
			}
		}
		unstructured.RemoveNestedField(obj, "spec", "analysis", "metrics")
		unstructured.RemoveNestedField(obj, "spec", "analysis", "webhooks")
		for _, edit := range edits {
			edit(cd)
		}
		return nil
	}))
	_, err = env.WaitPhase(ctx, ns, 3*time.Minute, flaggerv1.CanaryPhaseInitialized)
	require.NoError(t, err)
	probe := sc.grpcProbe(t, nil)
	must.Eventually(t, time.Minute, 250*time.Millisecond, func() (bool, error) {
		pod, code := probe(ctx)
		return code == 200, fmt.Errorf("gRPC call answered %d by %q", code, pod)
	}, "gRPC served through the gateway for %s", sc.host)
	return sc
}

// grpcProbe returns a splitmeter probe that calls podinfo's InfoService/Info through the
// gateway on one HTTP/2 connection (Traefik balances each call), with metadata md if not nil,
// and reads the answering Pod's host name. Without podinfo's generated stubs: the empty
// request is an Empty, and the response's first field, the host name, reads as a
// StringValue's.
func (sc *scenario) grpcProbe(t *testing.T, md metadata.MD) func(ctx context.Context) (string, int) {
	t.Helper()
	conn, err := grpc.NewClient("passthrough:///"+strings.TrimPrefix(env.Stack.GatewayURL, "http://"),
		grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithAuthority(sc.host))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return func(ctx context.Context) (string, int) {
		if md != nil {
			ctx = metadata.NewOutgoingContext(ctx, md)
		}
		var info wrapperspb.StringValue
		if err := conn.Invoke(ctx, "/info.InfoService/Info", &emptypb.Empty{}, &info); err != nil {
			return "", grpcFailure + int(status.Code(err))
		}
		return info.GetValue(), 200
	}
}

// grpcMeter starts steady gRPC calls through the gateway, with metadata md if not nil; it
// stops with the test.
func (sc *scenario) grpcMeter(t *testing.T, md metadata.MD) *splitmeter.Meter {
	m := splitmeter.Start(splitmeter.Config{RPS: meterRPS, IsCanary: isCanary, Probe: sc.grpcProbe(t, md)}, "before the release", 0)
	t.Cleanup(m.Stop)
	return m
}

// followGRPC follows the release to its end, opening a meter window at each change of the
// GRPCRoute's canary weight, and returns the final canary.
func (sc *scenario) followGRPC(t *testing.T, m *splitmeter.Meter) *flaggerv1.Canary {
	t.Helper()
	ctx := t.Context()
	weight := 0
	var cd *flaggerv1.Canary
	must.Eventually(t, 4*time.Minute, 250*time.Millisecond, func() (bool, error) {
		if rt, err := env.Gateway.GatewayV1().GRPCRoutes(sc.ns).Get(ctx, "podinfo", metav1.GetOptions{}); err == nil {
			if w, ok := grpcCanaryWeight(rt.Spec.Rules); ok && w != weight {
				weight = w
				m.Mark(fmt.Sprintf("canary %d%%", w), w)
			}
		}
		var err error
		cd, err = env.Flagger.FlaggerV1beta1().Canaries(sc.ns).Get(ctx, "podinfo", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		done := cd.Status.Phase == flaggerv1.CanaryPhaseSucceeded || cd.Status.Phase == flaggerv1.CanaryPhaseFailed
		return done, fmt.Errorf("canary %s/podinfo is %s at weight %d", sc.ns, cd.Status.Phase, cd.Status.CanaryWeight)
	}, "the release of %s/podinfo", sc.ns)
	return cd
}

// grpcCanaryWeight is the canary's weight in the first GRPCRoute rule that routes to it.
func grpcCanaryWeight(rules []gatewayv1.GRPCRouteRule) (int, bool) {
	for _, r := range rules {
		for _, b := range r.BackendRefs {
			if b.Name == "podinfo-canary" && b.Weight != nil {
				return int(*b.Weight), true
			}
		}
	}
	return 0, false
}

// promQuery runs an instant query on the stack's Prometheus.
func promQuery(t *testing.T, query string) model.Vector {
	t.Helper()
	client, err := api.NewClient(api.Config{Address: env.Stack.PrometheusURL})
	require.NoError(t, err)
	value, _, _, err := promv1.NewAPI(client).Query(t.Context(), query, time.Now())
	require.NoError(t, err)
	vec, ok := value.(model.Vector)
	require.True(t, ok, "%s returned a %s", query, value.Type())
	return vec
}

// callStatus makes n calls of podinfo's StatusService/Status, which answers with the gRPC
// status named (without its stubs: the request's first field, the code, is a StringValue's),
// and requires that each got that status.
func (sc *scenario) callStatus(t *testing.T, code string, n int) {
	t.Helper()
	conn, err := grpc.NewClient("passthrough:///"+strings.TrimPrefix(env.Stack.GatewayURL, "http://"),
		grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithAuthority(sc.host))
	require.NoError(t, err)
	defer conn.Close()
	for range n {
		err := conn.Invoke(t.Context(), "/status.StatusService/Status", wrapperspb.String(code), &wrapperspb.StringValue{})
		require.Equal(t, code, status.Code(err).String(), "%v", err)
	}
}
