package metrics

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeGraphite imitates graphite-web's /render: one canned answer to every
// request, and the requests it received.
type fakeGraphite struct {
	status      int
	contentType string
	body        string

	mu       sync.Mutex
	requests []*http.Request
}

func (f *fakeGraphite) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.Clone(r.Context()))
	f.mu.Unlock()
	if f.contentType == "" {
		f.contentType = "application/json"
	}
	w.Header().Set("Content-Type", f.contentType)
	w.WriteHeader(f.status)
	_, _ = fmt.Fprint(w, f.body)
}

func (f *fakeGraphite) last(t *testing.T) *http.Request {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	require.NotEmpty(t, f.requests)
	return f.requests[len(f.requests)-1]
}

func newTestGraphite(t *testing.T, f *fakeGraphite, cfg ProviderConfig) Provider {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	cfg.Type = TypeGraphite
	cfg.Address = srv.URL + cfg.Address
	p, err := NewProvider(cfg)
	require.NoError(t, err)
	return p
}

func TestGraphiteRunQuery(t *testing.T) {
	tests := map[string]struct {
		status      int
		contentType string
		body        string
		want        float64
		noValues    bool
		wantError   string
	}{
		// The answers are shaped as graphite-web's render API documents
		// format=json: a list of {target, datapoints: [[value, timestamp]]}.
		"last datapoint": {status: 200, want: 6,
			body: `[{"target": "entries", "datapoints": [[1.0, 1311836008], [2.0, 1311836009], [3.0, 1311836010], [5.0, 1311836011], [6.0, 1311836012]]}]`},
		"trailing nulls are skipped": {status: 200, want: 2.5,
			body: `[{"target": "x", "datapoints": [[1.5, 1700000000], [2.5, 1700000060], [null, 1700000120], [null, 1700000180]]}]`},
		"last series with a value wins, as in Flagger": {status: 200, want: 7,
			body: `[{"target": "a", "datapoints": [[1, 1]]}, {"target": "b", "datapoints": [[7, 1], [null, 2]]}, {"target": "c", "datapoints": [[null, 1]]}]`},
		"quoted values": {status: 200, want: 0.25,
			body: `[{"target": "x", "datapoints": [["0.25", "1700000000"]]}]`},
		"zero is a value": {status: 200, want: 0, body: `[{"target": "x", "datapoints": [[0, 1700000000]]}]`},
		"no series":       {status: 200, noValues: true, body: `[]`},
		"only nulls":      {status: 200, noValues: true, body: `[{"target": "x", "datapoints": [[null, 1700000000], [null, 1700000060]]}]`},
		"no datapoints":   {status: 200, noValues: true, body: `[{"target": "x", "datapoints": []}]`},
		"NaN is no data":  {status: 200, noValues: true, body: `[{"target": "x", "datapoints": [["NaN", 1700000000]]}]`},
		"bad datapoint":   {status: 200, wantError: "not a [value, timestamp] pair", body: `[{"target": "x", "datapoints": [[1]]}]`},
		"not a number":    {status: 200, wantError: "is not a number", body: `[{"target": "x", "datapoints": [[true, 1]]}]`},
		"not JSON":        {status: 200, contentType: "text/html", wantError: "not a JSON list of series: invalid", body: "<html>graphite</html>"},
		"bad target is a 400": {status: 400, contentType: "text/plain", wantError: "400 Bad Request: Invalid function: sumSerie",
			body: "Invalid function: sumSerie"},
		"server error keeps the body": {status: 500, contentType: "text/html", wantError: "500 Internal Server Error: <h1>Server Error</h1>",
			body: "<h1>Server Error</h1>"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			p := newTestGraphite(t, &fakeGraphite{status: tt.status, contentType: tt.contentType, body: tt.body}, ProviderConfig{})

			got, err := p.RunQuery(t.Context(), "target=x", time.Time{})
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

func TestGraphiteSendsRenderParameters(t *testing.T) {
	tests := map[string]struct {
		address string
		query   string
		path    string
		want    url.Values
	}{
		"whitespace collapsed, format forced to json": {
			query: "target=sumSeries(\n  app.*.errors,\n  app.*.timeouts)\n&from=-5min&format=pickle\n",
			path:  "/render",
			want: url.Values{"target": {"sumSeries( app.*.errors, app.*.timeouts)"},
				"from": {"-5min"}, "format": {"json"}},
		},
		"several targets": {
			query: "target=a.b&target=c.d&until=now",
			path:  "/render",
			want:  url.Values{"target": {"a.b", "c.d"}, "until": {"now"}, "format": {"json"}},
		},
		"address under a path": {
			address: "/graphite/", query: "target=x",
			path: "/graphite/render",
			want: url.Values{"target": {"x"}, "format": {"json"}},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			f := &fakeGraphite{status: 200, body: `[{"target": "x", "datapoints": [[1, 1]]}]`}
			p := newTestGraphite(t, f, ProviderConfig{Address: tt.address})

			_, err := p.RunQuery(t.Context(), tt.query, time.Time{})
			require.NoError(t, err)
			req := f.last(t)
			assert.Equal(t, http.MethodGet, req.Method)
			assert.Equal(t, tt.path, req.URL.Path)
			assert.Equal(t, tt.want, req.URL.Query())
		})
	}
}

func TestGraphiteQueryErrors(t *testing.T) {
	f := &fakeGraphite{status: 200, body: `[]`}
	p := newTestGraphite(t, f, ProviderConfig{})

	_, err := p.RunQuery(t.Context(), "target=%zz", time.Time{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not URL parameters")
	assert.Empty(t, f.requests)
}

func TestGraphiteAuthAndHeaders(t *testing.T) {
	tests := map[string]struct {
		credentials map[string][]byte
		wantUser    string
		wantPass    string
		wantError   string
	}{
		"no secret": {},
		"basic auth": {credentials: map[string][]byte{"username": []byte("admin"), "password": []byte("pa:ss")},
			wantUser: "admin", wantPass: "pa:ss"},
		"username missing": {credentials: map[string][]byte{"password": []byte("p")},
			wantError: "graphite credentials do not contain a username"},
		"password missing": {credentials: map[string][]byte{"username": []byte("u")},
			wantError: "graphite credentials do not contain a password"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			f := &fakeGraphite{status: 200, body: `[]`}
			srv := httptest.NewServer(f)
			t.Cleanup(srv.Close)
			p, err := NewProvider(ProviderConfig{Type: TypeGraphite, Address: srv.URL, Credentials: tt.credentials,
				Headers: http.Header{"X-Scope-Orgid": {"team-a"}}})
			if tt.wantError != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantError)
				return
			}
			require.NoError(t, err)

			_, err = p.RunQuery(t.Context(), "target=x", time.Time{})
			require.ErrorIs(t, err, ErrNoValues)
			req := f.last(t)
			user, pass, ok := req.BasicAuth()
			assert.Equal(t, tt.wantUser != "", ok)
			assert.Equal(t, tt.wantUser, user)
			assert.Equal(t, tt.wantPass, pass)
			assert.Equal(t, "team-a", req.Header.Get("X-Scope-OrgID"))
		})
	}
}

func TestGraphiteIsOnline(t *testing.T) {
	tests := map[string]struct {
		status int
		body   string
		online bool
	}{
		"no data for the probe is online": {status: 200, body: `[]`, online: true},
		"data is online":                  {status: 200, body: `[{"target": "test", "datapoints": [[1, 1]]}]`, online: true},
		"401":                             {status: 401, body: "Unauthorized"},
		"not graphite":                    {status: 200, body: "<html>"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			f := &fakeGraphite{status: tt.status, body: tt.body}
			p := newTestGraphite(t, f, ProviderConfig{})

			online, err := p.IsOnline(t.Context())
			assert.Equal(t, tt.online, online)
			if tt.online {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
			}
			assert.Equal(t, url.Values{"target": {"test"}, "format": {"json"}}, f.last(t).URL.Query())
		})
	}
}

func TestGraphiteAddressErrors(t *testing.T) {
	for _, address := range []string{"", "graphite:8080", "ftp://graphite", "http://"} {
		t.Run(address, func(t *testing.T) {
			_, err := NewProvider(ProviderConfig{Type: TypeGraphite, Address: address})
			require.Error(t, err)
			assert.Contains(t, err.Error(), "is not a valid http(s) URL")
		})
	}
}
