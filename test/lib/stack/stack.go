package stack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/serin-dev/serin/test/lib/cluster"
	"github.com/serin-dev/serin/test/lib/kubelet"
	"github.com/serin-dev/serin/test/lib/proc"
	"github.com/serin-dev/serin/test/lib/prometheus"
	"github.com/serin-dev/serin/test/lib/sandbox"
	"github.com/serin-dev/serin/test/lib/servicenet"
	"github.com/serin-dev/serin/test/lib/testbin"
)

// Options configures Start.
type Options struct {
	// Dir receives the logs (serin.log, traefik.log, pods/<ns>_<pod>/<container>.log) and the
	// world's files. It must exist.
	Dir string
	// Serin and Loadtester are the binaries of cmd/serin and cmd/loadtester to run.
	Serin, Loadtester string
	// Nodes is the number of Nodes the pod runner registers (local-0, local-1, ...); 0 means 2.
	Nodes int
	// Logf receives progress lines; nil discards them.
	Logf func(format string, args ...any)
}

// Stack is a running world. Its fields are read-only.
type Stack struct {
	// Dir is Options.Dir.
	Dir string
	// Cluster is the control plane; its admin kubeconfig is Cluster.KubeconfigPath.
	Cluster *cluster.Cluster
	// Kube is an admin client.
	Kube kubernetes.Interface
	// GatewayURL is Traefik's web entry point, e.g. http://127.0.0.1:8000.
	GatewayURL string
	// PrometheusURL is the Prometheus that the operator and the MetricTemplates query.
	PrometheusURL string
	// Kubelet runs the Pods; PodLogs finds their output.
	Kubelet *kubelet.Kubelet

	logf     func(format string, args ...any)
	procs    []*proc.Process
	net      *servicenet.Network
	prom     *prometheus.Server
	stopOnce sync.Once
	stopErr  error
}

// Fixed addresses in the world: nothing else listens there.
const (
	operatorPort   = 8090
	scrapeInterval = time.Second
)

// Start brings the world up, in dependency order, and returns once every part answers. On
// failure it stops what it started. ctx bounds the start only.
func Start(ctx context.Context, opts Options) (_ *Stack, err error) {
	if !sandbox.InWorld() {
		return nil, errors.New("stack: Start must run inside a sandbox world (see sandbox.RunInWorld)")
	}
	s := &Stack{Dir: opts.Dir, GatewayURL: "http://127.0.0.1:" + strconv.Itoa(GatewayPort), logf: opts.Logf}
	if s.logf == nil {
		s.logf = func(string, ...any) {}
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, s.Stop())
		}
	}()
	traefik, err := binary("SERIN_TRAEFIK_DIR", "traefik", "~5 min (and 3.4 GB of RAM) on 2 cores")
	if err != nil {
		return nil, err
	}
	podinfo, err := binary("SERIN_PODINFO_DIR", "podinfo", "~30 s")
	if err != nil {
		return nil, err
	}
	if err := sandbox.SetUpWorld(s.Dir, sandbox.GatewayIP); err != nil {
		return nil, err
	}
	step := s.timed
	if err := step("control plane", func() error { return s.startCluster(ctx) }); err != nil {
		return nil, err
	}
	if err := step("service network and DNS", func() error { return s.startServiceNetwork(ctx) }); err != nil {
		return nil, err
	}
	if err := step("pod runner", func() error { return s.startKubelet(ctx, opts, filepath.Dir(podinfo)) }); err != nil {
		return nil, err
	}
	if err := step("Traefik", func() error { return s.startTraefik(ctx, traefik) }); err != nil {
		return nil, err
	}
	if err := step("Prometheus", func() error { return s.startPrometheus(ctx) }); err != nil {
		return nil, err
	}
	if err := step("serin", func() error { return s.startOperator(ctx, opts.Serin) }); err != nil {
		return nil, err
	}
	return s, nil
}

// timed runs one start step and reports how long it took.
func (s *Stack) timed(name string, fn func() error) error {
	began := time.Now()
	if err := fn(); err != nil {
		return fmt.Errorf("starting the %s: %w", name, err)
	}
	s.logf("stack: %s up in %s", name, time.Since(began).Round(10*time.Millisecond))
	return nil
}

// startCluster starts the control plane without KWOK nodes (the pod runner registers its own).
// The API server listens on every address of the world, so that Pods reach it through the
// kubernetes Service; the world is private, so that exposes it to nothing else.
func (s *Stack) startCluster(ctx context.Context) error {
	root, err := testbin.RepoRoot()
	if err != nil {
		return err
	}
	c, err := cluster.Start(ctx, cluster.Options{
		Full:          true,
		FakeNodes:     -1,
		GatewayAPI:    true,
		CRDPaths:      []string{filepath.Join(root, "artifacts", "flagger", "crd.yaml")},
		APIServerArgs: []string{"--bind-address=0.0.0.0"},
	})
	if err != nil {
		return err
	}
	s.Cluster = c
	if s.Kube, err = kubernetes.NewForConfig(c.Config); err != nil {
		return err
	}
	u, err := url.Parse(c.Config.Host)
	if err != nil {
		return err
	}
	_, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		return err
	}
	p, _ := strconv.Atoi(port)
	// The API server's endpoint reconciler is off in the harness (it refuses a loopback address).
	return createEndpointSlice(ctx, s.Kube, "default", "kubernetes", "https", int32(p))
}

func (s *Stack) startServiceNetwork(ctx context.Context) (err error) {
	s.net, err = servicenet.Start(ctx, servicenet.Config{
		Client: s.Kube, DNSAddr: net.JoinHostPort(sandbox.GatewayIP, "53"), Logf: s.logf,
	})
	return err
}

func (s *Stack) startKubelet(ctx context.Context, opts Options, podinfoDir string) (err error) {
	n := opts.Nodes
	if n <= 0 {
		n = 2
	}
	nodes := make([]string, n)
	for i := range nodes {
		nodes[i] = fmt.Sprintf("local-%d", i)
	}
	podsDir := filepath.Join(s.Dir, "pods")
	if err := os.MkdirAll(podsDir, 0o755); err != nil {
		return err
	}
	s.Kubelet, err = kubelet.Start(ctx, kubelet.Config{
		Client: s.Kube, CAData: s.Cluster.Config.CAData, Nodes: nodes,
		Images: images(podinfoDir, opts.Loadtester), Dir: podsDir, Logf: s.logf,
	})
	return err
}

func (s *Stack) startPrometheus(ctx context.Context) (err error) {
	cfg, err := prometheusConfig(s.Cluster.KubeconfigPath, traefikAdmin, scrapeInterval)
	if err != nil {
		return err
	}
	s.prom, err = prometheus.Start(ctx, prometheus.Options{Config: cfg})
	if err != nil {
		return err
	}
	s.PrometheusURL = s.prom.URL()
	return nil
}

// startOperator runs serin as the tutorial configures it: Gateway API v1 and the Prometheus
// of the world.
func (s *Stack) startOperator(ctx context.Context, bin string) error {
	p, err := proc.Start("serin", filepath.Join(s.Dir, "serin.log"), bin,
		"-kubeconfig", s.Cluster.KubeconfigPath,
		"-mesh-provider", "gatewayapi:v1",
		"-metrics-server", s.PrometheusURL,
		"-port", strconv.Itoa(operatorPort),
		"-log-level", "info",
	)
	if err != nil {
		return err
	}
	s.procs = append(s.procs, p)
	return waitHTTP(ctx, p, fmt.Sprintf("http://127.0.0.1:%d/readyz", operatorPort))
}

// Stop stops everything in reverse order: the operator and Traefik, Prometheus, the Pods, the
// service network, the control plane. The world itself ends with the process.
func (s *Stack) Stop() error {
	s.stopOnce.Do(func() {
		errs := []error{proc.StopAll(s.procs, 5*time.Second)}
		if s.prom != nil {
			errs = append(errs, s.prom.Stop())
		}
		if s.Kubelet != nil {
			s.Kubelet.Stop()
		}
		if s.net != nil {
			s.net.Stop()
		}
		if s.Cluster != nil {
			errs = append(errs, s.Cluster.Stop())
		}
		s.stopErr = errors.Join(errs...)
	})
	return s.stopErr
}

// binary returns the path of a binary that hack/testbin.sh builds into the directory it prints
// for key, or an error saying how to build it.
func binary(key, name, cost string) (string, error) {
	dir, err := testbin.Dir(key)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, name)
	if _, err := os.Stat(bin); err != nil {
		return "", testbin.MissingError(name, cost, bin)
	}
	return bin, nil
}

// waitHTTP polls url until it answers 200, the process exits or ctx ends.
func waitHTTP(ctx context.Context, p *proc.Process, url string) error {
	client := &http.Client{Timeout: time.Second}
	for {
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.Exited():
			return p.Failure("exited before it was ready (%v)", p.ExitErr())
		case <-ctx.Done():
			return p.Failure("was not ready at %s: %v", url, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
