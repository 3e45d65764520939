package integration

import (
	"context"
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	externalv1beta1 "k8s.io/metrics/pkg/apis/external_metrics/v1beta1"

	"github.com/serin-dev/serin/pkg/metrics"
	"github.com/serin-dev/serin/test/lib/must"
)

var apiServices = schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}

// TestExternalMetricsThroughTheAggregator registers an external metrics
// adapter with the API server as KEDA or the Prometheus adapter do (an
// APIService for external.metrics.k8s.io/v1beta1 in front of a Service),
// and runs the externalmetrics provider against the API server: every
// query goes through the real aggregator, its discovery, TLS verification
// of the adapter and proxying.
func TestExternalMetricsThroughTheAggregator(t *testing.T) {
	const ns, svc = "external-metrics", "adapter"
	ensureNamespace(t, ns)
	adapter := startExternalAdapter(t, svc+"."+ns+".svc")
	provider, err := metrics.NewProvider(metrics.ProviderConfig{Type: metrics.TypeExternalMetrics, Cluster: cfg})
	require.NoError(t, err)

	ok, err := provider.IsOnline(t.Context())
	assert.False(t, ok, "no APIService yet")
	assert.ErrorContains(t, err, "external metrics service unavailable")

	registerExternalAdapter(t, ns, svc, adapter)
	now := metav1.Now()
	value := func(q string, lbls map[string]string) externalv1beta1.ExternalMetricValue {
		return externalv1beta1.ExternalMetricValue{MetricName: "queue_depth", MetricLabels: lbls,
			Timestamp: now, Value: resource.MustParse(q)}
	}
	adapter.set("test", "queue_depth",
		value("1500m", map[string]string{"queue": "orders"}),
		value("7", map[string]string{"queue": "payments"}),
		value("8", map[string]string{"queue": "payments"}))
	adapter.set("default", "queue_depth", value("2Ki", nil))
	adapter.set("test", "idle")

	ok, err = provider.IsOnline(t.Context())
	require.NoError(t, err)
	assert.True(t, ok)

	tests := map[string]struct {
		query     string
		want      float64
		noValues  bool
		wantError string
	}{
		"a selected item, a milli-quantity":   {query: "test/queue_depth?labelSelector=queue%3Dorders", want: 1.5},
		"the first of several matching items": {query: "test/queue_depth?labelSelector=queue%3Dpayments", want: 7},
		"the namespace defaults to default":   {query: "queue_depth", want: 2048},
		"nothing matches the selector":        {query: "test/queue_depth?labelSelector=queue%3Dnone", noValues: true},
		"a metric without series":             {query: "test/idle", noValues: true},
		"a metric the adapter does not serve": {query: "test/unknown",
			wantError: `error querying external metrics API: unknown.external.metrics.k8s.io "" not found`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			before := adapter.listed()
			got, err := provider.RunQuery(t.Context(), tt.query, time.Time{})
			switch {
			case tt.noValues:
				require.ErrorIs(t, err, metrics.ErrNoValues)
			case tt.wantError != "":
				require.Error(t, err)
				assert.NotErrorIs(t, err, metrics.ErrNoValues)
				assert.Contains(t, err.Error(), tt.wantError)
				return
			default:
				require.NoError(t, err)
				assert.Equal(t, tt.want, got)
			}
			assert.Equal(t, before+1, adapter.listed(), "the adapter answered the query")
		})
	}
}

// registerExternalAdapter creates the Service and APIService that route
// external.metrics.k8s.io/v1beta1 to the adapter, waits until the
// aggregator reports the APIService Available, and removes both in
// t.Cleanup (before the adapter stops: an unavailable APIService would
// break the discovery of the package's other tests).
//
// Nothing routes a ClusterIP here (no kube-proxy) and EndpointSlices refuse
// loopback addresses, so the Service is an ExternalName for localhost: the
// aggregator dials <externalName>:<APIService port> and verifies the
// certificate for <service>.<namespace>.svc against the caBundle.
func registerExternalAdapter(t *testing.T, ns, svc string, adapter *externalAdapter) {
	t.Helper()
	ctx := context.Background()
	port := adapter.port(t)
	service := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: svc, Namespace: ns},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "localhost",
			Ports: []corev1.ServicePort{{Name: "https", Port: port}}},
	}
	_, err := kube.CoreV1().Services(ns).Create(ctx, service, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = kube.CoreV1().Services(ns).Delete(ctx, svc, metav1.DeleteOptions{}) })

	name := "v1beta1." + externalv1beta1.GroupName
	apiService := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
		"metadata": map[string]any{"name": name},
		"spec": map[string]any{
			"group": externalv1beta1.GroupName, "version": "v1beta1",
			"groupPriorityMinimum": int64(100), "versionPriority": int64(100),
			"service":  map[string]any{"namespace": ns, "name": svc, "port": int64(port)},
			"caBundle": base64.StdEncoding.EncodeToString(adapter.caPEM),
		},
	}}
	_, err = dyn.Resource(apiServices).Create(ctx, apiService, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		err := dyn.Resource(apiServices).Delete(ctx, name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("deleting APIService %s: %v", name, err)
		}
	})
	must.Eventually(t, 30*time.Second, 100*time.Millisecond, func() (bool, error) {
		obj, err := dyn.Resource(apiServices).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		conditions, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
		for _, c := range conditions {
			c, _ := c.(map[string]any)
			if c["type"] == "Available" {
				return c["status"] == "True", fmt.Errorf("Available=%v: %v: %v", c["status"], c["reason"], c["message"])
			}
		}
		return false, fmt.Errorf("no Available condition yet")
	}, "APIService %s available", name)
}
