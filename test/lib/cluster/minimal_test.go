package cluster

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/serin-dev/serin/test/lib/testbin"
)

func TestMinimalControlPlaneWithGatewayAPI(t *testing.T) {
	t.Parallel()
	began := time.Now()
	c := StartForTest(t, Options{GatewayAPI: true})
	t.Logf("etcd + kube-apiserver + Gateway API CRDs ready in %s", since(began))
	ctx := t.Context()
	cs := kubernetes.NewForConfigOrDie(c.Config)

	version, err := cs.Discovery().ServerVersion()
	require.NoError(t, err)
	assert.Equal(t, pinnedKubernetesVersion(t), version.GitVersion)

	for _, gv := range []string{"gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1beta1"} {
		list, err := cs.Discovery().ServerResourcesForGroupVersion(gv)
		require.NoError(t, err, gv)
		assert.True(t, slices.ContainsFunc(list.APIResources, func(r metav1.APIResource) bool { return r.Name == "httproutes" }),
			"%s does not serve httproutes", gv)
	}

	// An HTTPRoute written as v1 reads back as v1beta1.
	dyn := dynamic.NewForConfigOrDie(c.Config)
	route := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "gateway.networking.k8s.io/v1",
		"kind":       "HTTPRoute",
		"metadata":   map[string]any{"name": "podinfo", "namespace": "default"},
		"spec": map[string]any{"rules": []any{map[string]any{"backendRefs": []any{
			map[string]any{"name": "podinfo-primary", "port": int64(9898), "weight": int64(90)},
			map[string]any{"name": "podinfo-canary", "port": int64(9898), "weight": int64(10)},
		}}}},
	}}
	httpRoutes := func(version string) schema.GroupVersionResource {
		return schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: version, Resource: "httproutes"}
	}
	_, err = dyn.Resource(httpRoutes("v1")).Namespace("default").Create(ctx, route, metav1.CreateOptions{})
	require.NoError(t, err)
	got, err := dyn.Resource(httpRoutes("v1beta1")).Namespace("default").Get(ctx, "podinfo", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "gateway.networking.k8s.io/v1beta1", got.GetAPIVersion())

	// The kubeconfig file is self-contained and authenticates as the admin.
	fromFile, err := clientcmd.BuildConfigFromFlags("", c.KubeconfigPath)
	require.NoError(t, err)
	_, err = kubernetes.NewForConfigOrDie(fromFile).CoreV1().Namespaces().Get(ctx, "kube-system", metav1.GetOptions{})
	assert.NoError(t, err)
	_, err = kubernetes.NewForConfigOrDie(c.TokenConfig()).CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	assert.NoError(t, err, "static admin token")

	// Other identities are authenticated but have no permissions until RBAC grants them.
	alice, err := c.UserConfig("alice", "developers")
	require.NoError(t, err)
	for name, cfg := range map[string]*rest.Config{"certificate user": alice, "impersonated user": c.ImpersonatedConfig("bob")} {
		_, err := kubernetes.NewForConfigOrDie(cfg).CoreV1().Secrets("default").List(ctx, metav1.ListOptions{})
		assert.True(t, apierrors.IsForbidden(err), "%s: want Forbidden, got %v", name, err)
	}

	stopAndAssertGone(t, c)
}

// pinnedKubernetesVersion is the version hack/testbin.sh pins, read from its cache layout
// (kubernetes-vX.Y.Z) so that a pin bump needs no change here.
func pinnedKubernetesVersion(t *testing.T) string {
	t.Helper()
	dir, err := testbin.Dir("SERIN_KUBERNETES_DIR")
	require.NoError(t, err)
	v := strings.TrimPrefix(filepath.Base(dir), "kubernetes-")
	require.Regexp(t, `^v1\.\d+\.\d+$`, v)
	return v
}
