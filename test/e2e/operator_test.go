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
	"time"

	"github.com/serin-dev/serin/test/lib/cluster"
	"github.com/serin-dev/serin/test/lib/installer"
	"github.com/serin-dev/serin/test/lib/must"
	"github.com/serin-dev/serin/test/lib/proc"
)

// operatorStopGrace is how long the operator gets to shut down on SIGTERM before SIGKILL.
const operatorStopGrace = 10 * time.Second

// operator is the serin binary under test, built from this tree.
type operator struct {
	process *proc.Process
	port    int
}

// startOperator builds cmd/serin and runs it against the cluster as the
// tutorial configures it (Gateway API v1, the Prometheus of the test),
// with leader election on, as the manifests ship it. It authenticates as
// the serin ServiceAccount bound to the ClusterRole of kustomize/base, not
// as an admin: every scenario also proves that the role is sufficient. It is started through
// proc, whose single spawner thread keeps the parent-death signal tied to
// the test binary rather than to whichever thread this goroutine runs on.
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
	kubeconfig, err := installer.ServiceAccountKubeconfig(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("serin ServiceAccount: %w", err)
	}
	p, err := proc.Start("serin", filepath.Join(c.Dir, "logs", "serin.log"), bin,
		"-kubeconfig", kubeconfig,
		"-mesh-provider", "gatewayapi:v1",
		"-metrics-server", prometheusURL,
		"-port", strconv.Itoa(port),
		"-enable-leader-election",
		"-leader-election-namespace", "serin-system",
		"-log-level", "debug",
	)
	if err != nil {
		return nil, err
	}
	op := &operator{process: p, port: port}
	ready := fmt.Sprintf("http://127.0.0.1:%d/readyz", port)
	err = must.Poll(time.Minute, 200*time.Millisecond, func() (bool, error) {
		select {
		case <-p.Exited():
			return true, nil // reported below, with the log
		default:
		}
		resp, err := http.Get(ready)
		if err != nil {
			return false, err
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	select {
	case <-p.Exited():
		return nil, p.Failure("exited before it was ready (%v)", p.ExitErr())
	default:
	}
	if err != nil {
		op.stop()
		return nil, p.Failure("was not ready at %s: %v", ready, err)
	}
	return op, nil
}

// metricsURL is the operator's metrics endpoint.
func (o *operator) metricsURL() string {
	return fmt.Sprintf("http://127.0.0.1:%d/metrics", o.port)
}

// stop sends SIGTERM and waits for the graceful shutdown, with SIGKILL after
// operatorStopGrace.
func (o *operator) stop() {
	if err := o.process.Stop(operatorStopGrace); err != nil {
		fmt.Fprintln(os.Stderr, "stop serin:", err)
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
