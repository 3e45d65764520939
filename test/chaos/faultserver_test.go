package chaos

import (
	"errors"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fault is how a faultServer answers.
type fault struct {
	name string
	// refuse closes the listening socket: connections are refused, as when the server is
	// stopped.
	refuse bool
	// hang holds each request without answering until the client gives up.
	hang bool
	// status, contentType and body, when status is set, are the answer instead of the
	// server's own.
	status      int
	contentType string
	body        string
}

// Faults a faultServer can inject; healthy (the zero fault) serves normally.
var (
	healthyFault = fault{name: "healthy"}
	refused      = fault{name: "connection refused", refuse: true}
	hanging      = fault{name: "hanging", hang: true}
	failing500   = fault{name: "500", status: http.StatusInternalServerError, contentType: "text/plain", body: "internal error injected by the chaos test"}
)

// answer is a fault that answers 200 with a fixed body.
func answer(name, contentType, body string) fault {
	return fault{name: name, status: http.StatusOK, contentType: contentType, body: body}
}

// faultServer is an HTTP server on a fixed loopback address that serves with a handler or
// injects a fault. Keep-alives are off, so that every request opens a new connection and a
// refused server refuses every request, as a stopped one does.
type faultServer struct {
	t       *testing.T
	addr    string
	handler http.Handler
	srv     *http.Server
	closed  chan struct{}

	mu       sync.Mutex
	current  fault
	ln       net.Listener // nil while refusing
	requests int
}

// newFaultServer starts a server answering with handler until a fault is set.
func newFaultServer(t *testing.T, handler http.Handler) *faultServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &faultServer{t: t, addr: ln.Addr().String(), handler: handler, ln: ln, closed: make(chan struct{})}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 10 * time.Second}
	s.srv.SetKeepAlivesEnabled(false)
	go s.serveOn(ln)
	t.Cleanup(func() {
		close(s.closed)
		_ = s.srv.Close()
	})
	return s
}

// newPrometheusProxy is a faultServer in front of the test's Prometheus: MetricTemplates that
// query its URL get Prometheus' answers until a fault is set.
func newPrometheusProxy(t *testing.T) *faultServer {
	t.Helper()
	target, err := url.Parse(env.prom.URL())
	require.NoError(t, err)
	return newFaultServer(t, httputil.NewSingleHostReverseProxy(target))
}

// URL is the server's base URL.
func (s *faultServer) URL() string { return "http://" + s.addr }

func (s *faultServer) serveOn(ln net.Listener) {
	if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		// The listener was closed to refuse connections; set starts a new one.
		return
	}
}

// set makes the server inject f from now on (healthyFault serves normally again).
func (s *faultServer) set(f fault) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.current = f
	switch {
	case f.refuse && s.ln != nil:
		_ = s.ln.Close()
		s.ln = nil
	case !f.refuse && s.ln == nil:
		ln, err := net.Listen("tcp", s.addr)
		require.NoError(s.t, err, "listen again on %s", s.addr)
		s.ln = ln
		go s.serveOn(ln)
	}
}

// requestCount is how many requests the server received.
func (s *faultServer) requestCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

func (s *faultServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	f := s.current
	s.requests++
	s.mu.Unlock()
	switch {
	case f.hang:
		select {
		case <-r.Context().Done():
		case <-s.closed:
		}
	case f.status != 0:
		w.Header().Set("Content-Type", f.contentType)
		w.WriteHeader(f.status)
		_, _ = w.Write([]byte(f.body))
	default:
		s.handler.ServeHTTP(w, r)
	}
}

// okHandler answers every request with 200, as a passing webhook does.
var okHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	_, _ = w.Write([]byte("ok"))
})
