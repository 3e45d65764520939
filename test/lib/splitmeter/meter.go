package splitmeter

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"
)

// Config configures Start.
type Config struct {
	// URL is where requests go, e.g. http://127.0.0.1:8000/.
	URL string
	// Host is the Host header, one of the HTTPRoute's host names.
	Host string
	// Header, if set, is added to every request (e.g. for A/B routes).
	Header http.Header
	// RPS is the request rate; 0 means 50.
	RPS int
	// Settle is the settling time at the start of each window; 0 means 1.5 s.
	Settle time.Duration
	// IsCanary tells canary Pods from primary ones by name.
	IsCanary func(pod string) bool
	// Probe, if set, replaces the HTTP request (URL, Host and Header are
	// then unused): it makes one call of another protocol (gRPC) and returns
	// the Pod that answered and an HTTP-like code, 2xx for success, 0 for no
	// answer.
	Probe func(ctx context.Context) (pod string, code int)
}

// Meter sends the load and counts the answers until Stop.
type Meter struct {
	cfg    Config
	client *http.Client
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	windows []Window
}

// Start opens a first window with label and weight and starts the load.
func Start(cfg Config, label string, weight int) *Meter {
	if cfg.RPS <= 0 {
		cfg.RPS = 50
	}
	if cfg.Settle <= 0 {
		cfg.Settle = 1500 * time.Millisecond
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &Meter{
		cfg: cfg, cancel: cancel,
		client: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
	}
	m.Mark(label, weight)
	m.wg.Go(func() { m.run(ctx) })
	return m
}

// Mark opens a new window: the answers to requests sent from now on count for it.
func (m *Meter) Mark(label string, weight int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.windows = append(m.windows, Window{Label: label, Weight: weight, Start: time.Now()})
}

// Windows returns a copy of the windows so far.
func (m *Meter) Windows() []Window {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Window, len(m.windows))
	for i, w := range m.windows {
		out[i] = w
		if w.Codes != nil {
			out[i].Codes = make(map[int]int, len(w.Codes))
			for k, v := range w.Codes {
				out[i].Codes[k] = v
			}
		}
	}
	return out
}

// Stop stops the load and waits for the requests in flight.
func (m *Meter) Stop() {
	m.cancel()
	m.wg.Wait()
}

// run sends one request per tick, each in its own goroutine so that a slow answer does not
// lower the rate.
func (m *Meter) run(ctx context.Context) {
	tick := time.NewTicker(time.Second / time.Duration(m.cfg.RPS))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		m.wg.Go(func() {
			r := m.send()
			m.mu.Lock()
			record(m.windows, r, m.cfg.Settle)
			m.mu.Unlock()
		})
	}
}

// send makes one request and reads which Pod answered.
func (m *Meter) send() result {
	r := result{sent: time.Now()}
	if m.cfg.Probe != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		pod, code := m.cfg.Probe(ctx)
		r.code, r.canary = code, m.cfg.IsCanary(pod)
		return r
	}
	req, err := http.NewRequest(http.MethodGet, m.cfg.URL, nil)
	if err != nil {
		return r
	}
	req.Host = m.cfg.Host
	for k, v := range m.cfg.Header {
		req.Header[k] = v
	}
	resp, err := m.client.Do(req)
	if err != nil {
		return r
	}
	defer resp.Body.Close()
	var body struct {
		Hostname string `json:"hostname"`
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return r
	}
	r.code = resp.StatusCode
	if json.Unmarshal(data, &body) == nil {
		r.canary = m.cfg.IsCanary(body.Hostname)
	}
	return r
}
