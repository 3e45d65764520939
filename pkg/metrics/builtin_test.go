package metrics

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

func TestBuiltinQuery(t *testing.T) {
	model := NewModel(newCanary(), newMetric(RequestSuccessRate))
	pods := `kubernetes_namespace="test", kubernetes_pod_name=~"podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"`
	grpcCalls := `service=~"test-podinfo-canary-[0-9]+-grpc@kubernetesgateway", protocol="grpc"`
	tests := map[string]string{
		RequestSuccessRate: `sum( rate(http_request_duration_seconds_count{` + pods + `, status!~"5.*"}[1m]) ) / ` +
			`sum( rate(http_request_duration_seconds_count{` + pods + `}[1m]) ) * 100`,
		RequestDuration: `histogram_quantile(0.99, sum( rate(http_request_duration_seconds_bucket{` + pods + `}[1m]) ) by (le) )`,
		GRPCErrorRate: `( sum( rate(traefik_service_requests_total{` + grpcCalls + `, code!~"0|2"}[1m]) ) or vector(0) ) / ` +
			`sum( rate(traefik_service_requests_total{` + grpcCalls + `}[1m]) ) * 100`,
	}
	for name, want := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := BuiltinQuery(name, model)
			require.NoError(t, err)
			assert.Equal(t, want, compact(got))
		})
	}

	_, err := BuiltinQuery("error-rate", model)
	assert.ErrorContains(t, err, `"error-rate" is not a builtin metric`)
}

func TestBuiltinQueryUsesTheMetricInterval(t *testing.T) {
	q, err := BuiltinQuery(RequestDuration, NewModel(newCanary(), newMetric(RequestDuration, func(m *flaggerv1.CanaryMetric) {
		m.Interval = "30s"
	})))
	require.NoError(t, err)
	assert.Contains(t, q, "[30s]")
	assert.NotContains(t, q, "[1m]")
}

func TestKindOf(t *testing.T) {
	tests := []struct {
		name   string
		metric flaggerv1.CanaryMetric
		want   Kind
	}{
		{"success rate", newMetric(RequestSuccessRate), KindRequestSuccessRate},
		{"duration", newMetric(RequestDuration), KindRequestDuration},
		{"template", newMetric("error-rate", withTemplate("error-rate")), KindTemplate},
		{"inline query", newMetric("error-rate", withQuery("up")), KindQuery},
		{"template wins over a builtin name", newMetric(RequestSuccessRate, withTemplate("sr")), KindTemplate},
		{"query wins over a builtin name", newMetric(RequestDuration, withQuery("up")), KindQuery},
		{"template wins over a query", newMetric("x", withTemplate("t"), withQuery("up")), KindTemplate},
		{"nothing usable", newMetric("error-rate"), KindUnusable},
		{"gRPC error rate", newMetric(GRPCErrorRate), KindGRPCErrorRate},
		{"template wins over the gRPC error rate", newMetric(GRPCErrorRate, withTemplate("t")), KindTemplate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, KindOf(tt.metric))
		})
	}
}

func TestGRPCErrorRateThresholdIsAMaximum(t *testing.T) {
	metric := newMetric(GRPCErrorRate, func(m *flaggerv1.CanaryMetric) {
		m.ThresholdRange = &flaggerv1.CanaryThresholdRange{Max: ptrFloat(1)}
	})
	ok, msg := Check(newCanary(), metric, 0)
	assert.True(t, ok, msg)
	ok, msg = Check(newCanary(), metric, 12)
	assert.False(t, ok)
	assert.Contains(t, msg, "grpc-error-rate 12.00 > 1")
}

func ptrFloat(v float64) *float64 { return &v }
