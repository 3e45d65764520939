package install

import (
	"github.com/serin-dev/serin/test/lib/installer"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/test/lib/cluster"
	"github.com/serin-dev/serin/test/lib/testbin"
)

// TestServerDryRun has the API server validate and admit every directory
// (schemas, defaulting, RBAC escalation checks) without storing anything.
// A dry run cannot create a namespace for the objects that follow, so the
// namespaces exist beforehand.
func TestServerDryRun(t *testing.T) {
	c := cluster.StartForTest(t, cluster.Options{GatewayAPI: true})
	for _, ns := range []string{installer.Namespace, "test"} {
		_, err := installer.RunKubectl(t.Context(), c.KubeconfigPath, "create", "namespace", ns)
		require.NoError(t, err)
	}
	overlay := readmeOverlay(t)
	for name, args := range map[string][]string{
		"base":           {"-k", "kustomize/base"},
		"gatewayapi":     {"-k", "kustomize/gatewayapi"},
		"podinfo":        {"-k", "kustomize/podinfo", "-n", "test"},
		"tester":         {"-k", "kustomize/tester", "-n", "test"},
		"README overlay": {"-k", overlay},
	} {
		t.Run(name, func(t *testing.T) {
			out, err := installer.RunKubectl(t.Context(), c.KubeconfigPath, append([]string{"apply", "--dry-run=server"}, args...)...)
			require.NoError(t, err)
			assert.Contains(t, string(out), "(server dry run)")
			assert.NotContains(t, string(out), "unchanged", "nothing was applied before")
		})
	}
}

// readmeOverlay writes the README's overlay beside copies of kustomize/base
// and kustomize/gatewayapi (as kustomize/mine, the README's example) and
// returns its directory.
func readmeOverlay(t *testing.T) string {
	t.Helper()
	blocks := readmeBlocks(t, "yaml")
	require.Len(t, blocks, 1, "the README documents one overlay")
	root, err := testbin.RepoRoot()
	require.NoError(t, err)
	tree := filepath.Join(t.TempDir(), "kustomize")
	require.NoError(t, os.CopyFS(filepath.Join(tree, "base"), os.DirFS(filepath.Join(root, "kustomize", "base"))))
	require.NoError(t, os.CopyFS(filepath.Join(tree, "gatewayapi"), os.DirFS(filepath.Join(root, "kustomize", "gatewayapi"))))
	mine := filepath.Join(tree, "mine")
	require.NoError(t, os.Mkdir(mine, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(mine, "kustomization.yaml"), []byte(strings.Join(blocks[0], "\n")+"\n"), 0o644))
	return mine
}

// TestReadmeOverlaySwitchesToV1beta1 checks the README's one-line patch: the
// flag it appends is the last -mesh-provider, the one the operator keeps.
func TestReadmeOverlaySwitchesToV1beta1(t *testing.T) {
	objs, err := installer.Render(t.Context(), readmeOverlay(t))
	require.NoError(t, err)
	for _, obj := range objs {
		if obj.GetKind() != "Deployment" {
			continue
		}
		containers, _, err := unstructured.NestedSlice(obj.Object, "spec", "template", "spec", "containers")
		require.NoError(t, err)
		args, _, err := unstructured.NestedStringSlice(containers[0].(map[string]any), "args")
		require.NoError(t, err)
		assert.Equal(t, "gatewayapi:v1beta1", flagValue(args, "mesh-provider"))
		assert.Equal(t, "http://prometheus.istio-system:9090", flagValue(args, "metrics-server"))
		return
	}
	t.Fatal("the overlay renders no Deployment")
}
