package metrics

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name   string
		metric flaggerv1.CanaryMetric
		value  float64
		want   string // empty: the check passes
	}{
		// request-success-rate: percent; the legacy threshold is a minimum.
		{"success rate above legacy minimum", newMetric(RequestSuccessRate, withThreshold(99)), 99.5, ""},
		{"success rate equal to legacy minimum", newMetric(RequestSuccessRate, withThreshold(99)), 99, ""},
		{"success rate below legacy minimum", newMetric(RequestSuccessRate, withThreshold(99)), 98.5,
			"Halt podinfo.test advancement success rate 98.50% < 99%"},
		{"success rate below range min", newMetric(RequestSuccessRate, withRange(ptr(99.5), nil)), 99.123,
			"Halt podinfo.test advancement success rate 99.12% < 99.5%"},
		{"success rate above range max", newMetric(RequestSuccessRate, withRange(nil, ptr(50))), 100,
			"Halt podinfo.test advancement success rate 100.00% > 50%"},
		{"success rate inside range", newMetric(RequestSuccessRate, withRange(ptr(90), ptr(100))), 95, ""},
		{"range wins over legacy threshold", newMetric(RequestSuccessRate, withThreshold(99), withRange(ptr(90), nil)), 95, ""},
		{"success rate without threshold", newMetric(RequestSuccessRate), 0, ""},

		// request-duration: the value is in seconds, thresholds in ms; the
		// legacy threshold is a maximum.
		{"duration below legacy maximum", newMetric(RequestDuration, withThreshold(500)), 0.3, ""},
		{"duration equal to legacy maximum", newMetric(RequestDuration, withThreshold(500)), 0.5, ""},
		{"duration above legacy maximum", newMetric(RequestDuration, withThreshold(500)), 1.2,
			"Halt podinfo.test advancement request duration 1.2s > 500ms"},
		{"duration above range max", newMetric(RequestDuration, withRange(nil, ptr(500))), 0.75,
			"Halt podinfo.test advancement request duration 750ms > 500ms"},
		{"duration below range min", newMetric(RequestDuration, withRange(ptr(100), ptr(500))), 0.05,
			"Halt podinfo.test advancement request duration 50ms < 100ms"},
		{"duration inside range", newMetric(RequestDuration, withRange(ptr(100), ptr(500))), 0.25, ""},
		{"duration float error rounds, not truncates", newMetric(RequestDuration, withRange(ptr(290), nil)), 0.29, ""},
		{"fractional ms threshold", newMetric(RequestDuration, withRange(nil, ptr(0.5))), 0.001,
			"Halt podinfo.test advancement request duration 1ms > 500µs"},
		{"infinite duration fails a maximum", newMetric(RequestDuration, withThreshold(500)), math.Inf(1),
			"Halt podinfo.test advancement request duration +Inf > 500ms"},

		// templates and inline queries: raw values; the legacy threshold is a
		// maximum.
		{"template above legacy maximum", newMetric("error-rate", withTemplate("error-rate"), withThreshold(1)), 69.1666,
			"Halt podinfo.test advancement error-rate 69.17 > 1"},
		{"template below legacy maximum", newMetric("error-rate", withTemplate("error-rate"), withThreshold(1)), 0.5, ""},
		{"template with no threshold fails any positive value", newMetric("error-rate", withTemplate("e")), 0.01,
			"Halt podinfo.test advancement error-rate 0.01 > 0"},
		{"template below range min", newMetric("rps", withTemplate("rps"), withRange(ptr(10), nil)), 2.5,
			"Halt podinfo.test advancement rps 2.50 < 10"},
		{"template above range max", newMetric("latency", withTemplate("latency"), withRange(nil, ptr(0.5))), 0.61,
			"Halt podinfo.test advancement latency 0.61 > 0.5"},
		{"template inside range", newMetric("latency", withTemplate("latency"), withRange(ptr(0), ptr(0.5))), 0.2, ""},
		{"inline query above legacy maximum", newMetric("404s", withQuery("x"), withThreshold(5)), 7,
			"Halt podinfo.test advancement 404s 7.00 > 5"},
		{"template named like a builtin is a raw value", newMetric(RequestSuccessRate, withTemplate("sr"), withThreshold(99)), 99.5,
			"Halt podinfo.test advancement request-success-rate 99.50 > 99"},

		{"NaN never passes", newMetric("error-rate", withTemplate("e"), withThreshold(1)), math.NaN(),
			"Halt podinfo.test advancement error-rate is NaN"},
		{"unusable metric", newMetric("error-rate"), 0, UnusableMetricMessage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, msg := Check(newCanary(), tt.metric, tt.value)
			assert.Equal(t, tt.want == "", ok)
			assert.Equal(t, tt.want, msg)
		})
	}
}

func TestNoValuesMessage(t *testing.T) {
	err := fmt.Errorf("running query failed: %w", ErrNoValues)
	tests := []struct {
		metric flaggerv1.CanaryMetric
		want   string
	}{
		{newMetric(RequestSuccessRate),
			"Halt advancement no values found for gatewayapi:v1 metric request-success-rate probably podinfo.test is not receiving traffic: running query failed: no values found"},
		{newMetric(RequestDuration),
			"Halt advancement no values found for gatewayapi:v1 metric request-duration probably podinfo.test is not receiving traffic"},
		{newMetric("error-rate", withQuery("x")), "Halt advancement no values found for metric: error-rate"},
		{newMetric("error-rate", withTemplate("e")),
			"Halt advancement no values found for custom metric: error-rate: running query failed: no values found"},
		{newMetric("error-rate"), UnusableMetricMessage},
	}
	for _, tt := range tests {
		t.Run(tt.metric.Name, func(t *testing.T) {
			assert.Equal(t, tt.want, NoValuesMessage(newCanary(), tt.metric, "gatewayapi:v1", err))
		})
	}
}

func TestQueryErrorMessage(t *testing.T) {
	err := errors.New("server_error: server error: 500")
	tests := []struct {
		metric flaggerv1.CanaryMetric
		want   string
	}{
		{newMetric(RequestSuccessRate), "Prometheus query failed: server_error: server error: 500"},
		{newMetric(RequestDuration), "Prometheus query failed: server_error: server error: 500"},
		{newMetric("404s", withQuery("x")), "Prometheus query failed for 404s: server_error: server error: 500"},
		{newMetric("error-rate", withTemplate("e")), "Metric query failed for error-rate: server_error: server error: 500"},
		{newMetric("error-rate"), UnusableMetricMessage},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			assert.Equal(t, tt.want, QueryErrorMessage(tt.metric, err))
		})
	}
}
