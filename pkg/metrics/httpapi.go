package metrics

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// maxResponseBytes bounds what is read of a vendor's answer: a metric query
// answers a few kilobytes, and a runaway body must not exhaust the operator.
const maxResponseBytes = 8 << 20

// httpAPI is the plain HTTP client of a hosted metrics API (datadog,
// newrelic, dynatrace, splunk, influxdb): a base URL, the template's headers
// and TLS setting, and the query timeout.
//
// Unlike Flagger, whose clients of these APIs use Go's default client, the
// template's headers and insecureSkipVerify apply to them as to Prometheus.
type httpAPI struct {
	typ       string
	base      *url.URL
	headers   http.Header
	timeout   time.Duration
	client    *http.Client
	transport *http.Transport
}

// newHTTPAPI builds the client of cfg.Address, or of fallback when the
// template has no address; an empty fallback makes the address required.
func newHTTPAPI(cfg ProviderConfig, fallback string, timeout time.Duration) (*httpAPI, error) {
	address := cfg.Address
	if address == "" {
		if fallback == "" {
			return nil, fmt.Errorf("%s provider needs an address", cfg.Type)
		}
		address = fallback
	}
	base, err := url.Parse(address)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("%s address %q is not a valid http(s) URL", cfg.Type, address)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if cfg.InsecureSkipVerify {
		transport.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the user asked for it
	}
	if cfg.Timeout > 0 {
		timeout = cfg.Timeout
	}
	return &httpAPI{typ: cfg.Type, base: base, headers: cfg.Headers, timeout: timeout,
		client: &http.Client{Transport: transport}, transport: transport}, nil
}

// endpoint returns the URL of path under the base URL (whose own path, a
// proxy's prefix, is kept) with a query string.
func (a *httpAPI) endpoint(path string, query url.Values) *url.URL {
	u := *a.base
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	u.RawPath = ""
	u.RawQuery = query.Encode()
	return &u
}

// request is one call of a vendor API.
type request struct {
	method string
	url    *url.URL
	// header is the call's own headers (auth, content type); they win over
	// the template's.
	header http.Header
	body   string
}

// open sends a request and returns the response of a 2xx status; any other
// status is a *statusError that quotes the body. The caller closes the body.
func (a *httpAPI) open(ctx context.Context, r request) (*http.Response, error) {
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.url.String(), body)
	if err != nil {
		return nil, fmt.Errorf("building %s request: %w", a.typ, err)
	}
	for k, vs := range a.headers {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxDetail+1))
		return nil, &statusError{typ: a.typ, status: resp.StatusCode, body: cut(string(b))}
	}
	return resp, nil
}

// do sends a request and returns the body of a 2xx answer.
func (a *httpAPI) do(ctx context.Context, r request) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	resp, err := a.open(ctx, r)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(a.capped(resp.Body))
	if err != nil {
		return nil, fmt.Errorf("reading %s response: %w", a.typ, err)
	}
	return b, nil
}

// capped bounds what is read of a response to maxResponseBytes; past that,
// reading fails rather than stopping short with a partial answer.
func (a *httpAPI) capped(r io.Reader) io.Reader {
	return &cappedReader{r: r, left: maxResponseBytes, typ: a.typ}
}

type cappedReader struct {
	r    io.Reader
	left int
	typ  string
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		// An answer of exactly the bound ends here.
		var one [1]byte
		if n, err := c.r.Read(one[:]); n == 0 {
			return 0, err
		}
		return 0, fmt.Errorf("%s response exceeds %d bytes", c.typ, maxResponseBytes)
	}
	if len(p) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= n
	return n, err
}

// online is the IsOnline of the APIs whose check is one authenticated GET
// answered with a 2xx status, as Flagger's are.
func (a *httpAPI) online(ctx context.Context, r request) (bool, error) {
	if _, err := a.do(ctx, r); err != nil {
		return false, err
	}
	return true, nil
}

// closeIdleConnections releases the pooled connections of an evicted
// provider (see ProviderCache).
func (a *httpAPI) closeIdleConnections() {
	a.transport.CloseIdleConnections()
}

// statusError is a vendor's answer with a status other than 2xx. Its body
// is kept: it is where the vendors say what is wrong (a bad query, a
// revoked key).
type statusError struct {
	typ    string
	status int
	body   string
}

func (e *statusError) Error() string {
	msg := fmt.Sprintf("%s answered HTTP %d", e.typ, e.status)
	if e.body != "" {
		msg += ": " + e.body
	}
	return msg
}

// cut collapses whitespace in a vendor's text and bounds it, for an error
// that ends up in an event message.
func cut(s string) string {
	s = compact(s)
	if len(s) > maxDetail {
		s = strings.ToValidUTF8(s[:maxDetail], "") + "..."
	}
	return s
}

// noValues wraps ErrNoValues with what the answer held instead of a value.
func noValues(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrNoValues, fmt.Sprintf(format, args...))
}

// secretValue returns a key of the template's secret. A template without a
// secretRef, or a secret without the key, is an error naming the key.
func secretValue(cfg ProviderConfig, key string) (string, error) {
	if cfg.Credentials == nil {
		return "", fmt.Errorf("%s provider needs a secretRef whose Secret holds %s", cfg.Type, key)
	}
	v, ok := cfg.Credentials[key]
	if !ok {
		return "", fmt.Errorf("%s credentials do not contain %s", cfg.Type, key)
	}
	return string(v), nil
}

// metricInterval parses cfg.Interval (empty: 1m), as Flagger does for the
// providers that query a time range.
func metricInterval(cfg ProviderConfig) (time.Duration, error) {
	s := cfg.Interval
	if s == "" {
		s = flaggerv1.DefaultMetricInterval
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%s: metric interval %q: %w", cfg.Type, s, err)
	}
	if d < 0 {
		return 0, fmt.Errorf("%s: metric interval %q is negative", cfg.Type, s)
	}
	return d, nil
}

// window returns the time range of a query that ends at at (the zero time:
// now) and spans span.
func window(at time.Time, span time.Duration) (from, to time.Time) {
	if at.IsZero() {
		at = time.Now()
	}
	return at.Add(-span), at
}

// errNotJSON reports an answer that is not the JSON the vendor documents,
// quoting its beginning.
func errNotJSON(typ string, err error, body []byte) error {
	return fmt.Errorf("%s answered something other than the expected JSON (%v): %s", typ, err, cut(string(body)))
}
