package install

import (
	"github.com/serin-dev/serin/test/lib/installer"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// directories are the kustomize directories users apply, with what each
// renders ("Kind namespace/name", namespace empty when the object has none).
var directories = map[string][]string{
	"kustomize/base":       baseObjects,
	"kustomize/gatewayapi": baseObjects,
	"kustomize/podinfo": {
		"Deployment /podinfo",
		"HorizontalPodAutoscaler /podinfo",
	},
	"kustomize/tester": {
		"Deployment test/flagger-loadtester",
		"NetworkPolicy test/flagger-loadtester",
		"Role test/flagger-loadtester",
		"RoleBinding test/flagger-loadtester",
		"Service test/flagger-loadtester",
		"ServiceAccount test/flagger-loadtester",
	},
}

var baseObjects = []string{
	"ClusterRole /serin",
	"ClusterRoleBinding /serin",
	"CustomResourceDefinition /alertproviders.flagger.app",
	"CustomResourceDefinition /canaries.flagger.app",
	"CustomResourceDefinition /metrictemplates.flagger.app",
	"Deployment serin-system/serin",
	"Namespace /serin-system",
	"PodDisruptionBudget serin-system/serin",
	"Role serin-system/serin-leader-election",
	"RoleBinding serin-system/serin-leader-election",
	"Service serin-system/serin",
	"ServiceAccount serin-system/serin",
}

func TestKustomizeRendersEveryDirectory(t *testing.T) {
	for dir, want := range directories {
		t.Run(dir, func(t *testing.T) {
			objs, err := installer.Render(t.Context(), dir)
			require.NoError(t, err)
			var got []string
			for _, obj := range objs {
				got = append(got, obj.GetKind()+" "+obj.GetNamespace()+"/"+obj.GetName())
			}
			slices.Sort(got)
			assert.Equal(t, want, got)
		})
	}
}

// container returns the only container of a rendered Deployment.
func container(t *testing.T, dir, name string) (*appsv1.Deployment, corev1.Container) {
	t.Helper()
	dep := rendered[appsv1.Deployment](t, dir, "Deployment", name)
	require.Len(t, dep.Spec.Template.Spec.Containers, 1)
	return dep, dep.Spec.Template.Spec.Containers[0]
}

// assertHardened checks what the manifests promise of a Serin binary's pod:
// non-root, read-only root filesystem, no privilege escalation, no
// capabilities, the runtime's seccomp profile, requests and limits.
func assertHardened(t *testing.T, dep *appsv1.Deployment, c corev1.Container) {
	t.Helper()
	pod := dep.Spec.Template.Spec.SecurityContext
	require.NotNil(t, pod)
	assert.Equal(t, new(true), pod.RunAsNonRoot)
	assert.Equal(t, new(int64(65532)), pod.RunAsUser, "the distroless nonroot user")
	require.NotNil(t, pod.SeccompProfile)
	assert.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, pod.SeccompProfile.Type)
	sc := c.SecurityContext
	require.NotNil(t, sc)
	assert.Equal(t, new(false), sc.AllowPrivilegeEscalation)
	assert.Equal(t, new(true), sc.ReadOnlyRootFilesystem)
	require.NotNil(t, sc.Capabilities)
	assert.Equal(t, []corev1.Capability{"ALL"}, sc.Capabilities.Drop)
	assert.Empty(t, sc.Capabilities.Add)
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		assert.Contains(t, c.Resources.Requests, r)
		assert.Contains(t, c.Resources.Limits, r)
	}
}

func TestOperatorDeployment(t *testing.T) {
	dep, c := container(t, "kustomize/base", "serin")
	assertHardened(t, dep, c)
	assert.Equal(t, new(int32(2)), dep.Spec.Replicas)
	assert.Equal(t, installer.ServiceAccount, dep.Spec.Template.Spec.ServiceAccountName)
	assert.Equal(t, "ghcr.io/serin-dev/serin:latest", c.Image)
	assert.Equal(t, []string{"-log-level=info", "-port=8080", "-enable-leader-election"}, c.Args)
	assert.Equal(t, []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}, c.Ports)
	require.NotNil(t, c.LivenessProbe)
	require.NotNil(t, c.ReadinessProbe)
	assert.Equal(t, "/healthz", c.LivenessProbe.HTTPGet.Path)
	assert.Equal(t, "/readyz", c.ReadinessProbe.HTTPGet.Path)
	for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe} {
		assert.Equal(t, intstr.FromString("http"), p.HTTPGet.Port)
	}
	assert.Equal(t, map[string]string{
		"prometheus.io/scrape": "true", "prometheus.io/port": "8080", "prometheus.io/path": "/metrics",
	}, dep.Spec.Template.Annotations)

	svc := rendered[corev1.Service](t, "kustomize/base", "Service", "serin")
	assert.Equal(t, dep.Spec.Selector.MatchLabels, svc.Spec.Selector)
	require.Len(t, svc.Spec.Ports, 1)
	assert.Equal(t, int32(8080), svc.Spec.Ports[0].Port)
	assert.Equal(t, intstr.FromString("http"), svc.Spec.Ports[0].TargetPort)
}

func TestGatewayAPIOverlay(t *testing.T) {
	_, c := container(t, "kustomize/gatewayapi", "serin")
	assert.Equal(t, []string{
		"-log-level=info", "-port=8080", "-enable-leader-election",
		"-mesh-provider=gatewayapi:v1", "-metrics-server=http://prometheus.istio-system:9090",
	}, c.Args)
}

func TestPodinfo(t *testing.T) {
	dep, c := container(t, "kustomize/podinfo", "podinfo")
	assert.Equal(t, "podinfod", c.Name)
	assert.Equal(t, "ghcr.io/stefanprodan/podinfo:6.0.0", c.Image, "the release the tutorial starts from")
	assert.Contains(t, c.Ports, corev1.ContainerPort{Name: "http", ContainerPort: 9898, Protocol: corev1.ProtocolTCP})
	assert.NotNil(t, c.LivenessProbe)
	assert.NotNil(t, c.ReadinessProbe)
	assert.Contains(t, c.Resources.Requests, corev1.ResourceCPU, "the HPA's utilization needs a CPU request")
	assert.Contains(t, c.Resources.Limits, corev1.ResourceMemory)
	assert.Equal(t, "podinfo", dep.Spec.Selector.MatchLabels["app"], "Serin's first selector label")
	assert.Nil(t, dep.Spec.Replicas, "the HPA owns the replica count")

	hpa := rendered[autoscalingv2.HorizontalPodAutoscaler](t, "kustomize/podinfo", "HorizontalPodAutoscaler", "podinfo")
	assert.Equal(t, autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "podinfo"}, hpa.Spec.ScaleTargetRef)
}

func TestLoadTester(t *testing.T) {
	dep, c := container(t, "kustomize/tester", "flagger-loadtester")
	assertHardened(t, dep, c)
	assert.Equal(t, "flagger-loadtester", dep.Spec.Template.Spec.ServiceAccountName)
	assert.Contains(t, c.Args, "-state-configmap=flagger-loadtester-gates", "gates survive restarts, within the Role")
	require.Len(t, c.Ports, 1)

	svc := rendered[corev1.Service](t, "kustomize/tester", "Service", "flagger-loadtester")
	assert.Equal(t, dep.Spec.Selector.MatchLabels, svc.Spec.Selector)
	require.Len(t, svc.Spec.Ports, 1)
	assert.Equal(t, int32(80), svc.Spec.Ports[0].Port, "the tutorial's URL has no port")
	assert.Equal(t, intstr.FromString(c.Ports[0].Name), svc.Spec.Ports[0].TargetPort)
	assert.Equal(t, strconv.Itoa(int(c.Ports[0].ContainerPort)), flagValue(c.Args, "port"))
}

// flagValue returns the value of the last -name=value in args, as Go's flag
// package keeps it.
func flagValue(args []string, name string) string {
	value := ""
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "-"+name+"="); ok {
			value = v
		}
	}
	return value
}
