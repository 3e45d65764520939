package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakePrometheus imitates /api/v1/query: it answers every query with one
// canned response and records what it received.
type fakePrometheus struct {
	status int
	body   string
	delay  time.Duration

	mu       sync.Mutex
	queries  []string
	requests []*http.Request
}

func (f *fakePrometheus) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api/v1/query" {
		http.NotFound(w, r)
		return
	}
	_ = r.ParseForm()
	f.mu.Lock()
	f.queries = append(f.queries, r.Form.Get("query"))
	f.requests = append(f.requests, r.Clone(context.Background()))
	f.mu.Unlock()
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-r.Context().Done():
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(f.status)
	_, _ = fmt.Fprint(w, f.body)
}

func (f *fakePrometheus) lastRequest(t *testing.T) *http.Request {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	require.NotEmpty(t, f.requests)
	return f.requests[len(f.requests)-1]
}

func serve(t *testing.T, f *fakePrometheus) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return srv
}

func success(resultType, result string) string {
	return `{"status":"success","data":{"resultType":"` + resultType + `","result":` + result + `}}`
}

func newTestProvider(t *testing.T, cfg ProviderConfig) Provider {
	t.Helper()
	cfg.Type = TypePrometheus
	p, err := NewProvider(cfg)
	require.NoError(t, err)
	return p
}

func TestPrometheusRunQuery(t *testing.T) {
	tests := map[string]struct {
		status    int
		body      string
		want      float64
		noValues  bool
		wantError string
	}{
		"vector": {status: 200, want: 99.5,
			body: success("vector", `[{"metric":{"pod":"a"},"value":[1700000000,"99.5"]}]`)},
		"several series are ambiguous": {status: 200, wantError: "query returned 2 series",
			body: success("vector", `[{"metric":{"pod":"a"},"value":[1700000000,"1"]},{"metric":{"pod":"b"},"value":[1700000000,"2"]}]`)},
		"scalar":          {status: 200, want: 42, body: success("scalar", `[1700000000,"42"]`)},
		"empty vector":    {status: 200, noValues: true, body: success("vector", `[]`)},
		"NaN vector":      {status: 200, noValues: true, body: success("vector", `[{"metric":{},"value":[1700000000,"NaN"]}]`)},
		"NaN scalar":      {status: 200, noValues: true, body: success("scalar", `[1700000000,"NaN"]`)},
		"+Inf is a value": {status: 200, want: math.Inf(1), body: success("scalar", `[1700000000,"+Inf"]`)},
		"matrix": {status: 200, wantError: "matrix",
			body: success("matrix", `[{"metric":{},"values":[[1700000000,"1"],[1700000060,"2"]]}]`)},
		"string": {status: 200, wantError: `"string"`, body: success("string", `[1700000000,"x"]`)},
		"HTTP 500 keeps the body": {status: 500, body: "upstream connect error",
			wantError: "server_error: server error: 500: upstream connect error"},
		"bad query": {status: 400, body: `{"status":"error","errorType":"bad_data","error":"parse error at char 5"}`,
			wantError: "bad_data: parse error at char 5"},
		"execution error": {status: 422, body: `{"status":"error","errorType":"execution","error":"query timed out"}`,
			wantError: "execution: query timed out"},
		"error with 200": {status: 200, body: `{"status":"error","errorType":"internal","error":"boom"}`,
			wantError: "internal: boom"},
		"not JSON": {status: 200, body: "<html>", wantError: "bad_response"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			srv := serve(t, &fakePrometheus{status: tt.status, body: tt.body})
			p := newTestProvider(t, ProviderConfig{Address: srv.URL})

			got, err := p.RunQuery(t.Context(), "up", time.Time{})
			switch {
			case tt.noValues:
				require.ErrorIs(t, err, ErrNoValues)
			case tt.wantError != "":
				require.Error(t, err)
				assert.NotErrorIs(t, err, ErrNoValues)
				assert.Contains(t, err.Error(), tt.wantError)
			default:
				require.NoError(t, err)
				assert.Equal(t, tt.want, got)
			}
		})
	}
}

func TestPrometheusSendsCompactQuery(t *testing.T) {
	f := &fakePrometheus{status: 200, body: success("scalar", `[1,"1"]`)}
	p := newTestProvider(t, ProviderConfig{Address: serve(t, f).URL})

	_, err := p.RunQuery(t.Context(), "\n  sum(\n\trate(x[1m])\n  )\n", time.Time{})
	require.NoError(t, err)
	assert.Equal(t, []string{"sum( rate(x[1m]) )"}, f.queries)
}

func TestPrometheusSendsEvaluationTime(t *testing.T) {
	tests := map[string]struct {
		at   time.Time
		want string
	}{
		"zero time is the server's now": {want: ""},
		"a recorded time is sent":       {at: time.Unix(1700000000, 500e6), want: "1700000000.5"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			f := &fakePrometheus{status: 200, body: success("scalar", `[1,"1"]`)}
			p := newTestProvider(t, ProviderConfig{Address: serve(t, f).URL})

			_, err := p.RunQuery(t.Context(), "x", tt.at)
			require.NoError(t, err)
			require.Len(t, f.requests, 1)
			require.NoError(t, f.requests[0].ParseForm())
			assert.Equal(t, tt.want, f.requests[0].Form.Get("time"))
		})
	}
}

func TestPrometheusAddressUnderPath(t *testing.T) {
	f := &fakePrometheus{status: 200, body: success("scalar", `[1,"7"]`)}
	mux := http.NewServeMux()
	mux.Handle("/prometheus/", http.StripPrefix("/prometheus", f))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	got, err := newTestProvider(t, ProviderConfig{Address: srv.URL + "/prometheus"}).RunQuery(t.Context(), "x", time.Time{})
	require.NoError(t, err)
	assert.Equal(t, 7.0, got)
}

func TestPrometheusAuthAndHeaders(t *testing.T) {
	tests := map[string]struct {
		cfg      ProviderConfig
		wantAuth string
		wantUser string
		wantPass string
	}{
		"no secret": {cfg: ProviderConfig{}},
		"bearer token": {
			cfg:      ProviderConfig{Credentials: map[string][]byte{"token": []byte("s3cr3t")}},
			wantAuth: "Bearer s3cr3t",
		},
		"token wins over basic auth": {
			cfg: ProviderConfig{Credentials: map[string][]byte{
				"token": []byte("t"), "username": []byte("u"), "password": []byte("p")}},
			wantAuth: "Bearer t",
		},
		"basic auth": {
			cfg:      ProviderConfig{Credentials: map[string][]byte{"username": []byte("admin"), "password": []byte("pa:ss")}},
			wantUser: "admin", wantPass: "pa:ss",
		},
		"auth overrides an Authorization header": {
			cfg: ProviderConfig{
				Headers:     http.Header{"Authorization": {"Bearer from-header"}},
				Credentials: map[string][]byte{"token": []byte("from-secret")},
			},
			wantAuth: "Bearer from-secret",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			f := &fakePrometheus{status: 200, body: success("scalar", `[1,"1"]`)}
			tt.cfg.Address = serve(t, f).URL
			_, err := newTestProvider(t, tt.cfg).RunQuery(t.Context(), "x", time.Time{})
			require.NoError(t, err)

			req := f.lastRequest(t)
			if tt.wantUser != "" {
				user, pass, ok := req.BasicAuth()
				require.True(t, ok)
				assert.Equal(t, tt.wantUser, user)
				assert.Equal(t, tt.wantPass, pass)
				return
			}
			assert.Equal(t, tt.wantAuth, req.Header.Get("Authorization"))
		})
	}
}

func TestPrometheusHeaders(t *testing.T) {
	f := &fakePrometheus{status: 200, body: success("scalar", `[1,"1"]`)}
	p := newTestProvider(t, ProviderConfig{
		Address: serve(t, f).URL,
		Headers: http.Header{"X-Scope-Orgid": {"tenant-a"}, "X-Multi": {"1", "2"}},
	})
	_, err := p.RunQuery(t.Context(), "x", time.Time{})
	require.NoError(t, err)

	req := f.lastRequest(t)
	assert.Equal(t, "tenant-a", req.Header.Get("X-Scope-OrgID"))
	assert.Equal(t, []string{"1", "2"}, req.Header.Values("X-Multi"))
}

func TestPrometheusTimeout(t *testing.T) {
	f := &fakePrometheus{status: 200, body: success("scalar", `[1,"1"]`), delay: 5 * time.Second}
	p := newTestProvider(t, ProviderConfig{Address: serve(t, f).URL, Timeout: 50 * time.Millisecond})

	start := time.Now()
	_, err := p.RunQuery(t.Context(), "x", time.Time{})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 2*time.Second)
}

func TestPrometheusCallerCancellation(t *testing.T) {
	f := &fakePrometheus{status: 200, body: success("scalar", `[1,"1"]`), delay: 5 * time.Second}
	p := newTestProvider(t, ProviderConfig{Address: serve(t, f).URL})

	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(20*time.Millisecond, cancel)
	_, err := p.RunQuery(ctx, "x", time.Time{})
	require.ErrorIs(t, err, context.Canceled)
}

func TestPrometheusInsecureSkipVerify(t *testing.T) {
	srv := httptest.NewUnstartedServer(&fakePrometheus{status: 200, body: success("scalar", `[1,"1"]`)})
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	t.Cleanup(srv.Close)

	_, err := newTestProvider(t, ProviderConfig{Address: srv.URL}).RunQuery(t.Context(), "x", time.Time{})
	require.ErrorContains(t, err, "certificate")

	got, err := newTestProvider(t, ProviderConfig{Address: srv.URL, InsecureSkipVerify: true}).RunQuery(t.Context(), "x", time.Time{})
	require.NoError(t, err)
	assert.Equal(t, 1.0, got)
}

func TestPrometheusIsOnline(t *testing.T) {
	tests := map[string]struct {
		body      string
		status    int
		want      bool
		wantError string
	}{
		"vector(1) is 1": {status: 200, body: success("vector", `[{"metric":{},"value":[1,"1"]}]`), want: true},
		"other value":    {status: 200, body: success("vector", `[{"metric":{},"value":[1,"0"]}]`), wantError: "value is not 1 for query: vector(1)"},
		"server error":   {status: 503, body: "down", wantError: "running query failed"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			f := &fakePrometheus{status: tt.status, body: tt.body}
			ok, err := newTestProvider(t, ProviderConfig{Address: serve(t, f).URL}).IsOnline(t.Context())
			assert.Equal(t, tt.want, ok)
			if tt.wantError != "" {
				assert.ErrorContains(t, err, tt.wantError)
			} else {
				assert.NoError(t, err)
			}
			assert.Equal(t, []string{"vector(1)"}, f.queries)
		})
	}
}

func TestPrometheusUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close()

	ok, err := newTestProvider(t, ProviderConfig{Address: addr}).IsOnline(t.Context())
	assert.False(t, ok)
	assert.ErrorContains(t, err, "connection refused")
}

func TestNewProviderErrors(t *testing.T) {
	tests := map[string]struct {
		cfg         ProviderConfig
		want        string
		unsupported bool
	}{
		"unknown type":          {cfg: ProviderConfig{Type: "graphana", Address: "http://x"}, want: `unknown type "graphana"`, unsupported: true},
		"empty type":            {cfg: ProviderConfig{Address: "http://x"}, want: `unknown type ""`, unsupported: true},
		"no address":            {cfg: ProviderConfig{Type: TypePrometheus}, want: "is not a valid http(s) URL"},
		"address has no scheme": {cfg: ProviderConfig{Type: TypePrometheus, Address: "prometheus:9090"}, want: "is not a valid http(s) URL"},
		"username without password": {
			cfg:  ProviderConfig{Type: TypePrometheus, Address: "http://x", Credentials: map[string][]byte{"username": []byte("u")}},
			want: "do not contain a password",
		},
		"secret without keys": {
			cfg:  ProviderConfig{Type: TypePrometheus, Address: "http://x", Credentials: map[string][]byte{}},
			want: "do not contain a token or a username",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			p, err := NewProvider(tt.cfg)
			assert.Nil(t, p)
			require.ErrorContains(t, err, tt.want)
			assert.Equal(t, tt.unsupported, errors.Is(err, ErrUnsupportedProvider))
		})
	}
}

func TestPrometheusLongErrorBodyIsCut(t *testing.T) {
	f := &fakePrometheus{status: 502, body: "<html>" + strings.Repeat("é", 2000) + "</html>"}
	_, err := newTestProvider(t, ProviderConfig{Address: serve(t, f).URL}).RunQuery(t.Context(), "x", time.Time{})
	require.ErrorContains(t, err, "server error: 502: <html>")
	assert.Less(t, len(err.Error()), 600)
	assert.True(t, utf8.ValidString(err.Error()))
}
