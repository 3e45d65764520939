package router

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

func TestFormatDuration(t *testing.T) {
	for in, want := range map[string]gatewayv1.Duration{
		"0s":        "0s",
		"5s":        "5s",
		"1.5s":      "1s500ms",
		"90s":       "1m30s",
		"2h":        "2h",
		"1h2m3s4ms": "1h2m3s4ms",
		"1500us":    "2ms",
		"100ms":     "100ms",
	} {
		d, err := time.ParseDuration(in)
		assert.NoError(t, err)
		assert.Equal(t, want, formatDuration(d), in)
	}
}

func TestRuleTimeouts(t *testing.T) {
	tests := []struct {
		name, request, backend string
		want                   *gatewayv1.HTTPRouteTimeouts
		errs                   int
	}{
		{name: "unset"},
		{name: "request only", request: "30s", want: &gatewayv1.HTTPRouteTimeouts{Request: ptrTo(gatewayv1.Duration("30s"))}},
		{name: "backend only", backend: "2m", want: &gatewayv1.HTTPRouteTimeouts{BackendRequest: ptrTo(gatewayv1.Duration("2m"))}},
		{name: "backend within request", request: "10s", backend: "5s",
			want: &gatewayv1.HTTPRouteTimeouts{Request: ptrTo(gatewayv1.Duration("10s")), BackendRequest: ptrTo(gatewayv1.Duration("5s"))}},
		{name: "request disabled", request: "0s", backend: "5s",
			want: &gatewayv1.HTTPRouteTimeouts{Request: ptrTo(gatewayv1.Duration("0s")), BackendRequest: ptrTo(gatewayv1.Duration("5s"))}},
		{name: "backend longer than request", request: "1s", backend: "2s",
			want: &gatewayv1.HTTPRouteTimeouts{Request: ptrTo(gatewayv1.Duration("1s"))}, errs: 1},
		{name: "invalid", request: "soon", errs: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := ruleTimeouts(&flaggerv1.CanaryService{Timeout: tt.request, BackendTimeout: tt.backend})
			assert.Equal(t, tt.want, got)
			assert.Len(t, errs, tt.errs)
		})
	}
}

func TestHeaderFilterEmpty(t *testing.T) {
	assert.Nil(t, headerFilter(nil))
	assert.Nil(t, headerFilter(&flaggerv1.HeaderOperations{Set: map[string]string{}}))
	filters, errs := ruleFilters(&flaggerv1.CanaryService{Headers: &flaggerv1.Headers{}, Rewrite: &flaggerv1.HTTPRewrite{}})
	assert.Nil(t, filters)
	assert.Nil(t, errs)
}
