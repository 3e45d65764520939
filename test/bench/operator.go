package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/serin-dev/serin/test/lib/proc"
	"github.com/serin-dev/serin/test/lib/testbin"
)

// operator is the operator under test (serin, built from this tree, or
// Flagger, from the test-binary cache), run out of cluster as the
// operator's own user.
type operator struct {
	name    string
	cmd     *exec.Cmd
	port    int
	logPath string
	exited  chan struct{}
}

// launch is how to start one operator.
type launch struct {
	name string // serin or flagger: its key in the reports
	bin  string
	args []string
	// readyPath answers 200 once the operator's caches have synced.
	readyPath string
}

// buildOperator builds cmd/serin into dir.
func buildOperator(ctx context.Context, dir string) (string, error) {
	root, err := testbin.RepoRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "serin")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/serin")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/serin: %w\n%s", err, out)
	}
	return bin, nil
}

// serinLaunch runs bin with its default flags but for the kubeconfig, the
// provider the issue names, the port and, when given, the Prometheus URL;
// pprof only when profiles are wanted; then extra.
func serinLaunch(bin, kubeconfig string, port int, prometheusURL string, pprof bool, extra []string) launch {
	args := []string{"-kubeconfig", kubeconfig, "-mesh-provider", "gatewayapi:v1", "-port", strconv.Itoa(port)}
	if prometheusURL != "" {
		args = append(args, "-metrics-server", prometheusURL)
	}
	if pprof {
		args = append(args, "-pprof")
	}
	return launch{name: operatorSerin, bin: bin, args: append(args, extra...), readyPath: "/readyz"}
}

// startOperator starts l and waits until it is ready.
func startOperator(ctx context.Context, l launch, dir string, port int) (*operator, error) {
	op := &operator{name: l.name, port: port, logPath: filepath.Join(dir, l.name+".log"), exited: make(chan struct{})}
	log, err := os.Create(op.logPath)
	if err != nil {
		return nil, err
	}
	defer log.Close()
	op.cmd = exec.Command(l.bin, l.args...)
	op.cmd.Stdout, op.cmd.Stderr = log, log
	if err := proc.Spawn(op.cmd); err != nil {
		return nil, err
	}
	go func() { _ = op.cmd.Wait(); close(op.exited) }()
	err = poll(ctx, time.Minute, func() (bool, error) {
		select {
		case <-op.exited:
			return false, fmt.Errorf("%s exited: %s", op.name, op.cmd.ProcessState)
		default:
		}
		resp, err := http.Get(op.url(l.readyPath))
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		op.stop()
		return nil, fmt.Errorf("%s not ready (log %s): %w", op.name, op.logPath, err)
	}
	return op, nil
}

func (o *operator) pid() int { return o.cmd.Process.Pid }

func (o *operator) url(path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", o.port, path)
}

// get reads one of the operator's HTTP endpoints.
func (o *operator) get(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, o.url(path), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return io.ReadAll(resp.Body)
}

// alive returns an error if the operator has exited.
func (o *operator) alive() error {
	select {
	case <-o.exited:
		return fmt.Errorf("%s exited (%s); log %s", o.name, o.cmd.ProcessState, o.logPath)
	default:
		return nil
	}
}

// stop sends SIGTERM and waits for the graceful shutdown.
func (o *operator) stop() {
	_ = o.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-o.exited:
	case <-time.After(15 * time.Second):
		_ = o.cmd.Process.Kill()
		<-o.exited
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
