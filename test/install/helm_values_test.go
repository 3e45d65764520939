package install

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/serin-dev/serin/pkg/router"
	"github.com/serin-dev/serin/test/lib/installer"
)

// gatewayArgs are the operator's arguments in kustomize/gatewayapi.
var gatewayArgs = []string{
	"-log-level=info", "-port=8080", "-enable-leader-election",
	"-mesh-provider=gatewayapi:v1", "-metrics-server=http://prometheus.istio-system:9090",
}

// chartDeployment returns the operator's Deployment in a render and its one
// container.
func chartDeployment(t *testing.T, objs map[string]*unstructured.Unstructured) (*appsv1.Deployment, corev1.Container) {
	t.Helper()
	obj, ok := objs["Deployment "+installer.Namespace+"/serin"]
	require.True(t, ok, "no Deployment serin")
	dep := &appsv1.Deployment{}
	require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, dep))
	require.Len(t, dep.Spec.Template.Spec.Containers, 1)
	return dep, dep.Spec.Template.Spec.Containers[0]
}

// TestChartValuesReachFlags: each Flagger chart value that Serin has a flag
// for becomes that flag, as Flagger's chart passes it.
func TestChartValuesReachFlags(t *testing.T) {
	after := func(extra ...string) []string { return append(slices.Clone(gatewayArgs), extra...) }
	for _, tc := range []struct {
		set  []string
		want []string
	}{
		{[]string{"meshProvider=gatewayapi:v1beta1"}, []string{"-log-level=info", "-port=8080", "-enable-leader-election",
			"-mesh-provider=gatewayapi:v1beta1", "-metrics-server=http://prometheus.istio-system:9090"}},
		{[]string{"metricsServer=http://prometheus.monitoring:9090"}, []string{"-log-level=info", "-port=8080", "-enable-leader-election",
			"-mesh-provider=gatewayapi:v1", "-metrics-server=http://prometheus.monitoring:9090"}},
		{[]string{"logLevel=debug"}, append([]string{"-log-level=debug"}, gatewayArgs[1:]...)},
		{[]string{"slack.url=https://hooks.slack.com/services/T/B/X", "slack.channel=releases", "slack.user=serin"},
			after("-slack-url=https://hooks.slack.com/services/T/B/X", "-slack-user=serin", "-slack-channel=releases")},
		{[]string{"slack.proxyUrl=http://proxy:3128"}, after("-slack-proxy-url=http://proxy:3128")},
		{[]string{"slack.proxy=http://proxy:3128"}, after("-slack-proxy-url=http://proxy:3128")},
		{[]string{"msteams.url=https://example.webhook.office.com/x", "msteams.proxyUrl=http://proxy:3128"},
			after("-msteams-url=https://example.webhook.office.com/x", "-msteams-proxy-url=http://proxy:3128")},
		{[]string{"namespace=test"}, after("-namespace=test")},
		{[]string{"selectorLabels=app\\,name"}, after("-selector-labels=app,name")},
		{[]string{"includeLabelPrefix=team/"}, after("-include-label-prefix=team/")},
		{[]string{"configTracking.enabled=false"}, after("-enable-config-tracking=false")},
		{[]string{"noCrossNamespaceRefs=true"}, after("-no-cross-namespace-refs")},
		{[]string{"eventWebhook=http://events.test/hook"}, after("-event-webhook=http://events.test/hook")},
		{[]string{"webhookAllowedHosts=*.test"}, after("-webhook-allowed-hosts=*.test")},
		{[]string{"clusterName=prod-eu"}, after("-cluster-name=prod-eu")},
		{[]string{"kubeconfigQPS=100", "kubeconfigBurst=250", "threadiness=4"},
			after("-kubeconfig-qps=100", "-kubeconfig-burst=250", "-threadiness=4")},
		{[]string{"ingressClass=contour", "ingressAnnotationsPrefix=custom.ingress"},
			after("-ingress-annotations-prefix=custom.ingress", "-ingress-class=contour")},
		{[]string{"extraArgs={-zap-encoding=console,-scheduler-tick=2s}"}, after("-zap-encoding=console", "-scheduler-tick=2s")},
		{[]string{"leaderElection.enabled=false", "leaderElection.replicaCount=1"},
			[]string{"-log-level=info", "-port=8080", "-mesh-provider=gatewayapi:v1", "-metrics-server=http://prometheus.istio-system:9090"}},
	} {
		t.Run(strings.Join(tc.set, ","), func(t *testing.T) {
			t.Parallel()
			var args []string
			for _, s := range tc.set {
				args = append(args, "--set", s)
			}
			_, c := chartDeployment(t, renderChart(t, args...))
			assert.Equal(t, tc.want, c.Args)
		})
	}
}

// TestChartProvidersAreSerins: the chart accepts exactly the providers
// Serin's -mesh-provider does.
func TestChartProvidersAreSerins(t *testing.T) {
	for _, p := range append(slices.Clone(router.Providers), "istio", "gatewayapi", "gatewayapi:v1alpha2") {
		t.Run(p, func(t *testing.T) {
			t.Parallel()
			_, err := installer.RenderChart(t.Context(), t.TempDir(), "--set", "meshProvider="+p)
			if slices.Contains(router.Providers, p) {
				assert.NoError(t, err)
			} else {
				assert.ErrorContains(t, err, `meshProvider "`+p+`" is not supported`)
			}
		})
	}
}

// TestChartRefusesWhatSerinCannotDo: Flagger values that Serin has no
// equivalent for fail the install with the value's name, instead of
// installing something else than the values say.
func TestChartRefusesWhatSerinCannotDo(t *testing.T) {
	for set, want := range map[string]string{
		"prometheus.install=true":                 "prometheus.install is not supported",
		"rbac.pspEnabled=true":                    "rbac.pspEnabled is not supported",
		"linkerdAuthPolicy.create=true":           "linkerdAuthPolicy.create is not supported",
		"controlplane.kubeconfig.secretName=mesh": "controlplane.kubeconfig.secretName is not supported",
		"leaderElection.enabled=false":            "leaderElection.replicaCount 2 needs leaderElection.enabled",
		"meshProvider=istio":                      `meshProvider "istio" is not supported`,
	} {
		t.Run(set, func(t *testing.T) {
			t.Parallel()
			_, err := installer.RenderChart(t.Context(), t.TempDir(), "--set", set)
			assert.ErrorContains(t, err, want)
		})
	}
}

// TestChartObjectValues: the values that shape objects rather than flags.
func TestChartObjectValues(t *testing.T) {
	key := func(kind, name string) string { return kind + " " + installer.Namespace + "/" + name }
	for _, tc := range []struct {
		name  string
		set   []string
		check func(t *testing.T, objs map[string]*unstructured.Unstructured)
	}{
		{"without leader election: one pod at a time, no Lease role", []string{"leaderElection.enabled=false", "leaderElection.replicaCount=1"},
			func(t *testing.T, objs map[string]*unstructured.Unstructured) {
				dep, _ := chartDeployment(t, objs)
				assert.Equal(t, new(int32(1)), dep.Spec.Replicas)
				assert.Equal(t, appsv1.RecreateDeploymentStrategyType, dep.Spec.Strategy.Type)
				assert.NotContains(t, objs, key("Role", "serin-leader-election"))
			}},
		{"image", []string{"image.repository=registry.test/serin", "image.tag=v1.2.3", "image.pullPolicy=IfNotPresent", "image.pullSecret=regcred"},
			func(t *testing.T, objs map[string]*unstructured.Unstructured) {
				dep, c := chartDeployment(t, objs)
				assert.Equal(t, "registry.test/serin:v1.2.3", c.Image)
				assert.Equal(t, corev1.PullIfNotPresent, c.ImagePullPolicy)
				assert.Equal(t, []corev1.LocalObjectReference{{Name: "regcred"}}, dep.Spec.Template.Spec.ImagePullSecrets)
			}},
		{"resources and env", []string{"resources.requests.cpu=10m", "env[0].name=SLACK_URL", "env[0].valueFrom.secretKeyRef.name=slack", "env[0].valueFrom.secretKeyRef.key=url"},
			func(t *testing.T, objs map[string]*unstructured.Unstructured) {
				_, c := chartDeployment(t, objs)
				assert.Equal(t, "10m", c.Resources.Requests.Cpu().String())
				assert.Equal(t, "512Mi", c.Resources.Limits.Memory().String(), "the other defaults stay")
				require.Len(t, c.Env, 1)
				assert.Equal(t, "SLACK_URL", c.Env[0].Name)
				assert.Equal(t, "url", c.Env[0].ValueFrom.SecretKeyRef.Key)
			}},
		{"no CRDs, no RBAC, someone else's ServiceAccount", []string{"crd.create=false", "rbac.create=false", "serviceAccount.create=false", "serviceAccount.name=ops"},
			func(t *testing.T, objs map[string]*unstructured.Unstructured) {
				dep, _ := chartDeployment(t, objs)
				assert.Equal(t, "ops", dep.Spec.Template.Spec.ServiceAccountName)
				var kinds []string
				for _, obj := range objs {
					kinds = append(kinds, obj.GetKind())
				}
				assert.ElementsMatch(t, []string{"Deployment", "Service", "PodDisruptionBudget"}, kinds)
			}},
		{"PodDisruptionBudget by minAvailable", []string{"podDisruptionBudget.minAvailable=1"},
			func(t *testing.T, objs map[string]*unstructured.Unstructured) {
				spec := objs[key("PodDisruptionBudget", "serin")].Object["spec"].(map[string]any)
				assert.EqualValues(t, 1, spec["minAvailable"])
				assert.NotContains(t, spec, "maxUnavailable")
			}},
		{"podMonitor", []string{"podMonitor.enabled=true", "podMonitor.namespace=monitoring", "podMonitor.interval=30s", "podMonitor.additionalLabels.release=kps"},
			func(t *testing.T, objs map[string]*unstructured.Unstructured) {
				pm, ok := objs["PodMonitor monitoring/serin"]
				require.True(t, ok, "a PodMonitor in podMonitor.namespace")
				assert.Equal(t, "kps", pm.GetLabels()["release"])
				endpoints, _, _ := unstructured.NestedSlice(pm.Object, "spec", "podMetricsEndpoints")
				assert.Equal(t, []any{map[string]any{"port": "http", "path": "/metrics", "interval": "30s", "honorLabels": false}}, endpoints)
				selector, _, _ := unstructured.NestedStringMap(pm.Object, "spec", "selector", "matchLabels")
				dep, _ := chartDeployment(t, objs)
				assert.Equal(t, dep.Spec.Selector.MatchLabels, selector)
			}},
		{"serviceMonitor", []string{"serviceMonitor.enabled=true"},
			func(t *testing.T, objs map[string]*unstructured.Unstructured) {
				sm, ok := objs[key("ServiceMonitor", "serin")]
				require.True(t, ok)
				endpoints, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
				require.Len(t, endpoints, 1)
				assert.Equal(t, "http-metrics", endpoints[0].(map[string]any)["port"], "the Service's port")
			}},
		{"a release of another name", []string{"fullnameOverride=progressive"},
			func(t *testing.T, objs map[string]*unstructured.Unstructured) {
				crb := objs["ClusterRoleBinding /progressive"]
				require.NotNil(t, crb)
				subjects, _, _ := unstructured.NestedSlice(crb.Object, "subjects")
				assert.Equal(t, []any{map[string]any{"kind": "ServiceAccount", "name": "progressive", "namespace": installer.Namespace}}, subjects)
				assert.Contains(t, objs, key("RoleBinding", "progressive-leader-election"))
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var args []string
			for _, s := range tc.set {
				args = append(args, "--set", s)
			}
			tc.check(t, renderChart(t, args...))
		})
	}
}
