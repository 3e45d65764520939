package metrics

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

// graphiteOnlineQuery is Flagger's probe: any answer, even without data,
// means the render API works.
const graphiteOnlineQuery = "target=test"

// graphite runs queries through the Graphite render URL API.
type graphite struct {
	render    url.URL
	client    *http.Client
	timeout   time.Duration
	transport *http.Transport
}

var _ Provider = (*graphite)(nil)

// newGraphite needs provider.address; a secretRef must hold username and
// password (basic auth), as in Flagger. Unlike Flagger, provider.headers
// are sent too.
func newGraphite(cfg ProviderConfig) (*graphite, error) {
	u, err := url.Parse(cfg.Address)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("graphite address %q is not a valid http(s) URL", cfg.Address)
	}
	auth, err := graphiteAuth(cfg.Credentials)
	if err != nil {
		return nil, err
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if cfg.InsecureSkipVerify {
		transport.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the user asked for it
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultQueryTimeout
	}
	render := *u
	render.Path = path.Join("/", u.Path, "render")
	render.RawQuery, render.Fragment = "", ""
	return &graphite{
		render:    render,
		client:    &http.Client{Transport: &headerRoundTripper{next: transport, headers: cfg.Headers, auth: auth}},
		timeout:   timeout,
		transport: transport,
	}, nil
}

// RunQuery sends the query, the parameters of a render URL such as
// "target=sumSeries(app.errors)&from=-5min", with its whitespace collapsed
// and format=json, and returns the last non-null datapoint of the answer
// (of the last series that has one, as Flagger does). No such datapoint is
// no data. The evaluation time is not sent: the query's own from/until are
// relative to the server's clock.
func (g *graphite) RunQuery(ctx context.Context, query string, _ time.Time) (float64, error) {
	params, err := url.ParseQuery(graphiteParams(query))
	if err != nil {
		return 0, fmt.Errorf("graphite query is not URL parameters (target=...&from=...): %w", err)
	}
	params.Set("format", "json")
	u := g.render
	u.RawQuery = params.Encode()
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, err
	}
	resp, err := g.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("graphite request failed: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return 0, fmt.Errorf("reading the graphite response: %w", err)
	}
	if resp.StatusCode >= 400 {
		return 0, fmt.Errorf("graphite answered %s: %s", resp.Status, answerDetail(body))
	}
	var series []graphiteSeries
	if err := json.Unmarshal(body, &series); err != nil {
		return 0, fmt.Errorf("graphite response is not a JSON list of series: %w: %s", err, answerDetail(body))
	}
	value, found := 0.0, false
	for _, s := range series {
		for _, p := range s.Datapoints {
			if p.value != nil {
				value, found = *p.value, true
			}
		}
	}
	if !found {
		return 0, fmt.Errorf("graphite returned %d series without a non-null datapoint: %w", len(series), ErrNoValues)
	}
	return value, nil
}

// graphiteParams collapses every run of whitespace to one space, as Flagger
// does, so that a target can span lines; unlike Flagger, it also drops the
// whitespace around each parameter, which a query written one parameter a
// line would otherwise leave at the end of a target.
func graphiteParams(query string) string {
	parts := strings.Split(query, "&")
	for i, p := range parts {
		parts[i] = strings.Join(strings.Fields(p), " ")
	}
	return strings.Join(parts, "&")
}

// IsOnline runs target=test and accepts an answer without data.
func (g *graphite) IsOnline(ctx context.Context) (bool, error) {
	if _, err := g.RunQuery(ctx, graphiteOnlineQuery, time.Time{}); err != nil && !errors.Is(err, ErrNoValues) {
		return false, fmt.Errorf("running query failed: %w", err)
	}
	return true, nil
}

// closeIdleConnections releases the pooled connections of an evicted provider.
func (g *graphite) closeIdleConnections() {
	g.transport.CloseIdleConnections()
}

// graphiteSeries is one series of a format=json render answer.
type graphiteSeries struct {
	Target     string              `json:"target"`
	Datapoints []graphiteDatapoint `json:"datapoints"`
}

// graphiteDatapoint is a [value, timestamp] pair. graphite-web writes the
// value as a number or null; some Graphite-compatible servers quote it.
type graphiteDatapoint struct {
	// value is nil for null (and NaN, which means the same).
	value *float64
}

func (p *graphiteDatapoint) UnmarshalJSON(b []byte) error {
	var pair []json.RawMessage
	if err := json.Unmarshal(b, &pair); err != nil || len(pair) != 2 {
		return fmt.Errorf("datapoint %s is not a [value, timestamp] pair", b)
	}
	raw := string(pair[0])
	if raw == "null" {
		return nil
	}
	if unquoted, err := strconv.Unquote(raw); err == nil {
		raw = unquoted
	}
	v, err := strconv.ParseFloat(raw, 64)
	if err != nil {
		return fmt.Errorf("datapoint value %s is not a number", pair[0])
	}
	if !math.IsNaN(v) {
		p.value = &v
	}
	return nil
}

// graphiteAuth returns the Authorization header value for a secret's data:
// none without a secret, else basic auth from username and password.
func graphiteAuth(credentials map[string][]byte) (string, error) {
	if credentials == nil {
		return "", nil
	}
	username, ok := credentials["username"]
	if !ok {
		return "", errors.New("graphite credentials do not contain a username")
	}
	password, ok := credentials["password"]
	if !ok {
		return "", errors.New("graphite credentials do not contain a password")
	}
	r := http.Request{Header: http.Header{}}
	r.SetBasicAuth(string(username), string(password))
	return r.Header.Get("Authorization"), nil
}

// answerDetail is a response body shortened for an error message, which ends up
// in an event.
func answerDetail(body []byte) string {
	d := compact(string(body))
	if len(d) > maxDetail {
		d = strings.ToValidUTF8(d[:maxDetail], "") + "..."
	}
	return d
}
