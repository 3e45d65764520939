package install

import (
	"fmt"
	"github.com/serin-dev/serin/test/lib/installer"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	"github.com/serin-dev/serin/test/lib/cluster"
	"github.com/serin-dev/serin/test/lib/must"
)

// TestInstall runs the README's Install section, command by command, on a
// control plane with KWOK nodes, and checks what each step promises: the
// operator's Deployment, podinfo and the load tester become Available, and
// the tutorial's Canary is initialised by the operator running under the
// ServiceAccount and roles that the manifests install (KWOK only pretends to
// run pods, so the test runs `make build`'s binary in the Deployment's
// place, with the Deployment's arguments and a token of its ServiceAccount).
func TestInstall(t *testing.T) {
	c := cluster.StartForTest(t, cluster.Options{
		Full:       true,
		GatewayAPI: true, // the tutorial's prerequisite
		// On in OpenShift and hardened clusters: an ownerReference with
		// blockOwnerDeletion needs update on the owner's finalizers, which
		// is what the ClusterRole's canaries/finalizers rule is for.
		APIServerArgs: []string{"--enable-admission-plugins=OwnerReferencesPermissionEnforcement"},
	})
	kube := kubernetes.NewForConfigOrDie(c.Config)
	bin := makeBuild(t)

	blocks := readmeBlocks(t, "sh")
	require.Len(t, blocks, 3, "the Install section has three command blocks: operator, demo app, canary")
	install, demo, canary := commands(t, blocks[0]), commands(t, blocks[1]), commands(t, blocks[2])
	requireCommands(t, install, "apply -k kustomize/gatewayapi")
	requireCommands(t, demo, "create ns test", "apply -k kustomize/podinfo -n test", "apply -k kustomize/tester -n test")

	began := time.Now()
	runCommands(t, c, install)
	mustBeAvailable(t, kube, installer.Namespace, "serin", 2)
	t.Logf("operator installed and Available in %s", time.Since(began).Round(time.Millisecond))

	kubeconfig, err := installer.ServiceAccountKubeconfig(t.Context(), c)
	require.NoError(t, err)
	_, ctr := container(t, "kustomize/gatewayapi", "serin")
	op := startOperator(t, c, bin, kubeconfig, ctr.Args)

	began = time.Now()
	runCommands(t, c, demo)
	mustBeAvailable(t, kube, "test", "podinfo", 1)
	mustBeAvailable(t, kube, "test", "flagger-loadtester", 1)
	t.Logf("podinfo and the load tester Available in %s", time.Since(began).Round(time.Millisecond))

	began = time.Now()
	runCommands(t, c, canary)
	t.Logf("canary initialised by the operator in %s", time.Since(began).Round(time.Millisecond))
	assertBootstrapped(t, c, kube)
	assert.Empty(t, op.forbidden(t), "the operator was refused requests under its role")

	t.Run("access reviews", func(t *testing.T) { testAccessReviews(t, kubeconfig) })
	t.Run("load tester under its role", func(t *testing.T) { testLoadTesterRole(t, c, bin) })
}

// requireCommands fails unless cmds holds each of want (arguments after
// kubectl), so that the README cannot drop a step of the tutorial unnoticed.
func requireCommands(t *testing.T, cmds [][]string, want ...string) {
	t.Helper()
	var have []string
	for _, cmd := range cmds {
		have = append(have, strings.Join(cmd, " "))
	}
	for _, w := range want {
		require.Contains(t, have, w)
	}
}

// runCommands runs README commands as the cluster's admin, in order.
func runCommands(t *testing.T, c *cluster.Cluster, cmds [][]string) {
	t.Helper()
	for _, args := range cmds {
		began := time.Now()
		out, err := installer.RunKubectl(t.Context(), c.KubeconfigPath, args...)
		require.NoError(t, err, "%s", out)
		t.Logf("kubectl %s (%s):\n%s", strings.Join(args, " "), time.Since(began).Round(time.Millisecond), out)
	}
}

// mustBeAvailable waits until a Deployment is Available with at least
// replicas ready pods.
func mustBeAvailable(t *testing.T, kube kubernetes.Interface, namespace, name string, replicas int32) {
	t.Helper()
	must.Eventually(t, 2*time.Minute, 250*time.Millisecond, func() (bool, error) {
		dep, err := kube.AppsV1().Deployments(namespace).Get(t.Context(), name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, cond := range dep.Status.Conditions {
			if cond.Type == appsv1.DeploymentAvailable && cond.Status == corev1.ConditionTrue && dep.Status.ReadyReplicas >= replicas {
				return true, nil
			}
		}
		return false, fmt.Errorf("%d/%d ready, conditions %+v", dep.Status.ReadyReplicas, replicas, dep.Status.Conditions)
	}, "deployment %s/%s Available", namespace, name)
}

// startOperator runs serin with the arguments of the installed Deployment
// (deployArgs) and the ServiceAccount's kubeconfig, and waits until it leads
// and its informers have synced: every list and watch was allowed.
func startOperator(t *testing.T, c *cluster.Cluster, bin, kubeconfig string, deployArgs []string) *process {
	t.Helper()
	port := freePort(t)
	args := append(slices.Clone(deployArgs),
		"-kubeconfig="+kubeconfig,
		"-port="+strconv.Itoa(port), // the last value wins; 8080 may be taken here
		// In a pod, the ServiceAccount's namespace file says serin-system.
		"-leader-election-namespace="+installer.Namespace,
	)
	// The tutorial's Prometheus and webhooks are names that resolve only in
	// a real cluster: through a proxy where nothing listens, their requests
	// fail on loopback instead of asking DNS. The API server, on loopback,
	// is never proxied.
	proxy := "http://127.0.0.1:" + strconv.Itoa(freePort(t))
	t.Setenv("HTTP_PROXY", proxy)
	t.Setenv("HTTPS_PROXY", proxy)
	t.Setenv("NO_PROXY", "")
	op := startProcess(t, c, filepath.Join(bin, "serin"), args)
	began := time.Now()
	must.Eventually(t, time.Minute, 200*time.Millisecond, func() (bool, error) {
		logs := op.logs(t)
		if op.exited() {
			return false, fmt.Errorf("serin exited:\n%s", logs)
		}
		if !strings.Contains(logs, "Acquired the leader lease") || !strings.Contains(logs, "Starting workers") {
			return false, fmt.Errorf("not leading with synced caches yet:\n%s", logs)
		}
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", port))
		if err != nil {
			return false, err
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, fmt.Errorf("/readyz: %s", resp.Status)
	}, "serin to lead with synced informers under its ServiceAccount")
	t.Logf("serin leading with synced informers in %s", time.Since(began).Round(time.Millisecond))
	return op
}

// assertBootstrapped checks the objects the tutorial lists after its Canary
// is applied, all written by the operator under its role.
func assertBootstrapped(t *testing.T, c *cluster.Cluster, kube kubernetes.Interface) {
	t.Helper()
	ctx := t.Context()
	primary, err := kube.AppsV1().Deployments("test").Get(ctx, "podinfo-primary", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "ghcr.io/stefanprodan/podinfo:6.0.0", primary.Spec.Template.Spec.Containers[0].Image)
	_, err = kube.AutoscalingV2().HorizontalPodAutoscalers("test").Get(ctx, "podinfo-primary", metav1.GetOptions{})
	assert.NoError(t, err)
	for _, svc := range []string{"podinfo", "podinfo-primary", "podinfo-canary"} {
		_, err := kube.CoreV1().Services("test").Get(ctx, svc, metav1.GetOptions{})
		assert.NoError(t, err, svc)
	}
	gateway := gatewayclient.NewForConfigOrDie(c.Config)
	_, err = gateway.GatewayV1().HTTPRoutes("test").Get(ctx, "podinfo", metav1.GetOptions{})
	assert.NoError(t, err)
	target, err := kube.AppsV1().Deployments("test").Get(ctx, "podinfo", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, int32(0), *target.Spec.Replicas, "the target is scaled to zero (a patch)")
	events, err := kube.CoreV1().Events("test").List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.kind=Canary"})
	require.NoError(t, err)
	var messages []string
	for _, e := range events.Items {
		messages = append(messages, e.Message)
	}
	assert.Contains(t, messages, "Initialization done! podinfo.test")
}
