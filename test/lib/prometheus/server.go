package prometheus

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/serin-dev/serin/test/lib/proc"
)

const (
	// readyTimeout bounds the wait for /-/ready when ctx has a later deadline or none; the
	// server is usually ready in well under a second.
	readyTimeout = time.Minute
	// stopGrace is how long Stop waits after SIGTERM before it sends SIGKILL.
	stopGrace = 5 * time.Second
	// startAttempts is how often Start tries a new port when another process took the one
	// it had picked.
	startAttempts = 3
)

// errPortInUse marks a start that failed because the picked port was taken meanwhile.
var errPortInUse = errors.New("port already in use")

// Server is a running Prometheus. Stop it with Stop.
type Server struct {
	// Dir holds the configuration (prometheus.yml), the log (prometheus.log) and the TSDB.
	Dir string

	url      string
	api      promv1.API
	process  *proc.Process
	keep     bool
	logf     func(format string, args ...any)
	stopOnce sync.Once
	stopErr  error
}

// Start runs Prometheus on a free loopback port, scraping opts.ScrapeTargets, and returns once
// it answers /-/ready. ctx bounds the start only; the server runs until Stop. Targets are
// first scraped about 6 s after Start returns (Prometheus applies them on a 5 s tick): use
// WaitForSeries before expecting data.
func Start(ctx context.Context, opts Options) (*Server, error) {
	cfg, err := renderConfig(opts)
	if err != nil {
		return nil, err
	}
	bin, err := binaryPath()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "serin-prometheus-")
	if err != nil {
		return nil, err
	}
	keep := keepDir()
	fail := func(err error) (*Server, error) {
		if !keep {
			_ = os.RemoveAll(dir)
		}
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), cfg, 0o644); err != nil {
		return fail(err)
	}
	begin := time.Now()
	for attempt := 1; ; attempt++ {
		p, url, err := startServer(ctx, bin, dir)
		if err == nil {
			opts.logf("prometheus: ready at %s in %s (dir %s)", url, time.Since(begin).Round(time.Millisecond), dir)
			return newServer(dir, url, p, keep, opts)
		}
		if !errors.Is(err, errPortInUse) || attempt == startAttempts {
			return fail(err)
		}
		opts.logf("prometheus: its port was taken meanwhile, retrying with another (%d/%d)", attempt, startAttempts)
	}
}

// newServer wraps a running process.
func newServer(dir, url string, p *proc.Process, keep bool, opts Options) (*Server, error) {
	client, err := api.NewClient(api.Config{Address: url})
	if err != nil {
		_ = p.Stop(stopGrace)
		return nil, fmt.Errorf("building a prometheus client: %w", err)
	}
	return &Server{Dir: dir, url: url, api: promv1.NewAPI(client), process: p, keep: keep, logf: opts.logf}, nil
}

// startServer starts Prometheus on a free port and waits until it is ready.
func startServer(ctx context.Context, bin, dir string) (*proc.Process, string, error) {
	port, err := freePort()
	if err != nil {
		return nil, "", err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	p, err := proc.Start("prometheus", filepath.Join(dir, "prometheus.log"), bin,
		"--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--web.enable-lifecycle",
		"--log.level=info",
	)
	if err != nil {
		return nil, "", err
	}
	url := "http://" + addr
	if err := waitReady(ctx, url, p); err != nil {
		_ = p.Stop(stopGrace)
		return nil, "", err
	}
	return p, url, nil
}

// waitReady polls /-/ready until it answers 200, the process exits or ctx ends.
func waitReady(ctx context.Context, url string, p *proc.Process) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if ready(ctx, client, url) {
			return nil
		}
		select {
		case <-p.Exited():
			err := p.Failure("exited before it was ready (%v)", p.ExitErr())
			if strings.Contains(err.Error(), "address already in use") {
				return errors.Join(errPortInUse, err)
			}
			return err
		case <-ctx.Done():
			return p.Failure("was not ready at %s/-/ready: %v", url, ctx.Err())
		case <-tick.C:
		}
	}
}

// ready reports whether the server answers /-/ready with 200.
func ready(ctx context.Context, client *http.Client, url string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/-/ready", nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// URL returns the base URL of the server, e.g. http://127.0.0.1:41234.
func (s *Server) URL() string { return s.url }

// Stop sends SIGTERM to the server, SIGKILL if it is still running 5 s later, and removes Dir
// unless SERIN_KEEP_CLUSTER is set. Calling it again returns the first result.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		s.stopErr = s.process.Stop(stopGrace)
		if s.keep {
			s.logf("prometheus: %s is set, kept %s", KeepEnv, s.Dir)
			return
		}
		if err := os.RemoveAll(s.Dir); err != nil {
			s.stopErr = errors.Join(s.stopErr, err)
		}
	})
	return s.stopErr
}

// keepDir reports whether KeepEnv asks to keep the directory.
func keepDir() bool {
	keep, _ := strconv.ParseBool(os.Getenv(KeepEnv))
	return keep
}

// freePort returns a TCP port that was free on 127.0.0.1; another process may take it before
// Prometheus binds it, which Start detects and retries.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("reserving a loopback port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
