package cluster

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/serin-dev/serin/test/lib/must"
	"github.com/serin-dev/serin/test/lib/proc"
)

// probeInterval is how often readiness is polled; components become ready within 0.1-2.5 s.
const probeInterval = 50 * time.Millisecond

// probe reports nil once a component is ready.
type probe func(ctx context.Context) error

// waitReady polls check until it succeeds. It fails early when p exits, and after timeout (or
// when ctx ends) with the last probe error; both failures carry the tail of p's log.
func waitReady(ctx context.Context, p *proc.Process, timeout time.Duration, check probe) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ticker := time.NewTicker(probeInterval)
	defer ticker.Stop()
	for {
		err := check(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-p.Exited():
			return failure(p, "exited before it was ready (%v)", p.ExitErr())
		case <-ctx.Done():
			return failure(p, "was not ready within %s (%v): last probe: %v", timeout, context.Cause(ctx), err)
		case <-ticker.C:
		}
	}
}

// pollUntil calls cond every probeInterval until it reports done, timeout passes or ctx
// ends; a timeout error carries the condition's last error.
func pollUntil(ctx context.Context, timeout time.Duration, cond must.Condition) error {
	var ctxErr error
	err := must.Poll(timeout, probeInterval, func() (bool, error) {
		if ctxErr = ctx.Err(); ctxErr != nil {
			return true, nil
		}
		return cond()
	})
	if ctxErr != nil {
		return context.Cause(ctx)
	}
	return err
}

// httpProbe GETs url with client and expects 200 OK.
func httpProbe(client *http.Client, url string) probe {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s: %s", url, resp.Status, body)
		}
		return nil
	}
}

// insecureClient talks to the self-signed health endpoints of kube-controller-manager and
// kube-scheduler; only their readiness is read, on loopback.
var insecureClient = &http.Client{
	Timeout:   2 * time.Second,
	Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, //nolint:gosec // loopback health checks only
}

// plainClient talks to the plain-HTTP health endpoints of etcd and KWOK.
var plainClient = &http.Client{Timeout: 2 * time.Second}
