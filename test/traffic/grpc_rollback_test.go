package traffic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/metrics"
)

// unavailableEnv, set in a Pod's environment, makes this test binary, started as the Pod's
// program, serve as TestHelperGRPCUnavailable.
const unavailableEnv = "SERIN_TRAFFIC_GRPC_UNAVAILABLE"

// grpcMaxErrorRate is the rollback scenario's thresholdRange max for grpc-error-rate, in percent.
const grpcMaxErrorRate = 5

// TestGRPCCanaryUnavailableRollback releases a gRPC canary (GRPCRoute, 50% step) whose new
// revision answers UNAVAILABLE to every call, with the builtin grpc-error-rate (max 5) as its
// only metric and real gRPC calls through Traefik as the load: the metric halts the advancement
// twice, Serin rolls back, the route is back at 100/0, and calls succeed again.
//
// podinfo 6.9.2 cannot be told to fail its gRPC calls (its StatusService answers the code
// the caller asks for, whichever revision answers; no flag or variable makes its server
// fail), so the new revision runs a stand-in: its Pod template starts this test binary as
// TestHelperGRPCUnavailable. A podinfo with its gRPC server off would not do either: the
// UNAVAILABLE its callers see would be Traefik's 502, which Traefik counts as Unknown and the
// builtin leaves out (see pkg/metrics/builtin.go).
func TestGRPCCanaryUnavailableRollback(t *testing.T) {
	const threshold = 2
	sc := newGRPCScenario(t, "grpc-rollback", func(cd *unstructured.Unstructured) {
		_ = unstructured.SetNestedField(cd.Object, int64(threshold), "spec", "analysis", "threshold")
		_ = unstructured.SetNestedField(cd.Object, int64(50), "spec", "analysis", "stepWeight")
		_ = unstructured.SetNestedField(cd.Object, int64(50), "spec", "analysis", "maxWeight")
		_ = unstructured.SetNestedSlice(cd.Object, []any{map[string]any{
			"name": metrics.GRPCErrorRate, "interval": "30s",
			"thresholdRange": map[string]any{"max": int64(grpcMaxErrorRate)},
		}}, "spec", "analysis", "metrics")
	})
	m := sc.grpcMeter(t, nil)
	released := time.Now()
	releaseUnavailable(t, sc.ns)
	cd := sc.followGRPC(t, m)
	failedAt := time.Now()
	require.Equal(t, flaggerv1.CanaryPhaseFailed, cd.Status.Phase)

	halts, rollback := canaryEvents(t, sc.ns)
	halt := regexp.MustCompile(`^Halt podinfo\.` + sc.ns + ` advancement grpc-error-rate ([0-9.]+) > ` + strconv.Itoa(grpcMaxErrorRate) + `$`)
	var rates []string
	for _, msg := range halts {
		if sub := halt.FindStringSubmatch(msg); sub != nil {
			rates = append(rates, sub[1])
		}
	}
	// Every failed check counts towards the threshold; one may be a "no values" halt if the
	// check ran before Prometheus had scraped the canary's first calls.
	t.Logf("halts: %q", halts)
	assert.NotEmpty(t, rates, "halts by grpc-error-rate above its max: %q", halts)
	assert.Equal(t, []string{fmt.Sprintf("Rolling back podinfo.%s failed checks threshold reached %d", sc.ns, threshold)}, rollback)

	rt, err := env.Gateway.GatewayV1().GRPCRoutes(sc.ns).Get(t.Context(), "podinfo", metav1.GetOptions{})
	require.NoError(t, err)
	weights := map[string]int32{}
	for _, r := range rt.Spec.Rules {
		for _, b := range r.BackendRefs {
			if b.Weight != nil {
				weights[string(b.Name)] = *b.Weight
			}
		}
	}
	assert.Equal(t, map[string]int32{"podinfo-primary": 100, "podinfo-canary": 0}, weights, "GRPCRoute weights after the rollback")

	// What Traefik counted for the canary's Service, and what the builtin reads from it.
	counted := map[string]float64{}
	for _, s := range promQuery(t, fmt.Sprintf(`sum by (code) (traefik_service_requests_total{service=~"%s-podinfo-canary-%d-grpc@kubernetesgateway", protocol="grpc"})`, sc.ns, grpcPort)) {
		counted[string(s.Metric["code"])] = float64(s.Value)
	}
	t.Logf("Traefik's gRPC calls to the canary by code label: %v", counted)
	assert.Positive(t, counted["14"], "UNAVAILABLE answers counted with their code")
	query, err := metrics.BuiltinQuery(metrics.GRPCErrorRate, metrics.NewModel(cd, cd.Spec.Analysis.Metrics[0]))
	require.NoError(t, err)
	if vec := promQuery(t, query); len(vec) == 1 {
		t.Logf("grpc-error-rate at the rollback: %.2f%% (the halts read %v)", float64(vec[0].Value), rates)
	}

	// The calls once Traefik has applied the rollback (up to 2 s on 2 busy cores).
	time.Sleep(3 * time.Second)
	m.Mark("after the rollback", 0)
	time.Sleep(5 * time.Second)
	m.Stop()
	windows := m.Windows()
	var firstFailed time.Time
	for _, w := range windows {
		t.Logf("%s, failed by code (%d+gRPC code): %v", w, grpcFailure, w.Codes)
		for code := range w.Codes {
			assert.Equal(t, grpcFailure+int(codes.Unavailable), code, "%s: the only failure is the canary's UNAVAILABLE", w.Label)
		}
		if firstFailed.IsZero() && !w.FirstFailed.IsZero() {
			firstFailed = w.FirstFailed
		}
	}
	require.False(t, firstFailed.IsZero(), "the canary answered calls through the gateway before the rollback")
	t.Logf("rolled back (Failed) %s after the release, %s after the first UNAVAILABLE call",
		failedAt.Sub(released).Round(time.Second), failedAt.Sub(firstFailed).Round(time.Second))
	last := windows[len(windows)-1]
	require.Equal(t, "after the rollback", last.Label)
	assert.Positive(t, last.Primary, "the primary answers after the rollback")
	assert.Zero(t, last.Canary, "the canary answers nothing after the rollback")
	assert.Zero(t, last.Failed, "every call succeeds after the rollback")
}

// releaseUnavailable makes podinfo's new revision: a new image tag whose program is the
// stand-in (this binary running TestHelperGRPCUnavailable), in one update.
func releaseUnavailable(t *testing.T, ns string) {
	t.Helper()
	self, err := os.Executable()
	require.NoError(t, err)
	container := map[string]any{
		"name":    "podinfod",
		"image":   "ghcr.io/stefanprodan/podinfo:6.0.1",
		"command": []string{self, "-test.run=^TestHelperGRPCUnavailable$", "-test.v"},
		"env":     []any{map[string]any{"name": unavailableEnv, "value": "1"}},
	}
	patch, err := json.Marshal(map[string]any{"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
		"containers": []any{container},
	}}}})
	require.NoError(t, err)
	_, err = env.Stack.Kube.AppsV1().Deployments(ns).Patch(t.Context(), "podinfo", types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	require.NoError(t, err)
}

// canaryEvents returns the messages of the Canary's Warning events that halted its
// advancement and of those that rolled it back.
func canaryEvents(t *testing.T, ns string) (halts, rollbacks []string) {
	t.Helper()
	list, err := env.Stack.Kube.CoreV1().Events(ns).List(t.Context(), metav1.ListOptions{
		FieldSelector: "involvedObject.kind=Canary,involvedObject.name=podinfo",
	})
	require.NoError(t, err)
	halt := regexp.MustCompile(`^Halt podinfo\.\S+ advancement `)
	for _, ev := range list.Items {
		switch {
		case halt.MatchString(ev.Message):
			for range max(ev.Count, 1) {
				halts = append(halts, ev.Message)
			}
		case strings.HasPrefix(ev.Message, "Rolling back "):
			rollbacks = append(rollbacks, ev.Message)
		}
	}
	return halts, rollbacks
}

// TestHelperGRPCUnavailable is the program of the bad revision in
// TestGRPCCanaryUnavailableRollback, not a test (os/exec's TestHelperProcess idiom): when its Pod starts this binary with
// unavailableEnv set, it answers every gRPC call on grpcPort with UNAVAILABLE (as grpc-go
// sends a handler's error: trailers-only, the status in the headers), and 200 to the
// kubelet's probes on podinfo's HTTP port, until SIGTERM.
func TestHelperGRPCUnavailable(t *testing.T) {
	if os.Getenv(unavailableEnv) == "" {
		t.Skip("the program of TestGRPCCanaryUnavailableRollback's canary Pods")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	srv := grpc.NewServer(grpc.UnknownServiceHandler(func(any, grpc.ServerStream) error {
		return status.Error(codes.Unavailable, "this revision is unavailable")
	}))
	lis, err := net.Listen("tcp", fmt.Sprintf(":%d", grpcPort))
	require.NoError(t, err)
	probes := &http.Server{Addr: ":9898", Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})}
	served := make(chan error, 2)
	go func() { served <- srv.Serve(lis) }()
	go func() { served <- probes.ListenAndServe() }()
	t.Logf("answering gRPC calls on :%d with UNAVAILABLE", grpcPort)
	select {
	case <-ctx.Done():
	case err := <-served:
		t.Errorf("serving: %v", err)
	}
	srv.Stop()
	if err := probes.Close(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("closing the probes' server: %v", err)
	}
}
