package metrics

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const newRelicQueryPath = "GET /v1/accounts/1234567/query"

func newRelicProvider(t *testing.T, addr, interval string) Provider {
	t.Helper()
	return vendorProvider(t, ProviderConfig{Type: TypeNewRelic, Address: addr, Interval: interval,
		Credentials: vendorSecrets[TypeNewRelic]})
}

func TestNewRelicRunQuery(t *testing.T) {
	tests := map[string]struct {
		answer answer
		outcome
	}{
		"expression result":          {answer: answer{status: 200, file: "newrelic/query.json"}, outcome: outcome{want: 1.25}},
		"result keyed by function":   {answer: answer{status: 200, file: "newrelic/query-average.json"}, outcome: outcome{want: 0.231}},
		"null result is no value":    {answer: answer{status: 200, file: "newrelic/query-null.json"}, outcome: outcome{noValues: true}},
		"facets are no value":        {answer: answer{status: 200, file: "newrelic/query-facets.json"}, outcome: outcome{noValues: true}},
		"several results":            {answer: answer{status: 200, file: "newrelic/query-two-functions.json"}, outcome: outcome{noValues: true}},
		"no results":                 {answer: answer{status: 200, body: `{"results":[]}`}, outcome: outcome{noValues: true}},
		"result that is not numeric": {answer: answer{status: 200, body: `{"results":[{"latest":"v2"}]}`}, outcome: outcome{noValues: true}},
		"syntax error": {answer: answer{status: 400, file: "newrelic/error-400.json"},
			outcome: outcome{wantError: `newrelic answered HTTP 400: {"error": "NRQL Syntax Error: Error at line 1 position 8, unexpected 'FORM'"}`}},
		"bad query key": {answer: answer{status: 401, file: "newrelic/error-401.json"},
			outcome: outcome{wantError: `newrelic answered HTTP 401: {"error": "Invalid query key"}`}},
		"server error": {answer: answer{status: 503, body: "Service Unavailable"},
			outcome: outcome{wantError: "newrelic answered HTTP 503: Service Unavailable"}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, addr := replay(t, map[string]answer{newRelicQueryPath: tt.answer})
			got, err := newRelicProvider(t, addr, "1m").RunQuery(t.Context(), "SELECT average(duration) FROM Transaction", at)
			tt.check(t, got, err)
		})
	}
}

// TestNewRelicWindow checks the window appended to the NRQL query: Flagger's
// relative one at the zero time, the same window in epoch milliseconds at
// a given time.
func TestNewRelicWindow(t *testing.T) {
	query := "SELECT filter(sum(requests), WHERE status >= '500') / sum(requests) * 100 FROM Metric"
	tests := map[string]struct {
		at       time.Time
		interval string
		want     string
	}{
		"zero time, as Flagger": {interval: "1m", want: query + " SINCE 60 seconds ago"},
		"zero time, 5m":         {interval: "5m", want: query + " SINCE 300 seconds ago"},
		"evaluation time": {at: at, interval: "2m",
			want: fmt.Sprintf("%s SINCE %d UNTIL %d", query, at.Add(-2*time.Minute).UnixMilli(), at.UnixMilli())},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			api, addr := replay(t, map[string]answer{newRelicQueryPath: {status: 200, file: "newrelic/query.json"}})
			_, err := newRelicProvider(t, addr, tt.interval).RunQuery(t.Context(), query, tt.at)
			require.NoError(t, err)

			req := api.last(t)
			assert.Equal(t, tt.want, req.query.Get("nrql"))
			assert.Equal(t, "nr-query", req.header.Get("X-Query-Key"))
		})
	}
}

func TestNewRelicIsOnline(t *testing.T) {
	tests := map[string]struct {
		answer    answer
		want      bool
		wantError string
	}{
		"query key accepted": {answer: answer{status: 200, file: "newrelic/query.json"}, want: true},
		"query key refused":  {answer: answer{status: 401, file: "newrelic/error-401.json"}, wantError: "Invalid query key"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			api, addr := replay(t, map[string]answer{newRelicQueryPath: tt.answer})
			ok, err := newRelicProvider(t, addr, "1m").IsOnline(t.Context())
			assert.Equal(t, tt.want, ok)
			if tt.wantError != "" {
				assert.ErrorContains(t, err, tt.wantError)
			} else {
				assert.NoError(t, err)
			}
			req := api.last(t)
			assert.Equal(t, "SELECT * FROM Metric SINCE 60 seconds ago", req.query.Get("nrql"))
			assert.Equal(t, "nr-query", req.header.Get("X-Query-Key"))
		})
	}
}
