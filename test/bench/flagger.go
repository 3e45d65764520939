package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/serin-dev/serin/test/lib/testbin"
)

// The operators the bench can run.
const (
	operatorSerin   = "serin"
	operatorFlagger = "flagger"
)

// serinLimits are Serin's default client and worker limits (cmd/serin
// flags.go: -kubeconfig-qps 500, -kubeconfig-burst 1000, -threadiness 128),
// given to Flagger under its own flag names so that a comparison can tell
// Flagger's design from its defaults (100 QPS, burst 250, 2 workers).
var serinLimits = []string{"-kubeconfig-qps", "500", "-kubeconfig-burst", "1000", "-threadiness", "128"}

// flaggerBinary returns the path of the pinned Flagger that
// `hack/testbin.sh flagger` builds.
func flaggerBinary() (string, error) {
	dir, err := testbin.Dir("SERIN_FLAGGER_DIR")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "flagger")
	if _, err := os.Stat(bin); err != nil {
		return "", testbin.MissingError("flagger", "about 5 minutes on 2 cores", bin)
	}
	return bin, nil
}

// flaggerLaunch runs Flagger with its default flags but for those it needs
// here: the kubeconfig, the Gateway API provider, the port, the Prometheus
// URL when the harness has one (as Serin gets it), and -log-level info, which
// Flagger's own manifests set (the binary's default is debug); then extra.
func flaggerLaunch(bin, kubeconfig string, port int, prometheusURL string, extra []string) launch {
	args := []string{"-kubeconfig", kubeconfig, "-mesh-provider", "gatewayapi:v1",
		"-port", strconv.Itoa(port), "-log-level", "info"}
	if prometheusURL != "" {
		args = append(args, "-metrics-server", prometheusURL)
	}
	return launch{name: operatorFlagger, bin: bin, args: append(args, extra...), readyPath: "/healthz"}
}

// defaultTimeout bounds each wait of a run of n canaries. Flagger at its
// default 100 QPS needs about a second per canary for the releases alone
// (961 s at 1,000 in issue 8), Serin a fraction of that.
func defaultTimeout(op string, n int) time.Duration {
	perCanary := 50 * time.Millisecond
	if op == operatorFlagger {
		perCanary = 1500 * time.Millisecond
	}
	return 5*time.Minute + time.Duration(n)*perCanary
}

// validOperator checks -operator.
func validOperator(op string) error {
	if op != operatorSerin && op != operatorFlagger {
		return fmt.Errorf("-operator must be %s or %s", operatorSerin, operatorFlagger)
	}
	return nil
}
