package metrics

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const splunkExecutePath = "POST /v2/signalflow/execute"

func splunkProvider(t *testing.T, addr, interval string) Provider {
	t.Helper()
	return vendorProvider(t, ProviderConfig{Type: TypeSplunk, Address: addr, Interval: interval,
		Credentials: vendorSecrets[TypeSplunk]})
}

func TestSplunkRunQuery(t *testing.T) {
	tests := map[string]struct {
		answer answer
		outcome
	}{
		"newest non-null value":  {answer: answer{status: 200, file: "splunk/execute.sse"}, outcome: outcome{want: 3}},
		"only nulls is no value": {answer: answer{status: 200, file: "splunk/execute-nulls.sse"}, outcome: outcome{noValues: true}},
		"no data is no value":    {answer: answer{status: 200, file: "splunk/execute-empty.sse"}, outcome: outcome{noValues: true}},
		"several series": {answer: answer{status: 200, file: "splunk/execute-several.sse"},
			outcome: outcome{wantError: "published several series (AAAAAEu9EMI, AAAAAHJ4pQw, ...)"}},
		"program error": {answer: answer{status: 200, file: "splunk/execute-error.sse"},
			outcome: outcome{wantError: `splunk computation failed: { "errors" : [ { "code" : "ANALYTICS_PROGRAM_NAME_ERROR"`}},
		"aborted computation": {answer: answer{status: 200, file: "splunk/execute-abort.sse"},
			outcome: outcome{wantError: `splunk computation aborted: { "sf_job_abortReason" : "Job exceeded the maximum number of input time series"`}},
		"stream that ends without END_OF_CHANNEL": {
			answer:  answer{status: 200, body: "event: data\r\ndata: {\"data\":[{\"tsId\":\"AAAAAEu9EMI\",\"value\":4.5}],\"logicalTimestampMs\":1700000000000}\r\n"},
			outcome: outcome{want: 4.5}},
		"bad request": {answer: answer{status: 400, file: "splunk/error-400.json"},
			outcome: outcome{wantError: `splunk answered HTTP 400: {"code": 400, "message": "Invalid start time`}},
		"bad token": {answer: answer{status: 401, file: "splunk/error-401.json"},
			outcome: outcome{wantError: "You must use your user session"}},
		"data that is not JSON": {answer: answer{status: 200, body: "event: data\ndata: {oops\n\n"},
			outcome: outcome{wantError: "splunk answered something other than the expected JSON"}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, addr := replay(t, map[string]answer{splunkExecutePath: tt.answer})
			got, err := splunkProvider(t, addr, "1m").RunQuery(t.Context(), "data('spans.count').sum().publish()", at)
			tt.check(t, got, err)
		})
	}
}

// TestSplunkRequest checks the program, its window of ten metric intervals
// in milliseconds, immediate, and the token header.
func TestSplunkRequest(t *testing.T) {
	api, addr := replay(t, map[string]answer{splunkExecutePath: {status: 200, file: "splunk/execute.sse"}})
	program := "A = data('spans.count', filter=filter('sf_service', 'podinfo')).sum()\nA.publish()"
	_, err := splunkProvider(t, addr, "1m").RunQuery(t.Context(), program, at)
	require.NoError(t, err)

	req := api.last(t)
	assert.Equal(t, program, req.body)
	assert.Equal(t, strconv.FormatInt(at.UnixMilli()-600_000, 10), req.query.Get("start"))
	assert.Equal(t, strconv.FormatInt(at.UnixMilli(), 10), req.query.Get("stop"))
	assert.Equal(t, "true", req.query.Get("immediate"))
	assert.Equal(t, "text/plain", req.header.Get("Content-Type"))
	assert.Equal(t, "sf-token", req.header.Get("X-SF-Token"))
}

// TestSplunkHosts checks that a realm's API or stream URL (the latter as
// Flagger's WebSocket client takes it) gives both hosts.
func TestSplunkHosts(t *testing.T) {
	tests := map[string]struct {
		address, api, stream string
	}{
		"API URL":               {"https://api.us1.signalfx.com", "https://api.us1.signalfx.com", "stream.us1.signalfx.com"},
		"WebSocket stream URL":  {"wss://stream.us1.signalfx.com", "https://api.us1.signalfx.com", "stream.us1.signalfx.com"},
		"observability cloud":   {"https://api.eu0.observability.splunkcloud.com", "https://api.eu0.observability.splunkcloud.com", "stream.eu0.observability.splunkcloud.com"},
		"a proxy serves both":   {"http://signalfx-proxy:8080/sfx", "http://signalfx-proxy:8080/sfx", ""},
		"api elsewhere is kept": {"https://metrics.example/api", "https://metrics.example/api", ""},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			api, stream := splunkHosts(tt.address)
			assert.Equal(t, tt.api, api)
			assert.Equal(t, tt.stream, stream)
		})
	}

	p := splunkProvider(t, "https://api.us1.signalfx.com", "1m").(*splunk)
	assert.Equal(t, "stream.us1.signalfx.com", p.streamHost)
	assert.Equal(t, "api.us1.signalfx.com", p.api.base.Host)
}

func TestSplunkIsOnline(t *testing.T) {
	tests := map[string]struct {
		answer    answer
		want      bool
		wantError string
	}{
		"token accepted": {answer: answer{status: 200, file: "splunk/metric.json"}, want: true},
		"token refused":  {answer: answer{status: 401, file: "splunk/error-401.json"}, wantError: "splunk answered HTTP 401"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			api, addr := replay(t, map[string]answer{"GET /v2/metric": tt.answer})
			ok, err := splunkProvider(t, addr, "1m").IsOnline(t.Context())
			assert.Equal(t, tt.want, ok)
			if tt.wantError != "" {
				assert.ErrorContains(t, err, tt.wantError)
			} else {
				assert.NoError(t, err)
			}
			req := api.last(t)
			assert.Equal(t, "1", req.query.Get("limit"))
			assert.Equal(t, "sf-token", req.header.Get("X-SF-Token"))
		})
	}
}

// TestSplunkStalledStream checks that a computation whose stream never ends
// is cut by the query timeout.
func TestSplunkStalledStream(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "event: data\ndata: {\"data\":[{\"tsId\":\"AAAAAEu9EMI\",\"value\":1}]}\n\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	p := vendorProvider(t, ProviderConfig{Type: TypeSplunk, Address: srv.URL, Credentials: vendorSecrets[TypeSplunk],
		Timeout: 50 * time.Millisecond})

	_, err := p.RunQuery(t.Context(), "data('x').publish()", at)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NotErrorIs(t, err, ErrNoValues)
}
