package hey

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"
)

// Run generates the load o describes and reports what happened. It returns
// an error when the run could not start (an unreadable -D file) or when ctx
// ended it before its duration or request count was reached; failed
// requests are counted in the Result, not returned.
func Run(ctx context.Context, o Options) (Result, error) {
	body := o.Body
	if o.BodyFile != "" {
		b, err := os.ReadFile(o.BodyFile)
		if err != nil {
			return Result{}, fmt.Errorf("hey: reading -D: %w", err)
		}
		body = b
	}
	client := newClient(o)
	defer client.CloseIdleConnections()

	stop := make(chan struct{})
	if o.Duration > 0 {
		t := time.AfterFunc(o.Duration, func() { close(stop) })
		defer t.Stop()
	}

	start := time.Now()
	results := make([]Result, o.Concurrency)
	var wg sync.WaitGroup
	for i := range o.Concurrency {
		wg.Go(func() {
			results[i] = work(ctx, client, o, body, budget(o, i), stop)
		})
	}
	wg.Wait()

	total := newResult()
	for _, r := range results {
		total.merge(r)
	}
	total.Elapsed = time.Since(start)
	return total, ctx.Err()
}

// budget is worker i's share of -n, or -1 (unlimited) for a timed run.
// Unlike hey, which gives every worker n/c and drops the remainder, the
// first n%c workers take one more so that exactly n requests are sent.
func budget(o Options, i int) int {
	if o.Duration > 0 {
		return -1
	}
	n := o.Requests / o.Concurrency
	if i < o.Requests%o.Concurrency {
		n++
	}
	return n
}

// work sends up to n requests (forever when n < 0), one at a time, each
// after a tick of the worker's rate limit, until stop or ctx ends.
func work(ctx context.Context, client *http.Client, o Options, body []byte, n int, stop <-chan struct{}) Result {
	res := newResult()
	var tick <-chan time.Time
	if o.QPS > 0 {
		t := time.NewTicker(time.Duration(float64(time.Second) / o.QPS))
		defer t.Stop()
		tick = t.C
	}
	for sent := 0; n < 0 || sent < n; sent++ {
		select {
		case <-stop:
			return res
		case <-ctx.Done():
			return res
		default:
		}
		if tick != nil {
			select {
			case <-tick:
			case <-stop:
				return res
			case <-ctx.Done():
				return res
			}
		}
		begin := time.Now()
		code, err := do(ctx, client, o, body)
		res.record(time.Since(begin), code, err)
	}
	return res
}

// do sends one request and drains the response, so the connection can be
// reused as hey's would.
func do(ctx context.Context, client *http.Client, o Options, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, o.Method, o.URL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header = o.Header.Clone()
	req.Host = o.Host
	if req.Host == "" {
		// net/http ignores a Host header; honour -H 'Host: x' anyway.
		req.Host = req.Header.Get("Host")
	}
	if o.Username != "" {
		req.SetBasicAuth(o.Username, o.Password)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// newClient configures a client the way hey does: no proxy unless -x,
// certificates not verified, HTTP/1.1 unless -h2.
func newClient(o Options) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	if o.Proxy != nil {
		tr.Proxy = http.ProxyURL(o.Proxy)
	}
	tr.TLSClientConfig = &tls.Config{
		InsecureSkipVerify: true, //nolint:gosec // hey's behaviour: load tests hit canaries with self-signed certificates
		ServerName:         o.Host,
	}
	tr.MaxIdleConnsPerHost = min(o.Concurrency, 500)
	tr.DisableCompression = o.DisableCompression
	tr.DisableKeepAlives = o.DisableKeepAlives
	tr.ForceAttemptHTTP2 = o.HTTP2
	if !o.HTTP2 {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	c := &http.Client{Transport: tr, Timeout: o.Timeout}
	if o.DisableRedirects {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return c
}
