package metricsexporter

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// Exporter is an HTTP server on a loopback port whose /metrics endpoint reports the simulated
// traffic of every workload given to Set. It is safe for concurrent use.
type Exporter struct {
	srv *httptest.Server
	now func() time.Time

	mu        sync.Mutex
	workloads map[workloadKey]*workload
}

// workloadKey names a workload as the destination_workload_namespace and destination_workload
// labels do.
type workloadKey struct{ namespace, name string }

// New starts an exporter on 127.0.0.1 with a free port and no workloads. Close stops it.
func New() *Exporter { return newExporter(time.Now) }

// newExporter starts an exporter that reads the time from now.
func newExporter(now func() time.Time) *Exporter {
	e := &Exporter{now: now, workloads: map[workloadKey]*workload{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", e.serveMetrics)
	e.srv = httptest.NewServer(mux)
	return e
}

// URL returns the base URL of the server, e.g. http://127.0.0.1:41234; metrics are at /metrics.
func (e *Exporter) URL() string { return e.srv.URL }

// Addr returns the host:port the server listens on, as a Prometheus scrape target.
func (e *Exporter) Addr() string { return e.srv.Listener.Addr().String() }

// Set makes traffic flow to the workload from now on. The requests served until now under the
// previous setting are kept, so counters never go backwards. Set with a zero RPS to stop the
// traffic; the workload's series stay.
func (e *Exporter) Set(namespace, workload string, traffic Traffic) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	k := workloadKey{namespace: namespace, name: workload}
	if w, ok := e.workloads[k]; ok {
		w.advance(now)
		w.traffic = traffic
		return
	}
	e.workloads[k] = newWorkload(traffic, now)
}

// Close shuts the server down, waiting for the requests in flight.
func (e *Exporter) Close() { e.srv.Close() }

// serveMetrics advances every workload to the present and writes the text exposition format.
func (e *Exporter) serveMetrics(w http.ResponseWriter, _ *http.Request) {
	var buf bytes.Buffer
	e.mu.Lock()
	now := e.now()
	for _, wl := range e.workloads {
		wl.advance(now)
	}
	writeText(&buf, e.workloads)
	e.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_, _ = w.Write(buf.Bytes()) // a failed write is the scraper's problem
}
