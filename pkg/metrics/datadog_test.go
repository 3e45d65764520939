package metrics

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func datadogProvider(t *testing.T, addr, interval string) Provider {
	t.Helper()
	return vendorProvider(t, ProviderConfig{Type: TypeDatadog, Address: addr, Interval: interval,
		Credentials: vendorSecrets[TypeDatadog]})
}

func TestDatadogRunQuery(t *testing.T) {
	tests := map[string]struct {
		answer answer
		outcome
	}{
		"oldest point of the series":    {answer: answer{status: 200, file: "datadog/query.json"}, outcome: outcome{want: 0.25}},
		"several series: the first":     {answer: answer{status: 200, file: "datadog/query-several.json"}, outcome: outcome{want: 12.5}},
		"no series":                     {answer: answer{status: 200, file: "datadog/query-empty.json"}, outcome: outcome{noValues: true}},
		"series without points":         {answer: answer{status: 200, file: "datadog/query-no-points.json"}, outcome: outcome{noValues: true}},
		"null oldest point is no value": {answer: answer{status: 200, file: "datadog/query-null.json"}, outcome: outcome{noValues: true}},
		"status error": {answer: answer{status: 200, file: "datadog/status-error.json"},
			outcome: outcome{wantError: "datadog query failed: Error parsing query: unable to parse"}},
		"bad query": {answer: answer{status: 400, file: "datadog/error-400.json"},
			outcome: outcome{wantError: `datadog answered HTTP 400: {"errors": ["Error parsing query:`}},
		"bad keys": {answer: answer{status: 403, file: "datadog/error-403.json"},
			outcome: outcome{wantError: `datadog answered HTTP 403: {"errors": ["Forbidden"]}`}},
		"rate limited": {answer: answer{status: 429, file: "datadog/error-429.json"},
			outcome: outcome{wantError: "HTTP 429: {\"errors\": [\"Rate limit of 1600 requests"}},
		"proxy error": {answer: answer{status: 502, body: "<html>502 Bad Gateway</html>"},
			outcome: outcome{wantError: "datadog answered HTTP 502: <html>502 Bad Gateway</html>"}},
		"not JSON": {answer: answer{status: 200, body: "<html>login</html>"},
			outcome: outcome{wantError: "datadog answered something other than the expected JSON"}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, addr := replay(t, map[string]answer{"GET /api/v1/query": tt.answer})
			got, err := datadogProvider(t, addr, "1m").RunQuery(t.Context(), "avg:x{*}", at)
			tt.check(t, got, err)
		})
	}
}

// TestDatadogRequest checks the query, the window of ten metric intervals
// ending at the evaluation time, and the keys' headers.
func TestDatadogRequest(t *testing.T) {
	tests := map[string]struct {
		interval string
		span     int64
	}{
		"1m":             {interval: "1m", span: 600},
		"30s":            {interval: "30s", span: 300},
		"unset means 1m": {interval: "", span: 600},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			api, addr := replay(t, map[string]answer{"GET /api/v1/query": {status: 200, file: "datadog/query.json"}})
			_, err := datadogProvider(t, addr, tt.interval).RunQuery(t.Context(), "sum:hits{service:podinfo}.as_count()", at)
			require.NoError(t, err)

			req := api.last(t)
			assert.Equal(t, "sum:hits{service:podinfo}.as_count()", req.query.Get("query"))
			assert.Equal(t, strconv.FormatInt(at.Unix()-tt.span, 10), req.query.Get("from"))
			assert.Equal(t, strconv.FormatInt(at.Unix(), 10), req.query.Get("to"))
			assert.Equal(t, "dd-api", req.header.Get("DD-API-KEY"))
			assert.Equal(t, "dd-app", req.header.Get("DD-APPLICATION-KEY"))
		})
	}
}

func TestDatadogZeroTimeIsNow(t *testing.T) {
	api, addr := replay(t, map[string]answer{"GET /api/v1/query": {status: 200, file: "datadog/query.json"}})
	before := time.Now().Unix()
	_, err := datadogProvider(t, addr, "1m").RunQuery(t.Context(), "x", time.Time{})
	require.NoError(t, err)

	req := api.last(t)
	from, _ := strconv.ParseInt(req.query.Get("from"), 10, 64)
	to, _ := strconv.ParseInt(req.query.Get("to"), 10, 64)
	assert.Equal(t, int64(600), to-from)
	assert.GreaterOrEqual(t, to, before)
}

func TestDatadogIsOnline(t *testing.T) {
	tests := map[string]struct {
		answer    answer
		want      bool
		wantError string
	}{
		"valid keys":   {answer: answer{status: 200, file: "datadog/validate.json"}, want: true},
		"invalid keys": {answer: answer{status: 403, file: "datadog/error-403.json"}, wantError: `HTTP 403: {"errors": ["Forbidden"]}`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			api, addr := replay(t, map[string]answer{"GET /api/v1/validate": tt.answer})
			ok, err := datadogProvider(t, addr, "1m").IsOnline(t.Context())
			assert.Equal(t, tt.want, ok)
			if tt.wantError != "" {
				assert.ErrorContains(t, err, tt.wantError)
			} else {
				assert.NoError(t, err)
			}
			req := api.last(t)
			assert.Equal(t, "dd-api", req.header.Get("DD-API-KEY"))
			assert.Equal(t, "dd-app", req.header.Get("DD-APPLICATION-KEY"))
		})
	}
}
