package chaos

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/serin-dev/serin/test/lib/must"
	"github.com/serin-dev/serin/test/lib/proc"
)

// stopGrace is how long an operator gets to shut down on SIGTERM before SIGKILL, as long as
// Kubernetes' default terminationGracePeriodSeconds.
const stopGrace = 30 * time.Second

// operatorSeq numbers the operator processes of the whole run, for their log file names.
var operatorSeq atomic.Int64

// operator is one serin process under test. Each process is fresh: nothing survives a kill
// but what is in the cluster.
type operator struct {
	process *proc.Process
	port    int
	log     string
}

// operatorConfig says how to run the operators of one test.
type operatorConfig struct {
	// namespace is the only namespace the operator watches (-namespace), and where its
	// leader Lease lives.
	namespace string
	// promURL is -metrics-server.
	promURL string
	// leaderElection runs it with -enable-leader-election, as the manifests ship it.
	leaderElection bool
	// extra are more flags.
	extra []string
}

// startOperator runs the serin binary as the tutorial configures it (Gateway API v1), as the
// serin ServiceAccount, and waits until it answers /readyz. It is started through proc, so it
// dies with the test binary; the test stops or kills it.
func startOperator(t *testing.T, cfg operatorConfig) *operator {
	t.Helper()
	op, err := launchOperator(cfg)
	require.NoError(t, err)
	return op
}

// launchOperator is startOperator for goroutines that must not call t.FailNow.
func launchOperator(cfg operatorConfig) (*operator, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	log := filepath.Join(env.cluster.Dir, "logs", fmt.Sprintf("serin-%s-%d.log", cfg.namespace, operatorSeq.Add(1)))
	args := []string{
		"-kubeconfig", env.kubeconfig,
		"-mesh-provider", "gatewayapi:v1",
		"-metrics-server", cfg.promURL,
		"-namespace", cfg.namespace,
		"-port", strconv.Itoa(port),
		"-log-level", "debug",
	}
	if cfg.leaderElection {
		args = append(args, "-enable-leader-election", "-leader-election-namespace", cfg.namespace)
	}
	p, err := proc.Start("serin", log, env.serin, append(args, cfg.extra...)...)
	if err != nil {
		return nil, err
	}
	op := &operator{process: p, port: port, log: log}
	ready := fmt.Sprintf("http://127.0.0.1:%d/readyz", port)
	err = must.Poll(time.Minute, 100*time.Millisecond, func() (bool, error) {
		if op.exited() {
			return true, nil
		}
		resp, err := http.Get(ready)
		if err != nil {
			return false, err
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	if op.exited() {
		return nil, p.Failure("exited before it was ready (%v)", p.ExitErr())
	}
	if err != nil {
		_ = p.Stop(stopGrace)
		return nil, p.Failure("was not ready at %s: %v", ready, err)
	}
	return op, nil
}

// kill sends SIGKILL, as kill -9 or the OOM killer would, and waits until the process is gone.
func (o *operator) kill() {
	_ = syscall.Kill(o.process.PID(), syscall.SIGKILL) // fails only if it has exited already
	<-o.process.Exited()
}

// stop sends SIGTERM and waits for the shutdown, with SIGKILL after stopGrace.
func (o *operator) stop() error { return o.process.Stop(stopGrace) }

// exited reports whether the process has ended.
func (o *operator) exited() bool {
	select {
	case <-o.process.Exited():
		return true
	default:
		return false
	}
}

// leads reports whether this process has acquired the leader lease, from its log.
func (o *operator) leads() bool { return o.logContains("Acquired the leader lease") }

// logContains reports whether a line of the operator's log contains text.
func (o *operator) logContains(text string) bool {
	f, err := os.Open(o.log)
	if err != nil {
		return false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for s.Scan() {
		if strings.Contains(s.Text(), text) {
			return true
		}
	}
	return false
}

// logLines returns the lines of the operator's log that contain text.
func (o *operator) logLines(text string) []string {
	data, err := os.ReadFile(o.log)
	if err != nil {
		return nil
	}
	var out []string
	for line := range strings.SplitSeq(string(data), "\n") {
		if strings.Contains(line, text) {
			out = append(out, line)
		}
	}
	return out
}

// stopOnCleanup stops the operator when the test ends, if it is still running.
func stopOnCleanup(t *testing.T, op *operator) {
	t.Cleanup(func() {
		if !op.exited() {
			_ = op.stop()
		}
	})
}

// supervisor keeps one operator running as a Deployment's kubelet would (restartPolicy
// Always): whenever the process exits, by a fault or by itself, a fresh one is started.
type supervisor struct {
	cfg  operatorConfig
	mu   sync.Mutex
	cur  *operator
	exit []string // how each process that exited by itself ended
	stop chan struct{}
	done chan struct{}
}

// supervise starts an operator and keeps it running until the test ends.
func supervise(t *testing.T, cfg operatorConfig) *supervisor {
	t.Helper()
	s := &supervisor{cfg: cfg, cur: startOperator(t, cfg), stop: make(chan struct{}), done: make(chan struct{})}
	go s.run()
	t.Cleanup(func() {
		close(s.stop)
		<-s.done
	})
	return s
}

func (s *supervisor) run() {
	defer close(s.done)
	for {
		cur := s.current()
		select {
		case <-s.stop:
			_ = cur.stop()
			return
		case <-cur.process.Exited():
		}
		s.mu.Lock()
		s.exit = append(s.exit, fmt.Sprintf("%v: %s", cur.process.ExitErr(), lastLine(cur.log)))
		s.mu.Unlock()
		for {
			next, err := launchOperator(s.cfg)
			if err == nil {
				s.mu.Lock()
				s.cur = next
				s.mu.Unlock()
				break
			}
			select {
			case <-s.stop:
				return
			case <-time.After(time.Second): // as a kubelet's back-off, shortened
			}
		}
	}
}

// current is the running process.
func (s *supervisor) current() *operator {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

// exits returns how the processes that ended by themselves ended.
func (s *supervisor) exits() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.exit...)
}

// lastLine is the last non-empty line of a log.
func lastLine(path string) string {
	tail := strings.TrimSpace(proc.LogTail(path, 2048))
	if i := strings.LastIndexByte(tail, '\n'); i >= 0 {
		return tail[i+1:]
	}
	return tail
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
