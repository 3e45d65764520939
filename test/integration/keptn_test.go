package integration

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/serin-dev/serin/pkg/metrics"
	"github.com/serin-dev/serin/test/lib/cluster"
)

var (
	keptnMetricsGVR  = schema.GroupVersionResource{Group: "metrics.keptn.sh", Version: "v1beta1", Resource: "keptnmetrics"}
	keptnAnalysesGVR = schema.GroupVersionResource{Group: "metrics.keptn.sh", Version: "v1beta1", Resource: "analyses"}
)

// installKeptn installs Keptn's KeptnMetric and Analysis CRDs
// (test/testdata/keptn) unless an earlier test did, checking on the way
// that the provider reports a cluster without them offline.
func installKeptn(t *testing.T, provider metrics.Provider) {
	t.Helper()
	_, err := dyn.Resource(keptnAnalysesGVR).List(t.Context(), metav1.ListOptions{Limit: 1})
	if err == nil {
		return
	}
	ok, err := provider.IsOnline(t.Context())
	assert.False(t, ok, "Keptn is not installed yet")
	assert.ErrorContains(t, err, "keptn metrics API metrics.keptn.sh/v1beta1 is not served")
	dir := filepath.Join("..", "testdata", "keptn")
	require.NoError(t, cluster.Install(t.Context(), cfg,
		filepath.Join(dir, "keptnmetrics.yaml"), filepath.Join(dir, "analyses.yaml")))
}

// TestKeptnMetric reads a KeptnMetric whose status Keptn's metrics
// operator has not written yet, has written, and has written an error to.
func TestKeptnMetric(t *testing.T) {
	const ns = "keptn-metric"
	provider, err := metrics.NewProvider(metrics.ProviderConfig{Type: metrics.TypeKeptn, Cluster: cfg})
	require.NoError(t, err)
	installKeptn(t, provider)
	ensureNamespace(t, ns)
	ok, err := provider.IsOnline(t.Context())
	require.NoError(t, err)
	assert.True(t, ok, "the Keptn metrics API is served")

	metric := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "metrics.keptn.sh/v1beta1", "kind": "KeptnMetric",
		"metadata": map[string]any{"name": "response-time", "namespace": ns},
		"spec": map[string]any{
			"provider": map[string]any{"name": "my-prometheus-keptn-provider"}, "fetchIntervalSeconds": int64(10),
			"query": `histogram_quantile(0.8, sum by(le) (rate(http_server_request_latency_seconds_bucket[5m])))`,
		},
	}}
	metric, err = dyn.Resource(keptnMetricsGVR).Namespace(ns).Create(t.Context(), metric, metav1.CreateOptions{})
	require.NoError(t, err)
	query := "keptnmetric/" + ns + "/response-time/2m/reporter=destination"

	_, err = provider.RunQuery(t.Context(), query, time.Time{})
	require.ErrorContains(t, err, "could not retrieve KeptnMetric - no value found in resource keptn-metric/response-time")

	metric = writeKeptnStatus(t, keptnMetricsGVR, metric, map[string]any{
		"value": "0.42", "rawValue": "MC40Mg==", "lastUpdated": metav1.Now().UTC().Format(time.RFC3339)})
	got, err := provider.RunQuery(t.Context(), query, time.Time{})
	require.NoError(t, err)
	assert.Equal(t, 0.42, got)

	writeKeptnStatus(t, keptnMetricsGVR, metric, map[string]any{"value": "", "errMsg": "client_error: client error: 400"})
	_, err = provider.RunQuery(t.Context(), query, time.Time{})
	require.ErrorContains(t, err, "no value found in resource keptn-metric/response-time: client_error: client error: 400")

	_, err = provider.RunQuery(t.Context(), "keptnmetric/"+ns+"/missing", time.Time{})
	require.Error(t, err)
	assert.True(t, apierrors.IsNotFound(err), "%v", err)
	assert.ErrorContains(t, err, "could not retrieve KeptnMetric keptn-metric/missing")
}

// TestKeptnAnalysis runs analysis queries while the test plays Keptn's
// metrics operator: it completes the Analyses of slo-pass (pass: true) and
// slo-fail (pass omitted, as Keptn writes a false one), and leaves those of
// slo-stuck Progressing. Each query waits for one poll (1 s).
func TestKeptnAnalysis(t *testing.T) {
	const ns = "keptn-analysis"
	provider, err := metrics.NewProvider(metrics.ProviderConfig{Type: metrics.TypeKeptn, Cluster: cfg, Timeout: 2 * time.Second})
	require.NoError(t, err)
	installKeptn(t, provider)
	ensureNamespace(t, ns)
	keptn := playKeptn(t, ns)

	tests := map[string]struct {
		query     string
		want      float64
		wantError string
		wantSpec  map[string]any
	}{
		"passed": {query: "analysis/" + ns + "/slo-pass/2m/workload=podinfo;Stage=Prod", want: 1,
			wantSpec: map[string]any{
				"analysisDefinition": map[string]any{"name": "slo-pass"},
				"timeframe":          map[string]any{"recent": "2m"},
				"args":               map[string]any{"workload": "podinfo", "stage": "Prod"},
			}},
		"failed": {query: "analysis/" + ns + "/slo-fail", want: 0,
			wantSpec: map[string]any{
				"analysisDefinition": map[string]any{"name": "slo-fail"},
				"timeframe":          map[string]any{"recent": "1m"},
				"args":               map[string]any{},
			}},
		"not completed in time": {query: "analysis/" + ns + "/slo-stuck/5m",
			wantError: "encountered timeout while waiting for Keptn Analysis keptn-analysis/slo-stuck to be finished"},
		"refused by the API server": {query: "analysis/nowhere/slo-pass",
			wantError: `could not create Keptn Analysis nowhere/slo-pass: namespaces "nowhere" not found`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			before := len(keptn.created())
			got, err := provider.RunQuery(t.Context(), tt.query, time.Time{})
			if tt.wantError != "" {
				require.ErrorContains(t, err, tt.wantError)
			} else {
				require.NoError(t, err)
				assert.Equal(t, tt.want, got)
			}
			if tt.wantSpec != nil {
				created := keptn.created()
				require.Len(t, created, before+1)
				spec, _, _ := unstructured.NestedMap(created[before].Object, "spec")
				assert.Equal(t, tt.wantSpec, spec)
			}
			list, err := dyn.Resource(keptnAnalysesGVR).Namespace(ns).List(context.Background(), metav1.ListOptions{})
			require.NoError(t, err)
			assert.Empty(t, list.Items, "the provider deletes its Analysis")
		})
	}
}

// fakeKeptn records the Analyses it saw created.
type fakeKeptn struct {
	mu       sync.Mutex
	analyses []*unstructured.Unstructured
}

func (f *fakeKeptn) created() []*unstructured.Unstructured {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*unstructured.Unstructured(nil), f.analyses...)
}

// playKeptn watches the namespace's Analyses until the test ends and writes
// their status as Keptn's analysis controller does: Progressing, then
// Completed with the verdict, chosen by the AnalysisDefinition's name.
func playKeptn(t *testing.T, ns string) *fakeKeptn {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w, err := dyn.Resource(keptnAnalysesGVR).Namespace(ns).Watch(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	f := &fakeKeptn{}
	done := make(chan struct{})
	t.Cleanup(func() {
		cancel()
		w.Stop()
		<-done
	})
	go func() {
		defer close(done)
		for ev := range w.ResultChan() {
			obj, ok := ev.Object.(*unstructured.Unstructured)
			if !ok || ev.Type != watch.Added {
				continue
			}
			f.mu.Lock()
			f.analyses = append(f.analyses, obj.DeepCopy())
			f.mu.Unlock()
			definition, _, _ := unstructured.NestedString(obj.Object, "spec", "analysisDefinition", "name")
			obj, err := updateStatus(ctx, keptnAnalysesGVR, obj, map[string]any{"state": "Progressing"})
			if err != nil || definition == "slo-stuck" {
				continue
			}
			status := map[string]any{"state": "Completed", "raw": `{"objectiveResults":[]}`}
			if strings.HasSuffix(definition, "-pass") {
				status["pass"] = true
			}
			_, _ = updateStatus(ctx, keptnAnalysesGVR, obj, status)
		}
	}()
	return f
}

func writeKeptnStatus(t *testing.T, gvr schema.GroupVersionResource, obj *unstructured.Unstructured, status map[string]any) *unstructured.Unstructured {
	t.Helper()
	out, err := updateStatus(t.Context(), gvr, obj, status)
	require.NoError(t, err)
	return out
}

func updateStatus(ctx context.Context, gvr schema.GroupVersionResource, obj *unstructured.Unstructured, status map[string]any) (*unstructured.Unstructured, error) {
	obj = obj.DeepCopy()
	obj.Object["status"] = status
	return dyn.Resource(gvr).Namespace(obj.GetNamespace()).UpdateStatus(ctx, obj, metav1.UpdateOptions{})
}
