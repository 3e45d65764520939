package installer

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/test/lib/manifest"
	"github.com/serin-dev/serin/test/lib/testbin"
)

// KubectlEnv names the environment variable that overrides which kubectl runs.
const KubectlEnv = "SERIN_KUBECTL"

// Kubectl returns the kubectl to run: $SERIN_KUBECTL, else kubectl on PATH.
func Kubectl() (string, error) {
	if p := os.Getenv(KubectlEnv); p != "" {
		return p, nil
	}
	p, err := exec.LookPath("kubectl")
	if err != nil {
		return "", fmt.Errorf("kubectl is needed to render the kustomize directories: put it on PATH or set %s", KubectlEnv)
	}
	return p, nil
}

// RunKubectl runs kubectl with args in the repository's top directory, with
// KUBECONFIG set to kubeconfig when it is not empty, and returns its
// standard output; the error carries standard error.
func RunKubectl(ctx context.Context, kubeconfig string, args ...string) ([]byte, error) {
	kubectl, err := Kubectl()
	if err != nil {
		return nil, err
	}
	root, err := testbin.RepoRoot()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, kubectl, args...)
	cmd.Dir = root
	cmd.Env = os.Environ()
	if kubeconfig != "" {
		cmd.Env = append(cmd.Env, "KUBECONFIG="+kubeconfig)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("kubectl %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes(), nil
}

// Render returns the objects of `kubectl kustomize dir`, dir being absolute or relative
// to the repository's top directory (kustomize/base, ...), in output order.
func Render(ctx context.Context, dir string) ([]*unstructured.Unstructured, error) {
	out, err := RunKubectl(ctx, "", "kustomize", dir)
	if err != nil {
		return nil, err
	}
	return manifest.Decode(bytes.NewReader(out))
}
