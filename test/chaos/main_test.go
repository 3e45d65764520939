package chaos

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	clientset "github.com/serin-dev/serin/pkg/client/clientset/versioned"
	"github.com/serin-dev/serin/test/lib/cluster"
	"github.com/serin-dev/serin/test/lib/installer"
	"github.com/serin-dev/serin/test/lib/metricsexporter"
	"github.com/serin-dev/serin/test/lib/prometheus"
)

const (
	// LongEnv names the environment variable that, set to 1, runs the long versions of the
	// fault runs (more releases, more faults); make test-chaos sets it.
	LongEnv = "SERIN_CHAOS_LONG"
	// BinaryEnv names the environment variable that, when set, is the path of a serin binary
	// to test instead of building cmd/serin from this tree (to measure a given commit).
	BinaryEnv = "SERIN_CHAOS_BINARY"
)

// The environment every test shares: one control plane, one Prometheus scraping one exporter,
// the serin binary built once, and a kubeconfig of the serin ServiceAccount.
var env struct {
	cluster  *cluster.Cluster
	kube     kubernetes.Interface
	flagger  clientset.Interface
	gateway  gatewayclient.Interface
	exporter *metricsexporter.Exporter
	prom     *prometheus.Server
	// serin is the operator binary built from this tree.
	serin string
	// kubeconfig authenticates as the serin ServiceAccount, bound to kustomize/base's roles.
	kubeconfig string
	// long is set by LongEnv.
	long bool
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	env.long, _ = strconv.ParseBool(os.Getenv(LongEnv))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c, err := cluster.Start(ctx, cluster.Options{
		Full:       true,
		CRDPaths:   []string{filepath.Join("..", "..", "artifacts", "flagger", "crd.yaml")},
		GatewayAPI: true,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start control plane:", err)
		return 1
	}
	defer func() {
		if err := c.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stop control plane:", err)
		}
	}()
	env.cluster = c
	env.kube = kubernetes.NewForConfigOrDie(c.Config)
	env.flagger = clientset.NewForConfigOrDie(c.Config)
	env.gateway = gatewayclient.NewForConfigOrDie(c.Config)
	env.exporter = metricsexporter.New()
	defer env.exporter.Close()

	prom, err := prometheus.Start(ctx, prometheus.Options{ScrapeTargets: []string{env.exporter.Addr()}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start prometheus:", err)
		return 1
	}
	defer func() { _ = prom.Stop() }()
	env.prom = prom

	env.serin = os.Getenv(BinaryEnv)
	if env.serin == "" {
		env.serin = filepath.Join(c.Dir, "serin")
		if out, err := exec.CommandContext(ctx, "go", "build", "-o", env.serin, "../../cmd/serin").CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "go build serin: %v\n%s", err, out)
			return 1
		}
	}
	if env.kubeconfig, err = installer.ServiceAccountKubeconfig(ctx, c); err != nil {
		fmt.Fprintln(os.Stderr, "serin ServiceAccount:", err)
		return 1
	}
	if err := applyGateway(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}
