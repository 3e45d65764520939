package notifier

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"k8s.io/utils/clock"

	"github.com/serin-dev/serin/pkg/webhook/egress"
)

// DefaultTimeout bounds each post when Config.Timeout is zero; it is
// Flagger's.
const DefaultTimeout = 5 * time.Second

// maxErrorBody bounds how much of a refusal is quoted in the error.
const maxErrorBody = 1 << 10

// Config tunes how notifiers post.
type Config struct {
	// Timeout bounds each post; zero means DefaultTimeout.
	Timeout time.Duration
	// Transport is the base transport; nil means a clone of
	// http.DefaultTransport. A provider with a proxy gets a clone of it.
	Transport *http.Transport
	// Clock stamps the generic payload; nil means the real clock.
	Clock clock.PassiveClock
	// Egress bounds the addresses and proxies posted to, redirects included
	// (-webhook-allowed-hosts); nil allows any, as Flagger does.
	Egress *egress.Policy
}

func (c Config) withDefaults() Config {
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Transport == nil {
		c.Transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	if c.Clock == nil {
		c.Clock = clock.RealClock{}
	}
	return c
}

// poster POSTs JSON payloads to one address.
type poster struct {
	address *url.URL
	client  *http.Client
	timeout time.Duration
	header  http.Header
}

// newPoster validates the address and proxy and returns a poster for them.
// Neither URL is quoted in errors: webhook URLs carry their credentials.
func newPoster(address, proxy string, cfg Config) (*poster, error) {
	u, err := parseHTTPURL(address)
	if err != nil {
		return nil, fmt.Errorf("address: %w", err)
	}
	transport := cfg.Transport
	if proxy != "" {
		p, err := parseHTTPURL(proxy)
		if err != nil {
			return nil, fmt.Errorf("proxy: %w", err)
		}
		transport = transport.Clone()
		transport.Proxy = http.ProxyURL(p)
	}
	// After the proxy is set, so that what goes through it is checked too.
	transport = cfg.Egress.Transport(transport)
	return &poster{
		address: u,
		client:  &http.Client{Transport: transport},
		timeout: cfg.Timeout,
		header:  http.Header{"Content-Type": {"application/json"}},
	}, nil
}

// withBearer makes the poster send a bearer token; an empty token sends none.
func (p *poster) withBearer(token string) *poster {
	if token != "" {
		p.header.Set("Authorization", "Bearer "+token)
	}
	return p
}

// post sends the payload as JSON. Any 2xx answer is a success.
//
// Unlike Flagger, whose errors quote the whole webhook URL into the logs,
// errors name the host only: the path of a Slack, Teams or Discord webhook is
// its credential.
func (p *poster) post(ctx context.Context, payload any) error {
	body, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("encode payload: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.address.String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("post to %s: %w", p.address.Host, err)
	}
	req.Header = p.header.Clone()
	resp, err := p.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("post to %s: %w", p.address.Host, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		return nil
	}
	text, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	return &StatusError{Host: p.address.Host, Code: resp.StatusCode, Body: strings.TrimSpace(string(text))}
}

// StatusError is a receiver's refusal: an answer outside 2xx.
type StatusError struct {
	// Host is the receiver's host.
	Host string
	// Code is the HTTP status code.
	Code int
	// Body is the start of the answer's body.
	Body string
}

// Error says which host refused the alert, with what status and answer.
func (e *StatusError) Error() string {
	if e.Body == "" {
		return fmt.Sprintf("post to %s: status %d", e.Host, e.Code)
	}
	return fmt.Sprintf("post to %s: status %d: %s", e.Host, e.Code, e.Body)
}

// parseHTTPURL accepts absolute http and https URLs only.
func parseHTTPURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("not an absolute http(s) URL")
	}
	return u, nil
}
