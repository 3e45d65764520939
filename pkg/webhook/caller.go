package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/webhook/egress"
)

// DefaultTimeout bounds each attempt of a hook that sets no timeout.
const DefaultTimeout = 10 * time.Second

// maxBodyBytes bounds how much of a response is read: the body becomes an
// event message, not a download.
const maxBodyBytes = 64 << 10

// Config configures a Caller.
type Config struct {
	// Transport is the base transport of every call; nil means a clone of
	// http.DefaultTransport. Hooks with disableTLS use a clone of it that
	// skips certificate verification.
	Transport *http.Transport
	// MinBackoff is the wait before the first retry; zero means 1s.
	MinBackoff time.Duration
	// MaxBackoff caps the wait between retries; zero means 30s.
	MaxBackoff time.Duration
	// Egress bounds the destinations of every call, redirects included
	// (-webhook-allowed-hosts); nil allows any, as Flagger does.
	Egress *egress.Policy
}

// Caller POSTs payloads to webhooks. It is safe for concurrent use.
type Caller struct {
	client   *http.Client
	insecure *http.Client
	backoff  backoff
}

// NewCaller returns a Caller for a configuration.
func NewCaller(cfg Config) *Caller {
	base := cfg.Transport
	if base == nil {
		base = http.DefaultTransport.(*http.Transport).Clone()
	}
	base = cfg.Egress.Transport(base)
	insecure := base.Clone()
	if insecure.TLSClientConfig == nil {
		insecure.TLSClientConfig = &tls.Config{}
	}
	insecure.TLSClientConfig.InsecureSkipVerify = true //nolint:gosec // the hook asked for it with disableTLS
	b := backoff{min: cfg.MinBackoff, max: cfg.MaxBackoff}
	if b.min <= 0 {
		b.min = time.Second
	}
	if b.max <= 0 {
		b.max = 30 * time.Second
	}
	return &Caller{
		client:   &http.Client{Transport: base},
		insecure: &http.Client{Transport: insecure},
		backoff:  b,
	}
}

// Call POSTs the payload to the hook as JSON. It succeeds only on 200, 201
// or 202; any other status is a *StatusError whose text is the response
// body. Each attempt is bounded by the hook's timeout; connection errors, 429
// and 5xx other than 501 are retried hook.Retries times with exponential
// backoff, after which a *RetriesExhaustedError names the attempts. ctx
// cancellation stops the call, even between attempts.
func (c *Caller) Call(ctx context.Context, hook flaggerv1.CanaryWebhook, payload Payload) error {
	timeout, err := hookTimeout(hook.Timeout)
	if err != nil {
		return err
	}
	u, err := url.Parse(hook.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("webhook %s: %q is not a valid http(s) URL", hook.Name, hook.URL)
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("encoding webhook payload: %w", err)
	}
	client := c.client
	if hook.DisableTLS {
		client = c.insecure
	}

	attempts := max(hook.Retries, 0) + 1
	for attempt := 1; ; attempt++ {
		res := post(ctx, client, u.String(), body, timeout)
		if res.err == nil {
			return nil
		}
		var denied *egress.DeniedError
		if errors.As(res.err, &denied) {
			// Not retried: the flag will not change while the call waits.
			return fmt.Errorf("webhook %s: %w", hook.Name, denied)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("POST %s: %w", u.Redacted(), ctx.Err())
		}
		if !res.retryable {
			return res.err
		}
		if attempt == attempts {
			if attempts == 1 {
				// No retries asked for: report the failure itself. Unlike
				// Flagger, where even then the body is replaced by "giving
				// up after 1 attempt(s)".
				return res.err
			}
			return &RetriesExhaustedError{URL: u.Redacted(), Attempts: attempts, Err: res.err}
		}
		if err := sleep(ctx, c.backoff.delay(attempt-1, res.retryAfter)); err != nil {
			return fmt.Errorf("POST %s: %w", u.Redacted(), err)
		}
	}
}

// Budget is the longest a Call of hook can take: every attempt timing out,
// with the longest backoff between them. An invalid timeout counts as the
// default, since Call then fails at once.
func (c *Caller) Budget(hook flaggerv1.CanaryWebhook) time.Duration {
	timeout, err := hookTimeout(hook.Timeout)
	if err != nil {
		timeout = DefaultTimeout
	}
	// Saturated rather than wrapped: a timeout of 2562047h (which the CRD
	// accepts) and a few retries overflowed to a negative budget. Found by
	// FuzzBudget.
	retries := int64(max(hook.Retries, 0))
	perRetry := timeout + c.backoff.max
	if perRetry < timeout || retries > (math.MaxInt64-int64(timeout))/int64(perRetry) {
		return math.MaxInt64
	}
	return timeout + time.Duration(retries)*perRetry
}

// result is the outcome of one attempt.
type result struct {
	err        error
	retryable  bool
	retryAfter time.Duration
}

func post(ctx context.Context, client *http.Client, url string, body []byte, timeout time.Duration) result {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return result{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return result{err: err, retryable: retryableError(err)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	if err != nil {
		return result{err: fmt.Errorf("error reading body: %w", err), retryable: true}
	}
	switch resp.StatusCode {
	case http.StatusOK, http.StatusCreated, http.StatusAccepted:
		return result{}
	}
	return result{
		err:        &StatusError{StatusCode: resp.StatusCode, Body: strings.TrimSpace(string(b))},
		retryable:  retryableStatus(resp.StatusCode),
		retryAfter: retryAfter(resp),
	}
}

// hookTimeout returns the per-attempt timeout of a hook. Like Flagger, a
// value shorter than two characters ("", "5") means the default.
func hookTimeout(s string) (time.Duration, error) {
	if len(s) < 2 {
		return DefaultTimeout, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("webhook timeout %q: %w", s, err)
	}
	if d <= 0 {
		return DefaultTimeout, nil
	}
	return d, nil
}

// StatusError is a webhook response with a status other than 200, 201 or
// 202. Its text is the response body (surrounding whitespace removed), which
// Flagger puts in its events, e.g. a load tester's failure output.
type StatusError struct {
	// StatusCode is the HTTP status of the response.
	StatusCode int
	// Body is the start of the response body.
	Body string
}

// Error returns the body, or the status when the body is empty.
func (e *StatusError) Error() string {
	if e.Body == "" {
		return fmt.Sprintf("%d %s", e.StatusCode, http.StatusText(e.StatusCode))
	}
	return e.Body
}

// RetriesExhaustedError is returned when every attempt of a hook with
// retries failed with a retryable error.
type RetriesExhaustedError struct {
	// URL of the hook, password redacted.
	URL string
	// Attempts is the number of attempts made.
	Attempts int
	// Err is the failure of the last attempt.
	Err error
}

// Error follows Flagger's "POST <url> giving up after N attempt(s)" and adds
// the last failure.
func (e *RetriesExhaustedError) Error() string {
	return fmt.Sprintf("POST %s giving up after %d attempt(s): %v", e.URL, e.Attempts, e.Err)
}

// Unwrap returns the last failure.
func (e *RetriesExhaustedError) Unwrap() error { return e.Err }
