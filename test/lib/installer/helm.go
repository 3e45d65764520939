package installer

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/test/lib/manifest"
	"github.com/serin-dev/serin/test/lib/testbin"
)

const (
	// Chart is Serin's Helm chart, relative to the repository's top directory.
	Chart = "artifacts/charts/serin"
	// Release is the release name of the tests: with it the chart names its
	// objects as kustomize/base does.
	Release = "serin"
)

// GatewayAPIValues are the --set arguments with which the chart renders
// what kustomize/gatewayapi does: the provider and Prometheus of its patch.
var GatewayAPIValues = []string{
	"--set", "meshProvider=gatewayapi:v1",
	"--set", "metricsServer=http://prometheus.istio-system:9090",
}

// Helm returns the helm binary that hack/testbin.sh builds, or an error
// saying how to build it.
func Helm() (string, error) {
	dir, err := testbin.Dir("SERIN_HELM_DIR")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "helm")
	if _, err := os.Stat(bin); err != nil {
		return "", testbin.MissingError("helm", "about 3 minutes on 2 cores", bin)
	}
	return bin, nil
}

// RunHelm runs helm with args in the repository's top directory, with
// KUBECONFIG set to kubeconfig when it is not empty and Helm's own
// directories in dir (so that no user configuration or cache is read or
// written), and returns its standard output; the error carries standard
// error.
func RunHelm(ctx context.Context, dir, kubeconfig string, args ...string) ([]byte, error) {
	helm, err := Helm()
	if err != nil {
		return nil, err
	}
	root, err := testbin.RepoRoot()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, helm, args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(),
		"HELM_CONFIG_HOME="+filepath.Join(dir, "config"),
		"HELM_CACHE_HOME="+filepath.Join(dir, "cache"),
		"HELM_DATA_HOME="+filepath.Join(dir, "data"),
	)
	if kubeconfig != "" {
		cmd.Env = append(cmd.Env, "KUBECONFIG="+kubeconfig)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("helm %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes(), nil
}

// RenderChart returns the objects of `helm template` of the chart as the
// release Release in Namespace, with the extra arguments (--set ...).
func RenderChart(ctx context.Context, dir string, args ...string) ([]*unstructured.Unstructured, error) {
	out, err := RunHelm(ctx, dir, "", append([]string{"template", Release, Chart, "--namespace", Namespace}, args...)...)
	if err != nil {
		return nil, err
	}
	return manifest.Decode(bytes.NewReader(out))
}
