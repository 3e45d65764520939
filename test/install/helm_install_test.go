package install

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	authorizationv1 "k8s.io/api/authorization/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	clientset "github.com/serin-dev/serin/pkg/client/clientset/versioned"
	"github.com/serin-dev/serin/test/lib/cluster"
	"github.com/serin-dev/serin/test/lib/installer"
	"github.com/serin-dev/serin/test/lib/must"
)

// TestHelmInstall installs the chart as the README's "Install with Helm"
// section does, on a control plane with KWOK nodes, and checks what
// TestInstall checks of the kustomize install: the Deployment becomes
// Available, and the operator, run with the installed Deployment's
// arguments under the installed ServiceAccount and roles, leads and
// initialises the tutorial's Canary without a refused request. Then
// `helm uninstall` leaves the CRDs, and with them the Canary.
func TestHelmInstall(t *testing.T) {
	c := cluster.StartForTest(t, cluster.Options{
		Full:          true,
		GatewayAPI:    true,
		APIServerArgs: []string{"--enable-admission-plugins=OwnerReferencesPermissionEnforcement"},
	})
	ctx := t.Context()
	kube := kubernetes.NewForConfigOrDie(c.Config)
	bin := makeBuild(t)
	helmDir := t.TempDir()

	install := helmCommand(t)
	want := append([]string{"install", installer.Release, installer.Chart,
		"--namespace", installer.Namespace, "--create-namespace"}, installer.GatewayAPIValues...)
	require.Equal(t, want, install, "the README installs what the render tests check")
	began := time.Now()
	out, err := installer.RunHelm(ctx, helmDir, c.KubeconfigPath, install...)
	require.NoError(t, err, "%s", out)
	mustBeAvailable(t, kube, installer.Namespace, "serin", 2)
	t.Logf("helm %s (%s):\n%s", strings.Join(install, " "), time.Since(began).Round(time.Millisecond), out)

	kubeconfig, err := installer.TokenKubeconfig(ctx, c, installer.Namespace, installer.ServiceAccount)
	require.NoError(t, err)
	sa, err := installer.ClientFor(kubeconfig)
	require.NoError(t, err)
	must.Eventually(t, 30*time.Second, 100*time.Millisecond, func() (bool, error) {
		allowed, reason, err := installer.Allowed(ctx, sa, authorizationv1.ResourceAttributes{
			Verb: "watch", Group: "flagger.app", Resource: "canaries",
		})
		return allowed, fmt.Errorf("not allowed yet (%s): %v", reason, err)
	}, "the chart's ClusterRoleBinding to take effect")
	dep, err := kube.AppsV1().Deployments(installer.Namespace).Get(ctx, "serin", metav1.GetOptions{})
	require.NoError(t, err)
	require.Len(t, dep.Spec.Template.Spec.Containers, 1)
	op := startOperator(t, c, bin, kubeconfig, dep.Spec.Template.Spec.Containers[0].Args)

	blocks := readmeBlocks(t, "sh")
	require.Len(t, blocks, 3)
	runCommands(t, c, slices.Concat(commands(t, blocks[1]), commands(t, blocks[2])))
	assertBootstrapped(t, c, kube)
	assert.Empty(t, op.forbidden(t), "the operator was refused requests under the chart's roles")

	out, err = installer.RunHelm(ctx, helmDir, c.KubeconfigPath, "uninstall", installer.Release, "--namespace", installer.Namespace)
	require.NoError(t, err, "%s", out)
	// A deleted CRD goes on serving until its objects are gone: its
	// deletionTimestamp tells at once.
	crds := apiextensionsclient.NewForConfigOrDie(c.Config).ApiextensionsV1().CustomResourceDefinitions()
	for _, name := range []string{"canaries.flagger.app", "metrictemplates.flagger.app", "alertproviders.flagger.app"} {
		crd, err := crds.Get(ctx, name, metav1.GetOptions{})
		if assert.NoError(t, err, name) {
			assert.Nil(t, crd.DeletionTimestamp, "helm uninstall keeps %s", name)
		}
	}
	flagger := clientset.NewForConfigOrDie(c.Config)
	_, err = flagger.FlaggerV1beta1().Canaries("test").Get(ctx, "podinfo", metav1.GetOptions{})
	assert.NoError(t, err, "helm uninstall keeps the CRDs, and so the Canaries")
}

// helmCommand returns the arguments of the one helm command of the README's
// "Install with Helm" section, its continuation lines joined.
func helmCommand(t *testing.T) []string {
	t.Helper()
	blocks := readmeSectionBlocks(t, "Install with Helm", "sh")
	require.Len(t, blocks, 1)
	line := strings.ReplaceAll(strings.Join(blocks[0], "\n"), "\\\n", " ")
	require.NotContains(t, line, "\n", "one command")
	fields := strings.Fields(line)
	require.Equal(t, "helm", fields[0])
	return fields[1:]
}
