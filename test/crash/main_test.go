package crash

import (
	"os"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	clientset "github.com/serin-dev/serin/pkg/client/clientset/versioned"
	"github.com/serin-dev/serin/test/lib/cluster"
)

// env is the control plane every run of the package shares, and the
// harness' own clients (never counted, never failed).
type env struct {
	rest    *rest.Config
	kube    kubernetes.Interface
	flagger clientset.Interface
	gateway gatewayclient.Interface
	dynamic dynamic.Interface
}

// testEnv is set by TestMain.
var testEnv *env

var everything = labels.Everything()

// One kube-apiserver and etcd serve every run: starting them costs a few
// seconds, and each run has its own namespace.
func TestMain(m *testing.M) {
	os.Exit(cluster.Main(m, cluster.Options{
		CRDPaths:   []string{filepath.Join("..", "..", "artifacts", "flagger", "crd.yaml")},
		GatewayAPI: true,
		// The KEDA scenarios' ScaledObjects (keda_test.go).
		KEDA: true,
		// Each run creates three Services, and nothing deletes them (no
		// namespace controller in this tier): the harness' /24 would be
		// full after some eighty runs.
		APIServerArgs: []string{"--service-cluster-ip-range", "10.0.0.0/16"},
	}, func(c *cluster.Cluster) {
		cfg := rest.CopyConfig(c.Config)
		// Runs go in parallel; client-side throttling would only add
		// real time to fake-time releases.
		cfg.QPS, cfg.Burst = 1000, 2000
		// The API server warns at every finalizer write that Flagger's
		// finalizer name has no path; hundreds of runs would print it.
		cfg.WarningHandler = rest.NoWarnings{}
		testEnv = &env{
			rest:    cfg,
			kube:    kubernetes.NewForConfigOrDie(cfg),
			flagger: clientset.NewForConfigOrDie(cfg),
			gateway: gatewayclient.NewForConfigOrDie(cfg),
			dynamic: dynamic.NewForConfigOrDie(cfg),
		}
	}))
}
