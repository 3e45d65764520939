package cluster

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"
)

// startTimeout bounds Start in StartForTest and Main; a full cold start takes about 5 s.
const startTimeout = 3 * time.Minute

// StartForTest starts a cluster for one test (or one parent test and its subtests) and stops
// it in t.Cleanup. It fails the test if the cluster cannot start, for instance because the
// binaries have not been built; it never skips.
func StartForTest(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	ctx, cancel := context.WithTimeout(t.Context(), startTimeout)
	defer cancel()
	c, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("starting the test cluster: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("stopping the test cluster: %v", err)
		}
		if c.keep {
			t.Logf("cluster: %s=1, kept %s", KeepEnv, c.Dir)
		}
	})
	return c
}

// Main runs a package's tests against one shared cluster; call it from TestMain:
//
//	var testCluster *cluster.Cluster
//
//	func TestMain(m *testing.M) {
//		os.Exit(cluster.Main(m, cluster.Options{GatewayAPI: true}, func(c *cluster.Cluster) { testCluster = c }))
//	}
//
// It starts the cluster, hands it to set, runs the tests, stops the cluster and returns the
// exit code (1 if the cluster could not start or stop).
func Main(m *testing.M, opts Options, set func(*Cluster)) int {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	c, err := Start(ctx, opts)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "starting the test cluster: %v\n", err)
		return 1
	}
	set(c)
	code := m.Run()
	if err := c.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "stopping the test cluster: %v\n", err)
		code = max(code, 1)
	}
	if c.keep {
		fmt.Fprintf(os.Stderr, "cluster: %s=1, kept %s\n", KeepEnv, c.Dir)
	}
	return code
}
