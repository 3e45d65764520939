package traffic

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// mix is the load of a judge scenario: rps requests a second through the gateway, of which
// a share answers 500 on every version (GET /status/500: the errors the application always
// has) and a share asks GET /healthz, which answers 503 only from a podinfo started unhealthy
// (PODINFO_UNHEALTHY) — the canary's fault in a bad release, 200 elsewhere. The rest is GET /.
// (podinfo's other failures, such as a POST /store that cannot write, answer 200 with the
// error in the body: Traefik counts them as successes.)
type mix struct {
	rps      int
	always   float64 // share of GET /status/500
	health   float64 // share of GET /healthz
	host     string
	gateway  string
	sent     atomic.Int64
	failures atomic.Int64 // answers ≥ 500, or none
}

// mixLoad starts the load; it stops with the test.
func mixLoad(ctx context.Context, m *mix) {
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 128}}
	var wg sync.WaitGroup
	go func() {
		tick := time.NewTicker(time.Second / time.Duration(m.rps))
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				wg.Wait()
				return
			case <-tick.C:
			}
			wg.Go(func() { m.send(ctx, client) })
		}
	}()
}

// send makes one request of the mix.
func (m *mix) send(ctx context.Context, client *http.Client) {
	path := "/"
	switch x := rand.Float64(); {
	case x < m.always:
		path = "/status/500"
	case x < m.always+m.health:
		path = "/healthz"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.gateway+path, nil)
	if err != nil {
		return
	}
	req.Host = m.host
	m.sent.Add(1)
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			m.failures.Add(1)
		}
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode >= 500 {
		m.failures.Add(1)
	}
}

// fixedThreshold evaluates, beside the judge and on the same traffic, what the tutorial's
// fixed check would have decided: its error-rate query (Traefik's 5xx share of the canary
// Service's requests over 1m, thresholdRange max 1) asked every interval, a rollback at the
// threshold-th failed check. No data is not counted: Flagger would skip it while the canary
// has no traffic.
type fixedThreshold struct {
	prometheus, ns string
	max            float64
	threshold      int

	mu        sync.Mutex
	checks    int
	failed    int
	rolledAt  time.Duration // since start; 0 if it never would
	highest   float64
	startedAt time.Time
}

// watch asks the query every interval until ctx ends.
func (f *fixedThreshold) watch(ctx context.Context, interval time.Duration) {
	f.startedAt = time.Now()
	query := fmt.Sprintf(`100 - sum(rate(traefik_service_requests_total{service=~"%[1]s-podinfo-canary-http-[0-9]+@kubernetesgateway",code!~"5.*"}[1m]))`+
		` / sum(rate(traefik_service_requests_total{service=~"%[1]s-podinfo-canary-http-[0-9]+@kubernetesgateway"}[1m])) * 100`, f.ns)
	go func() {
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			v, err := promValue(ctx, f.prometheus, query)
			if err != nil || math.IsNaN(v) {
				continue
			}
			f.mu.Lock()
			f.checks++
			f.highest = max(f.highest, v)
			if v > f.max {
				f.failed++
				if f.failed == f.threshold {
					f.rolledAt = time.Since(f.startedAt)
				}
			}
			f.mu.Unlock()
		}
	}()
}

// String says what the fixed check saw.
func (f *fixedThreshold) String() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	verdict := "would have let the release through"
	if f.rolledAt > 0 {
		verdict = fmt.Sprintf("would have rolled back %s after the release started", f.rolledAt.Round(time.Second))
	}
	return fmt.Sprintf("fixed threshold (error rate max %g, %d failed checks): %d of %d checks above, highest %.2f%%: %s",
		f.max, f.threshold, f.failed, f.checks, f.highest, verdict)
}

// promValue runs an instant query and returns its single value (NaN for no series).
func promValue(ctx context.Context, address, query string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, address+"/api/v1/query?query="+url.QueryEscape(query), nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var out struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return 0, err
	}
	if len(out.Data.Result) == 0 {
		return math.NaN(), nil
	}
	s, _ := out.Data.Result[0].Value[1].(string)
	return strconv.ParseFloat(s, 64)
}
