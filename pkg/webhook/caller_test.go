package webhook

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// hookServer answers the i-th request (from 0) with responses[i], repeating
// the last one, and records the requests.
type hookServer struct {
	responses []response
	hits      atomic.Int32

	mu     sync.Mutex
	bodies []string
	reqs   []*http.Request
}

type response struct {
	status int
	body   string
	header http.Header
	delay  time.Duration
}

func (s *hookServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i := int(s.hits.Add(1)) - 1
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.bodies = append(s.bodies, string(b))
	s.reqs = append(s.reqs, r.Clone(context.Background()))
	s.mu.Unlock()

	resp := s.responses[min(i, len(s.responses)-1)]
	if resp.delay > 0 {
		select {
		case <-time.After(resp.delay):
		case <-r.Context().Done():
			return
		}
	}
	for k, vs := range resp.header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.status)
	_, _ = io.WriteString(w, resp.body)
}

func startHook(t *testing.T, responses ...response) (*hookServer, string) {
	t.Helper()
	s := &hookServer{responses: responses}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv.URL + "/hook"
}

// fastCaller retries after a millisecond instead of a second.
func fastCaller() *Caller {
	return NewCaller(Config{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
}

var testPayload = Payload{Name: "podinfo", Namespace: "test", Phase: flaggerv1.CanaryPhaseProgressing,
	Checksum: "abc123", Metadata: map[string]string{"cmd": "hey"}}

func TestCallStatusCodes(t *testing.T) {
	tests := []struct {
		status    int
		body      string
		wantError string // empty: success
	}{
		{200, "ok", ""},
		{201, "", ""},
		{202, "accepted", ""},
		{204, "", "204 No Content"},
		{206, "partial", "partial"},
		{302, "", "302 Found"}, // a redirect without Location is not followed
		{400, "bad request: missing name", "bad request: missing name"},
		{403, "Forbidden\n", "Forbidden"},
		{404, "not found", "not found"},
		{500, "command hey failed: exit status 1", "command hey failed: exit status 1"},
		{503, "", "503 Service Unavailable"},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			s, url := startHook(t, response{status: tt.status, body: tt.body})
			err := fastCaller().Call(t.Context(), flaggerv1.CanaryWebhook{Name: "h", URL: url}, testPayload)
			assert.EqualValues(t, 1, s.hits.Load())
			if tt.wantError == "" {
				assert.NoError(t, err)
				return
			}
			var se *StatusError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tt.status, se.StatusCode)
			assert.EqualError(t, err, tt.wantError)
		})
	}
}

func TestCallSendsFlaggerPayload(t *testing.T) {
	s, url := startHook(t, response{status: 200})
	require.NoError(t, fastCaller().Call(t.Context(), flaggerv1.CanaryWebhook{Name: "h", URL: url}, testPayload))

	req := s.reqs[0]
	assert.Equal(t, http.MethodPost, req.Method)
	assert.Equal(t, "/hook", req.URL.Path)
	assert.Equal(t, "application/json", req.Header.Get("Content-Type"))
	assert.Equal(t, `{"name":"podinfo","namespace":"test","phase":"Progressing","checksum":"abc123","metadata":{"cmd":"hey"}}`,
		s.bodies[0])
}

func TestCallRetries(t *testing.T) {
	tests := []struct {
		name      string
		responses []response
		retries   int
		wantHits  int32
		wantError string
	}{
		{"5xx then success", []response{{status: 500}, {status: 502}, {status: 200}}, 3, 3, ""},
		{"429 then success", []response{{status: 429}, {status: 200}}, 1, 2, ""},
		{"exhausted", []response{{status: 500, body: "still broken"}}, 2, 3,
			"giving up after 3 attempt(s): still broken"},
		{"no retries asked", []response{{status: 500, body: "broken"}}, 0, 1, "broken"},
		{"4xx is final", []response{{status: 403, body: "gate closed"}}, 3, 1, "gate closed"},
		{"501 is final", []response{{status: 501, body: "not implemented"}}, 3, 1, "not implemented"},
		{"a final status after retries", []response{{status: 503}, {status: 400, body: "no"}}, 3, 2, "no"},
		{"timeouts are retried", []response{{status: 200, delay: time.Minute}, {status: 200}}, 1, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, url := startHook(t, tt.responses...)
			hook := flaggerv1.CanaryWebhook{Name: "h", URL: url, Retries: tt.retries, Timeout: "100ms"}
			err := fastCaller().Call(t.Context(), hook, testPayload)
			assert.Equal(t, tt.wantHits, s.hits.Load())
			if tt.wantError == "" {
				assert.NoError(t, err)
			} else {
				assert.ErrorContains(t, err, tt.wantError)
			}
		})
	}
}

func TestCallRetriesExhaustedError(t *testing.T) {
	_, url := startHook(t, response{status: 500, body: "down"})
	err := fastCaller().Call(t.Context(), flaggerv1.CanaryWebhook{Name: "h", URL: url, Retries: 1}, testPayload)

	var re *RetriesExhaustedError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, 2, re.Attempts)
	assert.EqualError(t, err, "POST "+url+" giving up after 2 attempt(s): down")
	var se *StatusError
	require.ErrorAs(t, err, &se, "the last response is still reachable")
	assert.Equal(t, 500, se.StatusCode)
}

func TestCallConnectionErrors(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()

	err := fastCaller().Call(t.Context(), flaggerv1.CanaryWebhook{Name: "h", URL: url, Retries: 2}, testPayload)
	assert.ErrorContains(t, err, "giving up after 3 attempt(s)")
	assert.ErrorContains(t, err, "connection refused")
}

func TestCallTimeout(t *testing.T) {
	s, url := startHook(t, response{status: 200, delay: time.Minute})
	start := time.Now()
	err := fastCaller().Call(t.Context(), flaggerv1.CanaryWebhook{Name: "h", URL: url, Timeout: "50ms"}, testPayload)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.EqualValues(t, 1, s.hits.Load())
}

func TestHookTimeout(t *testing.T) {
	tests := []struct {
		in        string
		want      time.Duration
		wantError bool
	}{
		{"", DefaultTimeout, false},
		{"5", DefaultTimeout, false}, // shorter than 2 characters, as in Flagger
		{"1m", time.Minute, false},
		{"30s", 30 * time.Second, false},
		{"0s", DefaultTimeout, false},
		{"soon", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := hookTimeout(tt.in)
			if tt.wantError {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestCallCancellation(t *testing.T) {
	t.Run("during a request", func(t *testing.T) {
		_, url := startHook(t, response{status: 200, delay: time.Minute})
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(20*time.Millisecond, cancel)
		err := fastCaller().Call(ctx, flaggerv1.CanaryWebhook{Name: "h", URL: url, Retries: 5}, testPayload)
		require.ErrorIs(t, err, context.Canceled)
	})
	t.Run("during the backoff", func(t *testing.T) {
		s, url := startHook(t, response{status: 503})
		slow := NewCaller(Config{MinBackoff: time.Hour, MaxBackoff: time.Hour})
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(50*time.Millisecond, cancel)
		start := time.Now()
		err := slow.Call(ctx, flaggerv1.CanaryWebhook{Name: "h", URL: url, Retries: 5}, testPayload)
		require.ErrorIs(t, err, context.Canceled)
		assert.Less(t, time.Since(start), 5*time.Second)
		assert.EqualValues(t, 1, s.hits.Load())
	})
}

func TestCallDisableTLS(t *testing.T) {
	s := &hookServer{responses: []response{{status: 200}}}
	srv := httptest.NewUnstartedServer(s)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	t.Cleanup(srv.Close)

	hook := flaggerv1.CanaryWebhook{Name: "h", URL: srv.URL, Retries: 3}
	err := fastCaller().Call(t.Context(), hook, testPayload)
	require.ErrorContains(t, err, "certificate")
	assert.NotContains(t, err.Error(), "giving up", "a certificate error is not retried")

	hook.DisableTLS = true
	require.NoError(t, fastCaller().Call(t.Context(), hook, testPayload))
	assert.EqualValues(t, 1, s.hits.Load())

	t.Run("the injected transport is kept for verified calls", func(t *testing.T) {
		trusting := NewCaller(Config{Transport: srv.Client().Transport.(*http.Transport)})
		require.NoError(t, trusting.Call(t.Context(), flaggerv1.CanaryWebhook{Name: "h", URL: srv.URL}, testPayload))
	})
}

func TestCallInvalidHook(t *testing.T) {
	tests := map[string]flaggerv1.CanaryWebhook{
		"no scheme":   {Name: "h", URL: "flagger-loadtester.test/"},
		"bad scheme":  {Name: "h", URL: "ftp://x/"},
		"bad timeout": {Name: "h", URL: "http://x/", Timeout: "ten seconds"},
	}
	for name, hook := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Error(t, fastCaller().Call(t.Context(), hook, testPayload))
		})
	}
}

func TestBackoffDelay(t *testing.T) {
	b := backoff{min: time.Second, max: 30 * time.Second}
	tests := []struct {
		retry      int
		retryAfter time.Duration
		want       time.Duration
	}{
		{0, 0, time.Second},
		{1, 0, 2 * time.Second},
		{2, 0, 4 * time.Second},
		{4, 0, 16 * time.Second},
		{5, 0, 30 * time.Second},
		{60, 0, 30 * time.Second}, // no overflow
		{0, 7 * time.Second, 7 * time.Second},
		{0, time.Hour, 30 * time.Second},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, b.delay(tt.retry, tt.retryAfter), "retry %d, Retry-After %v", tt.retry, tt.retryAfter)
	}
}

func TestRetryAfter(t *testing.T) {
	resp := func(code int, value string) *http.Response {
		return &http.Response{StatusCode: code, Header: http.Header{"Retry-After": {value}}}
	}
	assert.Equal(t, 3*time.Second, retryAfter(resp(429, "3")))
	assert.Equal(t, 3*time.Second, retryAfter(resp(503, "3")))
	assert.Zero(t, retryAfter(resp(500, "3")), "only 429 and 503 carry it")
	assert.Zero(t, retryAfter(resp(429, "Wed, 21 Oct 2015 07:28:00 GMT")), "dates are ignored")
	assert.Zero(t, retryAfter(resp(429, "")))
}

func TestRetryableStatus(t *testing.T) {
	for code, want := range map[int]bool{
		200: false, 302: false, 400: false, 403: false, 404: false, 409: false,
		429: true, 500: true, 501: false, 502: true, 503: true, 504: true, 599: true,
	} {
		assert.Equal(t, want, retryableStatus(code), "status %d", code)
	}
}

func TestRetryableError(t *testing.T) {
	assert.True(t, retryableError(errors.New("connection reset by peer")))
	assert.True(t, retryableError(context.DeadlineExceeded))
	assert.False(t, retryableError(&neturl.Error{Op: "Post", URL: "https://x/", Err: x509.UnknownAuthorityError{}}))
	assert.False(t, retryableError(&tls.CertificateVerificationError{Err: x509.HostnameError{}}))
}
