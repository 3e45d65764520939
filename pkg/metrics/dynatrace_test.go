package metrics

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func dynatraceProvider(t *testing.T, addr, interval string) Provider {
	t.Helper()
	return vendorProvider(t, ProviderConfig{Type: TypeDynatrace, Address: addr, Interval: interval,
		Credentials: vendorSecrets[TypeDynatrace]})
}

func TestDynatraceRunQuery(t *testing.T) {
	tests := map[string]struct {
		answer answer
		outcome
	}{
		"one series":                {answer: answer{status: 200, file: "dynatrace/query.json"}, outcome: outcome{want: 15234.5}},
		"several series: the last":  {answer: answer{status: 200, file: "dynatrace/query-several.json"}, outcome: outcome{want: 2.25}},
		"no series":                 {answer: answer{status: 200, file: "dynatrace/query-no-series.json"}, outcome: outcome{noValues: true}},
		"no metric":                 {answer: answer{status: 200, file: "dynatrace/query-no-metric.json"}, outcome: outcome{noValues: true}},
		"null value is no value":    {answer: answer{status: 200, file: "dynatrace/query-null.json"}, outcome: outcome{noValues: true}},
		"series without any values": {answer: answer{status: 200, body: `{"result":[{"metricId":"m","data":[{"timestamps":[],"values":[]}]}]}`}, outcome: outcome{noValues: true}},
		"invalid selector": {answer: answer{status: 400, file: "dynatrace/error-400.json"},
			outcome: outcome{wantError: "dynatrace answered HTTP 400: { \"error\": { \"code\": 400, \"message\": \"Constraints violated.\""}},
		"bad token": {answer: answer{status: 401, file: "dynatrace/error-401.json"},
			outcome: outcome{wantError: "Token Authentication failed"}},
		"not JSON": {answer: answer{status: 200, body: "ok"}, outcome: outcome{wantError: "dynatrace answered something other than the expected JSON"}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, addr := replay(t, map[string]answer{"GET /api/v2/metrics/query": tt.answer})
			got, err := dynatraceProvider(t, addr, "1m").RunQuery(t.Context(), "builtin:service.response.time", at)
			tt.check(t, got, err)
		})
	}
}

// TestDynatraceRequest checks the selector, one data point over ten metric
// intervals in milliseconds, and the token header.
func TestDynatraceRequest(t *testing.T) {
	api, addr := replay(t, map[string]answer{"GET /api/v2/metrics/query": {status: 200, file: "dynatrace/query.json"}})
	selector := "builtin:service.response.time:filter(eq(dt.entity.service,SERVICE-ABCDEFG0123456789)):percentile(95)"
	_, err := dynatraceProvider(t, addr, "30s").RunQuery(t.Context(), selector, at)
	require.NoError(t, err)

	req := api.last(t)
	assert.Equal(t, selector, req.query.Get("metricSelector"))
	assert.Equal(t, "Inf", req.query.Get("resolution"))
	assert.Equal(t, strconv.FormatInt(at.UnixMilli()-300_000, 10), req.query.Get("from"))
	assert.Equal(t, strconv.FormatInt(at.UnixMilli(), 10), req.query.Get("to"))
	assert.Equal(t, "Api-Token dt0c01.abc", req.header.Get("Authorization"))
}

func TestDynatraceIsOnline(t *testing.T) {
	tests := map[string]struct {
		answer    answer
		want      bool
		wantError string
	}{
		"token accepted": {answer: answer{status: 200, file: "dynatrace/metrics.json"}, want: true},
		"token refused":  {answer: answer{status: 401, file: "dynatrace/error-401.json"}, wantError: "listing dynatrace metrics: dynatrace answered HTTP 401"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			api, addr := replay(t, map[string]answer{"GET /api/v2/metrics": tt.answer})
			ok, err := dynatraceProvider(t, addr, "1m").IsOnline(t.Context())
			assert.Equal(t, tt.want, ok)
			if tt.wantError != "" {
				assert.ErrorContains(t, err, tt.wantError)
			} else {
				assert.NoError(t, err)
			}
			req := api.last(t)
			assert.Equal(t, "1", req.query.Get("pageSize"))
			assert.Equal(t, "Api-Token dt0c01.abc", req.header.Get("Authorization"))
		})
	}
}
