package install

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/serin-dev/serin/test/lib/installer"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/serin-dev/serin/test/lib/cluster"
	"github.com/serin-dev/serin/test/lib/must"
)

// accessReviews is what the operator's ServiceAccount may and may not do,
// as the API server's authorizer answers: the informers' cluster-wide list
// and watch, the writes the code makes, and the neighbours of each that the
// role leaves out.
var accessReviews = []struct {
	attrs   authorizationv1.ResourceAttributes
	allowed bool
}{
	// Informers, in every namespace.
	{ra("watch", "flagger.app", "canaries", "", ""), true},
	{ra("list", "flagger.app", "metrictemplates", "", ""), true},
	{ra("list", "flagger.app", "alertproviders", "", ""), true},
	{ra("watch", "apps", "deployments", "", ""), true},
	{ra("watch", "apps", "daemonsets", "", ""), true},
	{ra("watch", "autoscaling", "horizontalpodautoscalers", "", ""), true},
	{ra("watch", "", "services", "", ""), true},
	{ra("watch", "", "configmaps", "", ""), true},
	{ra("watch", "gateway.networking.k8s.io", "httproutes", "", ""), true},
	// Config tracking and MetricTemplate credentials: Secrets are watched by
	// metadata and the ones in use read with get (pkg/secretcache); list
	// still reads every Secret, as in Flagger.
	{ra("list", "", "secrets", "", ""), true},
	{ra("get", "", "secrets", "test", "podinfo-token"), true},
	// Writes of a canary release.
	{ra("update", "flagger.app", "canaries", "test", ""), true},
	{sub(ra("patch", "flagger.app", "canaries", "test", ""), "status"), true},
	{sub(ra("update", "flagger.app", "canaries", "test", ""), "status"), false},
	{sub(ra("update", "flagger.app", "canaries", "test", ""), "finalizers"), true},
	{ra("create", "apps", "deployments", "test", ""), true},
	{ra("patch", "apps", "deployments", "test", ""), true},
	{ra("create", "apps", "daemonsets", "test", ""), true},
	{ra("patch", "apps", "daemonsets", "test", ""), true},
	{ra("create", "autoscaling", "horizontalpodautoscalers", "test", ""), true},
	{ra("patch", "keda.sh", "scaledobjects", "test", ""), true},
	{ra("update", "", "services", "test", ""), true},
	{ra("create", "", "secrets", "test", ""), true},
	{ra("update", "gateway.networking.k8s.io", "httproutes", "test", ""), true},
	{ra("create", "", "events", "test", ""), true},
	{ra("patch", "", "events", "test", ""), true},
	// MetricTemplates of type keptn and externalmetrics.
	{ra("get", "metrics.keptn.sh", "keptnmetrics", "test", "response-time"), true},
	{ra("update", "metrics.keptn.sh", "keptnmetrics", "test", "response-time"), false},
	{ra("create", "metrics.keptn.sh", "analyses", "test", ""), true},
	{ra("delete", "metrics.keptn.sh", "analyses", "test", "slo-x7k2p"), true},
	{ra("list", "external.metrics.k8s.io", "queue_depth", "test", ""), true},
	{ra("get", "external.metrics.k8s.io", "queue_depth", "test", "x"), false},
	// The leader Lease, only in serin-system, and only that one by name.
	{ra("get", "coordination.k8s.io", "leases", installer.Namespace, "serin-leader"), true},
	{ra("update", "coordination.k8s.io", "leases", installer.Namespace, "serin-leader"), true},
	{ra("create", "coordination.k8s.io", "leases", installer.Namespace, ""), true},
	{ra("update", "coordination.k8s.io", "leases", installer.Namespace, "kube-scheduler"), false},
	{ra("update", "coordination.k8s.io", "leases", "kube-system", "serin-leader"), false},
	// Nothing is ever deleted: garbage collection follows the owner
	// references. OwnerReferencesPermissionEnforcement admits a change of
	// an object's owner references (pkg/owners) only from who may delete
	// it, though: delete on the kinds Serin generates, and no other.
	{ra("delete", "apps", "deployments", "test", ""), true},
	{ra("delete", "apps", "daemonsets", "test", ""), true},
	{ra("delete", "", "services", "test", ""), true},
	{ra("delete", "gateway.networking.k8s.io", "httproutes", "test", ""), true},
	{ra("delete", "flagger.app", "canaries", "test", ""), false},
	{ra("delete", "", "pods", "test", ""), false},
	{ra("delete", "", "namespaces", "", "test"), false},
	// Users own canaries and templates.
	{ra("create", "flagger.app", "canaries", "test", ""), false},
	{ra("patch", "flagger.app", "canaries", "test", ""), false},
	{ra("update", "flagger.app", "metrictemplates", "test", ""), false},
	// Nothing of pods, nodes, namespaces, Gateways, CRDs or RBAC.
	{ra("list", "", "pods", "", ""), false},
	{ra("create", "", "pods", "test", ""), false},
	{sub(ra("create", "", "pods", "test", "podinfo"), "exec"), false},
	{ra("list", "", "nodes", "", ""), false},
	{ra("create", "", "namespaces", "", ""), false},
	{ra("update", "gateway.networking.k8s.io", "gateways", "istio-ingress", ""), false},
	{ra("update", "apiextensions.k8s.io", "customresourcedefinitions", "", ""), false},
	{ra("create", "rbac.authorization.k8s.io", "clusterrolebindings", "", ""), false},
	{ra("escalate", "rbac.authorization.k8s.io", "clusterroles", "", ""), false},
	{ra("impersonate", "", "serviceaccounts", "kube-system", ""), false},
	{sub(ra("create", "", "serviceaccounts", installer.Namespace, "serin"), "token"), false},
	{ra("get", "apps", "deployments", "test", ""), false},
	{ra("list", "apps", "statefulsets", "", ""), false},
}

func ra(verb, group, resource, namespace, name string) authorizationv1.ResourceAttributes {
	return authorizationv1.ResourceAttributes{Verb: verb, Group: group, Resource: resource, Namespace: namespace, Name: name}
}

func sub(a authorizationv1.ResourceAttributes, subresource string) authorizationv1.ResourceAttributes {
	a.Subresource = subresource
	return a
}

// testAccessReviews asks the API server, as the operator's ServiceAccount,
// about every row of accessReviews.
func testAccessReviews(t *testing.T, kubeconfig string) {
	kube, err := installer.ClientFor(kubeconfig)
	require.NoError(t, err)
	for _, row := range accessReviews {
		a := row.attrs
		name := fmt.Sprintf("%s %s", a.Verb, a.Resource)
		if a.Subresource != "" {
			name += "/" + a.Subresource
		}
		if a.Group != "" {
			name += "." + a.Group
		}
		if a.Namespace != "" {
			name += " in " + a.Namespace
		}
		if a.Name != "" {
			name += " named " + a.Name
		}
		t.Run(name, func(t *testing.T) {
			allowed, reason, err := installer.Allowed(t.Context(), kube, a)
			require.NoError(t, err)
			assert.Equal(t, row.allowed, allowed, "reason: %q", reason)
		})
	}
}

// testLoadTesterRole runs the load tester with the arguments of the rendered
// Deployment and a token of its ServiceAccount, opens and closes a gate, and
// checks the gate's ConfigMap: get, create and update are enough.
func testLoadTesterRole(t *testing.T, c *cluster.Cluster, bin string) {
	kubeconfig, err := installer.TokenKubeconfig(t.Context(), c, "test", "flagger-loadtester")
	require.NoError(t, err)
	_, ctr := container(t, "kustomize/tester", "flagger-loadtester")
	port := freePort(t)
	args := append(ctr.Args, "-kubeconfig="+kubeconfig, "-port="+strconv.Itoa(port))
	t.Setenv("POD_NAMESPACE", "test") // the Deployment's downward API
	lt := startProcess(t, c, filepath.Join(bin, "loadtester"), args)
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	must.Eventually(t, 30*time.Second, 100*time.Millisecond, func() (bool, error) {
		resp, err := http.Get(url + "/healthz")
		if err != nil {
			return false, err
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, fmt.Errorf("/healthz: %s", resp.Status)
	}, "load tester up")

	for _, step := range []struct {
		path   string
		status int
	}{
		{"/gate/check", http.StatusForbidden},
		{"/gate/open", http.StatusAccepted}, // creates the ConfigMap
		{"/gate/check", http.StatusOK},
		{"/gate/close", http.StatusAccepted}, // updates it
		{"/gate/check", http.StatusForbidden},
	} {
		assert.Equal(t, step.status, postGate(t, url+step.path), step.path)
	}
	kube := kubernetes.NewForConfigOrDie(c.Config)
	cm, err := kube.CoreV1().ConfigMaps("test").Get(context.Background(), "flagger-loadtester-gates", metav1.GetOptions{})
	require.NoError(t, err)
	assert.NotEmpty(t, cm.Data)
	assert.Empty(t, lt.forbidden(t))
}

// postGate posts the tutorial canary's webhook payload and returns the status.
func postGate(t *testing.T, url string) int {
	t.Helper()
	body, err := json.Marshal(map[string]string{"name": "podinfo", "namespace": "test", "phase": "Progressing"})
	require.NoError(t, err)
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}
