package loadtester

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/sirupsen/logrus"

	"github.com/serin-dev/serin/pkg/webhook"
)

// DefaultTimeout bounds a command when Config.Timeout is zero; it is
// Flagger's -timeout default.
const DefaultTimeout = time.Hour

// maxPayloadBytes bounds a webhook body: a payload is a few hundred bytes.
const maxPayloadBytes = 1 << 20

// Config configures a Server.
type Config struct {
	// Logger receives the server's logs; nil means logrus's standard logger.
	Logger *logrus.Entry
	// Timeout bounds every command; zero means DefaultTimeout.
	Timeout time.Duration
	// NamespaceRegexp, when set, must match the namespace of every payload;
	// other canaries get 403.
	NamespaceRegexp *regexp.Regexp
	// AllowCmd lists the command prefixes allowed to run; empty allows any
	// command, as Flagger does.
	AllowCmd []string
	// Gates holds the gate state; nil means in memory, lost on restart.
	Gates *Gates
	// Registry receives the metrics served on /metrics; nil means a new,
	// private registry.
	Registry *prometheus.Registry
}

// Server answers Flagger's load-tester webhooks. Create it with NewServer.
type Server struct {
	log       *logrus.Entry
	namespace *regexp.Regexp
	allow     allowList
	gates     *Gates
	metrics   *metrics
	tasks     *tasks
	mux       *http.ServeMux
}

// NewServer returns a server for a configuration; it fails only for an
// -allow-cmd prefix that cannot be parsed.
func NewServer(cfg Config) (*Server, error) {
	allow, err := newAllowList(cfg.AllowCmd)
	if err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = logrus.NewEntry(logrus.StandardLogger())
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Gates == nil {
		cfg.Gates, _ = NewGates(context.Background(), nil) // cannot fail without a store
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	s := &Server{
		log:       cfg.Logger,
		namespace: cfg.NamespaceRegexp,
		allow:     allow,
		gates:     cfg.Gates,
		metrics:   newMetrics(cfg.Registry),
		tasks:     newTasks(cfg.Timeout),
		mux:       http.NewServeMux(),
	}
	s.routes(cfg.Registry)
	return s, nil
}

func (s *Server) routes(reg *prometheus.Registry) {
	s.mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	s.mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { reply(w, http.StatusOK, "OK") })
	s.mux.HandleFunc("/gate/approve", func(w http.ResponseWriter, _ *http.Request) { reply(w, http.StatusOK, "OK") })
	s.mux.HandleFunc("/gate/halt", func(w http.ResponseWriter, _ *http.Request) { reply(w, http.StatusForbidden, "Forbidden") })
	s.mux.HandleFunc("/gate/check", s.checkGate(PromotionGate))
	s.mux.HandleFunc("/gate/open", s.setGate(PromotionGate, true))
	s.mux.HandleFunc("/gate/close", s.setGate(PromotionGate, false))
	s.mux.HandleFunc("/rollback/check", s.checkGate(RollbackGate))
	s.mux.HandleFunc("/rollback/open", s.setGate(RollbackGate, true))
	s.mux.HandleFunc("/rollback/close", s.setGate(RollbackGate, false))
	// Like Flagger, every other path runs a task, so a URL with a path works.
	s.mux.HandleFunc("/", s.handleTask)
}

// Handler returns the HTTP handler of every endpoint.
func (s *Server) Handler() http.Handler { return s.mux }

// Shutdown refuses new commands and waits for the running ones until ctx
// ends, then kills them and returns ctx's error. Stop the HTTP server
// first, so that no request is cut short by the refusal.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.tasks.shutdown(ctx)
}

// decodePayload reads a webhook payload and checks what every payload
// endpoint needs; on failure it has answered the request.
func (s *Server) decodePayload(w http.ResponseWriter, r *http.Request) (webhook.Payload, bool) {
	var p webhook.Payload
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPayloadBytes))
	if err != nil {
		reply(w, http.StatusBadRequest, fmt.Sprintf("reading the request body failed: %v", err))
		return p, false
	}
	if err := json.Unmarshal(b, &p); err != nil {
		s.log.WithError(err).Warn("Decoding the request body failed")
		reply(w, http.StatusBadRequest, fmt.Sprintf("decoding the request body failed: %v", err))
		return p, false
	}
	// Unlike Flagger, which accepts an empty payload as the canary "." and
	// opens its gate, a payload must name its canary.
	if p.Name == "" || p.Namespace == "" {
		reply(w, http.StatusBadRequest, "name and namespace are required")
		return p, false
	}
	if s.namespace != nil && !s.namespace.MatchString(p.Namespace) {
		s.log.WithFields(canaryFields(p)).Warn("Namespace not allowed by -namespace-regexp")
		reply(w, http.StatusForbidden, fmt.Sprintf("namespace %s is not allowed to use this load tester", p.Namespace))
		return p, false
	}
	return p, true
}

// canaryFields are the log fields that name a payload's canary.
func canaryFields(p webhook.Payload) logrus.Fields {
	return logrus.Fields{"canary": p.Name, "namespace": p.Namespace}
}

// reply writes a plain-text response.
func reply(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// replyError answers a task that could not start.
func replyError(w http.ResponseWriter, err error) {
	switch {
	case isDenied(err):
		reply(w, http.StatusForbidden, err.Error())
	case errors.Is(err, errShuttingDown):
		reply(w, http.StatusServiceUnavailable, err.Error())
	default:
		reply(w, http.StatusInternalServerError, err.Error())
	}
}
