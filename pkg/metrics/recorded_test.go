package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The hosted providers (datadog, newrelic, dynatrace, splunk, influxdb)
// cannot run here: their tests replay answers shaped as the vendors document
// them, kept under testdata/<type>/, and check what the provider sent.

// answer is a recorded answer: a status and a fixture under testdata/ (or
// an inline body, for the answers of proxies in front of a vendor).
type answer struct {
	status int
	file   string
	body   string
}

// seen is a request the recorded API received.
type seen struct {
	method string
	host   string
	path   string
	query  url.Values
	header http.Header
	body   string
}

// recordedAPI answers each route ("GET /api/v1/query") with its recorded
// answer and keeps the requests; a request to another route gets a 404.
type recordedAPI struct {
	t      *testing.T
	routes map[string]answer

	mu   sync.Mutex
	seen []seen
}

func (a *recordedAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	a.mu.Lock()
	a.seen = append(a.seen, seen{method: r.Method, host: r.Host, path: r.URL.Path, query: r.URL.Query(),
		header: r.Header.Clone(), body: string(body)})
	a.mu.Unlock()
	ans, ok := a.routes[r.Method+" "+r.URL.Path]
	if !ok {
		http.Error(w, "no recorded answer for "+r.Method+" "+r.URL.Path, http.StatusNotFound)
		return
	}
	content := ans.body
	if ans.file != "" {
		b, err := os.ReadFile(filepath.Join("testdata", ans.file))
		if err != nil {
			a.t.Errorf("reading fixture: %v", err)
		}
		content = string(b)
	}
	switch filepath.Ext(ans.file) {
	case ".json":
		w.Header().Set("Content-Type", "application/json")
	case ".csv":
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	case ".sse":
		w.Header().Set("Content-Type", "text/event-stream")
	}
	w.WriteHeader(ans.status)
	_, _ = io.WriteString(w, content)
}

// last returns the last request received.
func (a *recordedAPI) last(t *testing.T) seen {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	require.NotEmpty(t, a.seen, "the provider sent no request")
	return a.seen[len(a.seen)-1]
}

// replay serves routes and returns the API and its URL.
func replay(t *testing.T, routes map[string]answer) (*recordedAPI, string) {
	t.Helper()
	a := &recordedAPI{t: t, routes: routes}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	return a, srv.URL
}

// vendorProvider builds a provider of a hosted type for tests.
func vendorProvider(t *testing.T, cfg ProviderConfig) Provider {
	t.Helper()
	p, err := NewProvider(cfg)
	require.NoError(t, err)
	return p
}

// outcome is what a RunQuery table expects: a value, no value, or an error
// containing a text.
type outcome struct {
	want      float64
	noValues  bool
	wantError string
}

func (o outcome) check(t *testing.T, got float64, err error) {
	t.Helper()
	switch {
	case o.noValues:
		require.ErrorIs(t, err, ErrNoValues)
	case o.wantError != "":
		require.Error(t, err)
		assert.NotErrorIs(t, err, ErrNoValues)
		assert.Contains(t, err.Error(), o.wantError)
	default:
		require.NoError(t, err)
		assert.Equal(t, o.want, got)
	}
}

// at is the evaluation time of the tests that send one.
var at = time.Unix(1700000600, 0)

// creds builds a secret's data from key/value pairs.
func creds(kv ...string) map[string][]byte {
	m := map[string][]byte{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = []byte(kv[i+1])
	}
	return m
}

// without returns a copy of a secret's data without a key.
func without(c map[string][]byte, key string) map[string][]byte {
	m := map[string][]byte{}
	for k, v := range c {
		if k != key {
			m[k] = v
		}
	}
	return m
}

// vendorSecrets are the complete secrets of the hosted providers.
var vendorSecrets = map[string]map[string][]byte{
	TypeDatadog:   creds(datadogAPIKey, "dd-api", datadogAppKey, "dd-app"),
	TypeNewRelic:  creds(newRelicAccountID, "1234567", newRelicQueryKey, "nr-query"),
	TypeDynatrace: creds(dynatraceToken, "dt0c01.abc"),
	TypeSplunk:    creds(splunkToken, "sf-token"),
	TypeInfluxDB:  creds(influxDBToken, "influx-token", influxDBOrg, "acme"),
}

// TestVendorSecretKeys checks that each hosted provider names the secret key
// it misses, with or without a secretRef.
func TestVendorSecretKeys(t *testing.T) {
	for typ, secret := range vendorSecrets {
		for key := range secret {
			t.Run(typ+" without "+key, func(t *testing.T) {
				p, err := NewProvider(ProviderConfig{Type: typ, Address: "https://metrics.example", Credentials: without(secret, key)})
				assert.Nil(t, p)
				require.ErrorContains(t, err, typ+" credentials do not contain "+key)
			})
		}
		t.Run(typ+" complete", func(t *testing.T) {
			_, err := NewProvider(ProviderConfig{Type: typ, Address: "https://metrics.example", Credentials: secret})
			require.NoError(t, err)
		})
	}
	for _, typ := range []string{TypeDatadog, TypeNewRelic, TypeDynatrace, TypeSplunk} {
		t.Run(typ+" without secretRef", func(t *testing.T) {
			_, err := NewProvider(ProviderConfig{Type: typ, Address: "https://metrics.example"})
			require.ErrorContains(t, err, typ+" provider needs a secretRef whose Secret holds ")
		})
	}
}

// TestVendorAddresses checks the default addresses and the address errors.
func TestVendorAddresses(t *testing.T) {
	tests := map[string]struct {
		cfg  ProviderConfig
		want string
	}{
		"dynatrace needs an address": {cfg: ProviderConfig{Type: TypeDynatrace}, want: "dynatrace provider needs an address"},
		"splunk needs an address":    {cfg: ProviderConfig{Type: TypeSplunk}, want: "splunk provider needs an address"},
		"influxdb needs an address":  {cfg: ProviderConfig{Type: TypeInfluxDB}, want: "influxdb provider needs an address"},
		"address without a scheme": {cfg: ProviderConfig{Type: TypeDatadog, Address: "api.datadoghq.eu"},
			want: `datadog address "api.datadoghq.eu" is not a valid http(s) URL`},
		"bad interval": {cfg: ProviderConfig{Type: TypeNewRelic, Interval: "1x"}, want: `newrelic: metric interval "1x"`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			tt.cfg.Credentials = vendorSecrets[tt.cfg.Type]
			_, err := NewProvider(tt.cfg)
			require.ErrorContains(t, err, tt.want)
		})
	}

	defaults := map[string]string{TypeDatadog: datadogDefaultAddress, TypeNewRelic: newRelicDefaultAddress}
	for typ, address := range defaults {
		t.Run(typ+" default address", func(t *testing.T) {
			p := vendorProvider(t, ProviderConfig{Type: typ, Credentials: vendorSecrets[typ]})
			var base string
			switch p := p.(type) {
			case *datadog:
				base = p.api.base.String()
			case *newRelic:
				base = p.api.base.String()
			}
			assert.Equal(t, address, base)
		})
	}
}

// TestVendorHeadersAndPrefix checks that every hosted provider sends the
// template's headers and keeps the path of an address behind a proxy.
func TestVendorHeadersAndPrefix(t *testing.T) {
	routes := map[string]answer{
		"GET /proxy/api/v1/query":              {status: 200, file: "datadog/query.json"},
		"GET /proxy/v1/accounts/1234567/query": {status: 200, file: "newrelic/query.json"},
		"GET /proxy/api/v2/metrics/query":      {status: 200, file: "dynatrace/query.json"},
		"POST /proxy/v2/signalflow/execute":    {status: 200, file: "splunk/execute.sse"},
		"POST /proxy/api/v2/query":             {status: 200, file: "influxdb/query.csv"},
	}
	for typ, secret := range vendorSecrets {
		t.Run(typ, func(t *testing.T) {
			api, addr := replay(t, routes)
			p := vendorProvider(t, ProviderConfig{Type: typ, Address: addr + "/proxy/", Credentials: secret,
				Headers: http.Header{"X-Scope-Orgid": {"tenant-a"}}})
			_, err := p.RunQuery(t.Context(), "q", at)
			require.NoError(t, err)
			req := api.last(t)
			assert.True(t, strings.HasPrefix(req.path, "/proxy/"), req.path)
			assert.Equal(t, "tenant-a", req.header.Get("X-Scope-OrgID"))
		})
	}
}

// TestVendorAnswerSize checks that an answer over maxResponseBytes is an
// error, not a partial read, and that one of exactly the bound is read.
func TestVendorAnswerSize(t *testing.T) {
	tests := map[string]struct {
		size      int
		wantError string
	}{
		"over the bound":    {size: maxResponseBytes + 1, wantError: "datadog response exceeds 8388608 bytes"},
		"exactly the bound": {size: maxResponseBytes, wantError: "datadog answered something other than the expected JSON"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, addr := replay(t, map[string]answer{"GET /api/v1/query": {status: 200, body: strings.Repeat(" ", tt.size-1) + "x"}})
			_, err := datadogProvider(t, addr, "1m").RunQuery(t.Context(), "x", at)
			require.ErrorContains(t, err, tt.wantError)
		})
	}
}
