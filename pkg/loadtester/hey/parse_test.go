package hey

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const target = "http://podinfo-canary.test:9898/"

// opts returns hey's defaults for target, changed by the functions.
func opts(changes ...func(*Options)) Options {
	o := Options{
		URL:         target,
		Method:      http.MethodGet,
		Header:      http.Header{"Content-Type": {DefaultContentType}, "User-Agent": {userAgent}},
		Body:        []byte{},
		Requests:    DefaultRequests,
		Concurrency: DefaultConcurrency,
		Timeout:     DefaultTimeout,
	}
	for _, c := range changes {
		c(&o)
	}
	return o
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want Options
	}{
		{"defaults", []string{target}, opts()},
		{"tutorial load test", []string{"-z", "1m", "-q", "10", "-c", "2", target}, opts(func(o *Options) {
			o.Duration, o.QPS, o.Concurrency, o.Requests = time.Minute, 10, 2, 0
		})},
		{"-n and -c", []string{"-n", "7", "-c", "3", target}, opts(func(o *Options) { o.Requests, o.Concurrency = 7, 3 })},
		{"= syntax and double dash", []string{"--n=4", "-c=2", target}, opts(func(o *Options) { o.Requests, o.Concurrency = 4, 2 })},
		{"-m is upper-cased", []string{"-m", "post", target}, opts(func(o *Options) { o.Method = http.MethodPost })},
		{"-H repeats", []string{"-H", "X-Canary: insider", "-H", "X-Two:  2", target}, opts(func(o *Options) {
			o.Header.Set("X-Canary", "insider")
			o.Header.Set("X-Two", "2")
		})},
		{"-H overrides -T", []string{"-T", "application/json", "-H", "Content-Type: text/plain", target}, opts(func(o *Options) {
			o.Header["Content-Type"] = []string{"text/plain"}
		})},
		{"-T", []string{"-T", "application/json", target}, opts(func(o *Options) { o.Header.Set("Content-Type", "application/json") })},
		{"-host", []string{"-host", "app.example.com", target}, opts(func(o *Options) { o.Host = "app.example.com" })},
		{"-d", []string{"-d", `{"a":1}`, target}, opts(func(o *Options) { o.Body = []byte(`{"a":1}`) })},
		{"-D", []string{"-D", "/tmp/body", target}, opts(func(o *Options) { o.BodyFile = "/tmp/body" })},
		{"-t", []string{"-t", "3", target}, opts(func(o *Options) { o.Timeout = 3 * time.Second })},
		{"-t 0 is no timeout", []string{"-t", "0", target}, opts(func(o *Options) { o.Timeout = 0 })},
		{"-A", []string{"-A", "text/plain", target}, opts(func(o *Options) { o.Header.Set("Accept", "text/plain") })},
		{"-U prefixes hey's agent", []string{"-U", "probe/1", target}, opts(func(o *Options) { o.Header.Set("User-Agent", "probe/1 hey/0.0.1") })},
		{"-a", []string{"-a", "u:p:w", target}, opts(func(o *Options) { o.Username, o.Password = "u", "p:w" })},
		{"booleans", []string{"-h2", "-disable-compression", "-disable-keepalive", "-disable-redirects", "-cpus", "2", target}, opts(func(o *Options) {
			o.HTTP2, o.DisableCompression, o.DisableKeepAlives, o.DisableRedirects = true, true, true, true
		})},
		{"-z ignores -n < -c", []string{"-z", "5s", "-n", "1", "-c", "4", target}, opts(func(o *Options) {
			o.Duration, o.Requests, o.Concurrency = 5*time.Second, 0, 4
		})},
		{"args after the URL are ignored", []string{target, "extra"}, opts()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.args)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseProxy(t *testing.T) {
	o, err := Parse([]string{"-x", "http://proxy:3128", target})
	require.NoError(t, err)
	require.NotNil(t, o.Proxy)
	assert.Equal(t, "proxy:3128", o.Proxy.Host)
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no URL", []string{"-n", "1"}, "missing the URL"},
		{"not a URL", []string{"podinfo:9898"}, "is not an http(s) URL"},
		{"unknown flag", []string{"-bogus", target}, "flag provided but not defined"},
		{"bad number", []string{"-n", "many", target}, "invalid value"},
		{"-n < -c", []string{"-n", "2", "-c", "3", target}, "-n cannot be less than -c"},
		{"-c 0", []string{"-c", "0", target}, "-c cannot be smaller than 1"},
		{"-n 0", []string{"-n", "0", "-c", "0", target}, "-c cannot be smaller than 1"},
		{"negative -q", []string{"-q", "-1", target}, "cannot be negative"},
		{"NaN -q", []string{"-q", "NaN", target}, "want a number from 0 to 1e+09"},
		{"-q too high to tick", []string{"-q", "1e10", target}, "want a number from 0 to 1e+09"},
		{"-t overflows", []string{"-t", "9223372036854775807", target}, "-t 9223372036854775807: too large"},
		{"bad header", []string{"-H", "no colon", target}, `want "Name: value"`},
		{"empty header value", []string{"-H", "X-A:", target}, `want "Name: value"`},
		{"bad auth", []string{"-a", "nocolon", target}, "want user:password"},
		{"bad proxy", []string{"-x", "::", target}, "not a proxy URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.args)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotErrorIs(t, err, ErrUnsupported)
		})
	}
}

func TestParseUnsupported(t *testing.T) {
	_, err := Parse([]string{"-o", "csv", target})
	assert.ErrorIs(t, err, ErrUnsupported)
}
