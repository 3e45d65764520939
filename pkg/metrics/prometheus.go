package metrics

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// onlineQuery is the query IsOnline expects to return 1.
const onlineQuery = "vector(1)"

// prometheus runs instant queries through the Prometheus HTTP API.
type prometheus struct {
	api       promv1.API
	timeout   time.Duration
	transport *http.Transport
}

var _ Provider = (*prometheus)(nil)

func newPrometheus(cfg ProviderConfig) (*prometheus, error) {
	u, err := url.Parse(cfg.Address)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("prometheus address %q is not a valid http(s) URL", cfg.Address)
	}
	auth, err := prometheusAuth(cfg.Credentials)
	if err != nil {
		return nil, err
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if cfg.InsecureSkipVerify {
		transport.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the user asked for it
	}
	client, err := api.NewClient(api.Config{
		Address:      cfg.Address,
		RoundTripper: &headerRoundTripper{next: transport, headers: cfg.Headers, auth: auth},
	})
	if err != nil {
		return nil, fmt.Errorf("building prometheus client: %w", err)
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultQueryTimeout
	}
	return &prometheus{api: promv1.NewAPI(client), timeout: timeout, transport: transport}, nil
}

// RunQuery runs an instant query with its whitespace collapsed and returns
// the sample of a one-series vector, or a scalar.
//
// Unlike Flagger, which takes one of the series of a vector with several
// (whichever the server lists last) and passes or fails on it: a query
// that returns several series is ambiguous, and fails the check with an
// error that says so and how to aggregate it.
func (p *prometheus) RunQuery(ctx context.Context, query string, at time.Time) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	value, _, _, err := p.api.Query(ctx, compact(query), at)
	if err != nil {
		return 0, queryError(err)
	}
	var v float64
	switch r := value.(type) {
	case model.Vector:
		if len(r) == 0 {
			return 0, ErrNoValues
		}
		if len(r) > 1 {
			return 0, fmt.Errorf("query returned %d series (%s, ...); a metric must return one value: aggregate it, e.g. sum(...)",
				len(r), r[0].Metric)
		}
		v = float64(r[0].Value)
	case *model.Scalar:
		v = float64(r.Value)
	case model.Matrix:
		// Unlike Flagger, which panics on a matrix, say what is wrong.
		return 0, errors.New("query returned a range vector (matrix); use an instant vector or a scalar")
	default:
		return 0, fmt.Errorf("query returned an unsupported result type %s", value.Type())
	}
	if math.IsNaN(v) {
		return 0, ErrNoValues
	}
	return v, nil
}

// IsOnline runs vector(1) and expects 1.
func (p *prometheus) IsOnline(ctx context.Context) (bool, error) {
	v, err := p.RunQuery(ctx, onlineQuery, time.Time{})
	if err != nil {
		return false, fmt.Errorf("running query failed: %w", err)
	}
	if v != 1 {
		return false, fmt.Errorf("value is not 1 for query: %s", onlineQuery)
	}
	return true, nil
}

// closeIdleConnections releases the pooled connections of an evicted provider.
func (p *prometheus) closeIdleConnections() {
	p.transport.CloseIdleConnections()
}

// maxDetail bounds the response body quoted in an error: it ends up in an
// event message.
const maxDetail = 512

// queryError keeps the response body of a failed HTTP call in the message:
// for a proxy's 500 it is usually the only useful part.
func queryError(err error) error {
	var apiErr *promv1.Error
	if !errors.As(err, &apiErr) || apiErr.Detail == "" {
		return err
	}
	detail := compact(apiErr.Detail)
	if len(detail) > maxDetail {
		detail = strings.ToValidUTF8(detail[:maxDetail], "") + "..."
	}
	return fmt.Errorf("%w: %s", err, detail)
}

// prometheusAuth returns the Authorization header value for a secret's data.
// No secret means no auth; a secret must hold token, or username and
// password.
func prometheusAuth(credentials map[string][]byte) (string, error) {
	if credentials == nil {
		return "", nil
	}
	if token, ok := credentials["token"]; ok {
		return "Bearer " + string(token), nil
	}
	username, ok := credentials["username"]
	if !ok {
		return "", errors.New("prometheus credentials do not contain a token or a username")
	}
	password, ok := credentials["password"]
	if !ok {
		return "", errors.New("prometheus credentials do not contain a password")
	}
	r := http.Request{Header: http.Header{}}
	r.SetBasicAuth(string(username), string(password))
	return r.Header.Get("Authorization"), nil
}

// headerRoundTripper adds the configured headers and Authorization to every
// request.
type headerRoundTripper struct {
	next    http.RoundTripper
	headers http.Header
	auth    string
}

func (h *headerRoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	// A RoundTripper must not modify the caller's request.
	req = req.Clone(req.Context())
	for k, vs := range h.headers {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if h.auth != "" {
		req.Header.Set("Authorization", h.auth)
	}
	return h.next.RoundTrip(req)
}
