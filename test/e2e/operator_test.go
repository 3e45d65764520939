package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/serin-dev/serin/test/cluster"
	"github.com/serin-dev/serin/test/must"
)

// operator is the serin binary under test, built from this tree.
type operator struct {
	cmd     *exec.Cmd
	port    int
	logPath string
}

// startOperator builds cmd/serin and runs it against the cluster as the
// tutorial configures it (Gateway API v1, the Prometheus of the test),
// with leader election on, as the manifests ship it.
func startOperator(ctx context.Context, c *cluster.Cluster, prometheusURL string) (*operator, error) {
	bin := filepath.Join(c.Dir, "serin")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "../../cmd/serin")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build: %v\n%s", err, out)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	op := &operator{port: port, logPath: filepath.Join(c.Dir, "logs", "serin.log")}
	log, err := os.Create(op.logPath)
	if err != nil {
		return nil, err
	}
	op.cmd = exec.Command(bin,
		"-kubeconfig", c.KubeconfigPath,
		"-mesh-provider", "gatewayapi:v1",
		"-metrics-server", prometheusURL,
		"-port", strconv.Itoa(port),
		"-enable-leader-election",
		"-leader-election-namespace", "default",
		"-log-level", "debug",
	)
	op.cmd.Stdout, op.cmd.Stderr = log, log
	op.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := op.cmd.Start(); err != nil {
		return nil, err
	}
	ready := fmt.Sprintf("http://127.0.0.1:%d/readyz", port)
	err = must.Poll(time.Minute, 200*time.Millisecond, func() (bool, error) {
		resp, err := http.Get(ready)
		if err != nil {
			return false, err
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		op.stop()
		out, _ := os.ReadFile(op.logPath)
		return nil, fmt.Errorf("serin not ready: %v\n%s", err, out)
	}
	return op, nil
}

// metricsURL is the operator's metrics endpoint.
func (o *operator) metricsURL() string {
	return fmt.Sprintf("http://127.0.0.1:%d/metrics", o.port)
}

// stop sends SIGTERM and waits for the graceful shutdown.
func (o *operator) stop() {
	_ = o.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = o.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = o.cmd.Process.Kill()
		<-done
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
