package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	clientset "github.com/serin-dev/serin/pkg/client/clientset/versioned"
	"github.com/serin-dev/serin/test/lib/cluster"
	"github.com/serin-dev/serin/test/lib/metricsexporter"
	"github.com/serin-dev/serin/test/lib/prometheus"
)

// The environment every scenario shares: one control plane, one Prometheus
// scraping one exporter, one webhook receiver, one operator.
var (
	env struct {
		cluster  *cluster.Cluster
		kube     kubernetes.Interface
		flagger  clientset.Interface
		gateway  gatewayclient.Interface
		dyn      dynamic.Interface
		exporter *metricsexporter.Exporter
		prom     *prometheus.Server
		hooks    *hookServer
		operator *operator
	}
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	c, err := cluster.Start(ctx, cluster.Options{
		Full:       true,
		CRDPaths:   []string{filepath.Join("..", "..", "artifacts", "flagger", "crd.yaml")},
		GatewayAPI: true,
	})
	cancel()
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
	stop, err := setUp(c)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer stop()
	return m.Run()
}

// setUp starts what runs beside the cluster and returns its teardown.
func setUp(c *cluster.Cluster) (func(), error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	env.kube = kubernetes.NewForConfigOrDie(c.Config)
	env.flagger = clientset.NewForConfigOrDie(c.Config)
	env.gateway = gatewayclient.NewForConfigOrDie(c.Config)
	env.dyn = dynamic.NewForConfigOrDie(c.Config)
	env.exporter = metricsexporter.New()
	env.hooks = newHookServer()
	var teardown []func()
	stop := func() {
		for i := len(teardown) - 1; i >= 0; i-- {
			teardown[i]()
		}
	}
	teardown = append(teardown, env.exporter.Close, env.hooks.Close)

	prom, err := prometheus.Start(ctx, prometheus.Options{ScrapeTargets: []string{env.exporter.Addr()}})
	if err != nil {
		stop()
		return nil, fmt.Errorf("start prometheus: %w", err)
	}
	env.prom = prom
	teardown = append(teardown, func() { _ = prom.Stop() })

	if err := applyMetricTemplates(ctx); err != nil {
		stop()
		return nil, err
	}
	op, err := startOperator(ctx, c, prom.URL())
	if err != nil {
		stop()
		return nil, fmt.Errorf("start serin: %w", err)
	}
	env.operator = op
	teardown = append(teardown, op.stop)
	return stop, nil
}
