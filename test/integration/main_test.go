package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	clientset "github.com/serin-dev/serin/pkg/client/clientset/versioned"
	"github.com/serin-dev/serin/test/lib/cluster"
)

// One control plane serves every test of the package: starting it costs a
// few seconds, and the tests use their own namespaces.
var (
	cfg        *rest.Config
	kubeconfig string
	kube       kubernetes.Interface
	flagger    clientset.Interface
	dyn        dynamic.Interface
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := cluster.Start(ctx, cluster.Options{
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
	cfg, kubeconfig = c.Config, c.KubeconfigPath
	kube = kubernetes.NewForConfigOrDie(cfg)
	flagger = clientset.NewForConfigOrDie(cfg)
	dyn = dynamic.NewForConfigOrDie(cfg)
	return m.Run()
}
