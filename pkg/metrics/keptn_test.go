package metrics

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/rest"
)

func TestParseKeptnQuery(t *testing.T) {
	tests := map[string]struct {
		query     string
		want      keptnQuery
		wantError string
	}{
		"keptnmetric": {query: "keptnmetric/my-namespace/response-time",
			want: keptnQuery{resource: keptnMetrics, namespace: "my-namespace", name: "response-time"}},
		"keptnmetric ignores the rest, as in Flagger's docs": {query: "keptnmetric/my-namespace/response-time/2m/reporter=destination",
			want: keptnQuery{resource: keptnMetrics, namespace: "my-namespace", name: "response-time"}},
		"plural, upper case and a trailing newline": {query: "KeptnMetrics/Test/RT\n",
			want: keptnQuery{resource: keptnMetrics, namespace: "test", name: "rt"}},
		"analysis with the default duration": {query: "analysis/test/slo",
			want: keptnQuery{resource: keptnAnalyses, namespace: "test", name: "slo", duration: "1m", args: map[string]string{}}},
		"analysis with a duration": {query: "analyses/test/slo/5M",
			want: keptnQuery{resource: keptnAnalyses, namespace: "test", name: "slo", duration: "5m", args: map[string]string{}}},
		"analysis with an empty duration": {query: "analysis/test/slo//a=b",
			want: keptnQuery{resource: keptnAnalyses, namespace: "test", name: "slo", duration: "1m", args: map[string]string{"a": "b"}}},
		"analysis with arguments": {query: "analysis/test/slo/1m30s/argument1=value1;Argument2=Value2;",
			want: keptnQuery{resource: keptnAnalyses, namespace: "test", name: "slo", duration: "1m30s",
				args: map[string]string{"argument1": "value1", "argument2": "Value2"}}},
		"argument values keep '=' and '/'": {query: "analysis/test/slo/1m/path=/api/v1;q=a=b",
			want: keptnQuery{resource: keptnAnalyses, namespace: "test", name: "slo", duration: "1m",
				args: map[string]string{"path": "/api/v1", "q": "a=b"}}},
		"too short":            {query: "keptnmetric/test", wantError: "unexpected query format"},
		"unknown type":         {query: "metric/test/x", wantError: "unexpected resource kind"},
		"no namespace":         {query: "keptnmetric//x", wantError: "names no namespace or no resource name"},
		"no name":              {query: "analysis/test/", wantError: "names no namespace or no resource name"},
		"bad duration":         {query: "analysis/test/slo/1d", wantError: `keptn analysis duration "1d"`},
		"argument without =":   {query: "analysis/test/slo/1m/a=b;oops", wantError: `keptn analysis argument "oops" is not key=value`},
		"argument without key": {query: "analysis/test/slo/1m/=b", wantError: `keptn analysis argument "=b"`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := parseKeptnQuery(tt.query)
			if tt.wantError != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantError)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestKeptnAnalysisResult(t *testing.T) {
	tests := map[string]struct {
		status    map[string]any
		want      float64
		done      bool
		wantError bool
	}{
		"no status yet":             {},
		"pending":                   {status: map[string]any{"state": "Pending"}},
		"progressing":               {status: map[string]any{"state": "Progressing", "pass": true}},
		"passed":                    {status: map[string]any{"state": "Completed", "pass": true}, want: 1, done: true},
		"failed":                    {status: map[string]any{"state": "Completed", "pass": false}, want: 0, done: true},
		"failed, pass omitted":      {status: map[string]any{"state": "Completed", "warning": true}, want: 0, done: true},
		"a state of the wrong type": {status: map[string]any{"state": int64(1)}, wantError: true},
		"a pass of the wrong type":  {status: map[string]any{"state": "Completed", "pass": "yes"}, wantError: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			obj := &unstructured.Unstructured{Object: map[string]any{}}
			if tt.status != nil {
				obj.Object["status"] = tt.status
			}
			got, done, err := analysisResult(obj)
			if tt.wantError {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.done, done)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestNewKeptnAnalysis(t *testing.T) {
	a := newKeptnAnalysis(keptnQuery{resource: keptnAnalyses, namespace: "test", name: "slo", duration: "2m",
		args: map[string]string{"workload": "podinfo"}})
	assert.Equal(t, map[string]any{
		"apiVersion": "metrics.keptn.sh/v1beta1",
		"kind":       "Analysis",
		"metadata":   map[string]any{"generateName": "slo-", "namespace": "test"},
		"spec": map[string]any{
			"analysisDefinition": map[string]any{"name": "slo"},
			"timeframe":          map[string]any{"recent": "2m"},
			"args":               map[string]any{"workload": "podinfo"},
		},
	}, a.Object)
}

func keptnMetric(namespace, name string, status map[string]any) *unstructured.Unstructured {
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "metrics.keptn.sh/v1beta1", "kind": "KeptnMetric",
		"metadata": map[string]any{"namespace": namespace, "name": name},
		"spec":     map[string]any{"provider": map[string]any{"name": "prom"}, "query": "up", "fetchIntervalSeconds": int64(10)},
	}}
	if status != nil {
		obj.Object["status"] = status
	}
	return obj
}

func TestKeptnMetricValue(t *testing.T) {
	tests := map[string]struct {
		status    map[string]any
		query     string
		want      float64
		wantError string
	}{
		"a value":     {status: map[string]any{"value": "0.25"}, want: 0.25},
		"no status":   {wantError: "could not retrieve KeptnMetric - no value found in resource test/rt"},
		"empty value": {status: map[string]any{"value": ""}, wantError: "no value found in resource test/rt"},
		"a fetch error": {status: map[string]any{"errMsg": "client_error: 404"},
			wantError: "no value found in resource test/rt: client_error: 404"},
		"not a number": {status: map[string]any{"value": "n/a"}, wantError: "could not parse value of KeptnMetric test/rt to float"},
		"missing":      {query: "keptnmetric/test/other", wantError: "could not retrieve KeptnMetric test/other: keptnmetrics.metrics.keptn.sh \"other\" not found"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			client := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
				map[schema.GroupVersionResource]string{keptnMetrics: "KeptnMetricList", keptnAnalyses: "AnalysisList"},
				keptnMetric("test", "rt", tt.status))
			k := &keptn{client: client, queryTimeout: time.Second}
			query := tt.query
			if query == "" {
				query = "keptnmetric/test/rt"
			}

			got, err := k.RunQuery(t.Context(), query, time.Time{})
			if tt.wantError != "" {
				require.Error(t, err)
				assert.NotErrorIs(t, err, ErrNoValues)
				assert.Contains(t, err.Error(), tt.wantError)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestKeptnNeedsACluster(t *testing.T) {
	_, err := NewProvider(ProviderConfig{Type: TypeKeptn})
	require.ErrorContains(t, err, "could not initialize KeptnProvider: no KubeConfig provided")

	p, err := NewProvider(ProviderConfig{Type: TypeKeptn, Cluster: &rest.Config{Host: "https://127.0.0.1:1"}})
	require.NoError(t, err)
	_, err = p.RunQuery(t.Context(), "keptnmetric/test", time.Time{})
	require.ErrorContains(t, err, "unexpected query format")
}
