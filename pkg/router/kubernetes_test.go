package router

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/owners"
)

// initialized runs Initialize and Reconcile, then syncs the lister.
func initialized(t *testing.T, e *kubeEnv, cd *flaggerv1.Canary, target Target) {
	t.Helper()
	require.NoError(t, e.router.Initialize(context.TODO(), cd, target))
	require.NoError(t, e.router.Reconcile(context.TODO(), cd, target))
	e.sync(t)
}

func TestKubernetesRouterCreatesServicesOnce(t *testing.T) {
	e := newKubeEnv(t)
	cd := newCanary(withService(func(s *flaggerv1.CanaryService) {
		s.Apex = &flaggerv1.CustomMetadata{Labels: map[string]string{"team": "web"}}
		s.Canary = &flaggerv1.CustomMetadata{Annotations: map[string]string{"note": "canary"}}
	}))
	initialized(t, e, cd, podinfoTarget)

	for name, want := range map[string]struct {
		selector, labels, annotations map[string]string
	}{
		"podinfo":         {map[string]string{"app": "podinfo-primary"}, map[string]string{"app": "podinfo", "team": "web"}, nil},
		"podinfo-primary": {map[string]string{"app": "podinfo-primary"}, map[string]string{"app": "podinfo-primary"}, nil},
		"podinfo-canary":  {map[string]string{"app": "podinfo"}, map[string]string{"app": "podinfo-canary"}, map[string]string{"note": "canary"}},
	} {
		svc := e.service(t, name)
		assert.Equal(t, want.selector, svc.Spec.Selector, name)
		assert.Equal(t, want.labels, svc.Labels, name)
		assert.Equal(t, want.annotations, svc.Annotations, name)
		assert.Equal(t, corev1.ServiceTypeClusterIP, svc.Spec.Type, name)
		assert.Equal(t, []corev1.ServicePort{{Name: "http", Protocol: corev1.ProtocolTCP, Port: 9898, TargetPort: intstr.FromInt32(9898)}}, svc.Spec.Ports, name)
		assert.True(t, metav1.IsControlledBy(svc, cd), name)
	}

	initialized(t, e, cd, podinfoTarget)
	creates, updates := writes(e.client.Actions())
	assert.Equal(t, 3, creates)
	assert.Zero(t, updates)
}

func TestKubernetesRouterPortOptions(t *testing.T) {
	e := newKubeEnv(t)
	cd := newCanary(withService(func(s *flaggerv1.CanaryService) {
		s.PortName, s.TargetPort = "grpc", intstr.FromString("grpc")
		s.AppProtocol, s.TrafficDistribution = ptrTo("kubernetes.io/h2c"), ptrTo("PreferClose")
		s.Headless, s.PortDiscovery = true, true
	}))
	target := podinfoTarget
	target.Ports = map[string]int32{"metrics": 9797, "admin": 9999, "grpc": 9898}
	initialized(t, e, cd, target)

	svc := e.service(t, "podinfo-canary")
	assert.Equal(t, corev1.ClusterIPNone, svc.Spec.ClusterIP)
	assert.Equal(t, ptrTo("PreferClose"), svc.Spec.TrafficDistribution)
	assert.Equal(t, []corev1.ServicePort{
		{Name: "grpc", Protocol: corev1.ProtocolTCP, Port: 9898, TargetPort: intstr.FromString("grpc"), AppProtocol: ptrTo("kubernetes.io/h2c")},
		{Name: "admin", Protocol: corev1.ProtocolTCP, Port: 9999, TargetPort: intstr.FromInt32(9999)},
		{Name: "metrics", Protocol: corev1.ProtocolTCP, Port: 9797, TargetPort: intstr.FromInt32(9797)},
	}, svc.Spec.Ports)

	// The target port defaults to the port.
	cd.Spec.Service.TargetPort = intstr.IntOrString{}
	assert.Equal(t, intstr.FromInt32(9898), desiredService(cd, roleApex, podinfoTarget).Spec.Ports[0].TargetPort)
}

func TestKubernetesRouterAdoptsApexService(t *testing.T) {
	existing := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{
			Name: "podinfo", Namespace: "test",
			Labels:      map[string]string{"app.kubernetes.io/managed-by": "Helm"},
			Annotations: map[string]string{"meta.helm.sh/release-name": "podinfo"},
		},
		Spec: corev1.ServiceSpec{
			Type:      corev1.ServiceTypeNodePort,
			ClusterIP: "10.0.0.10",
			Selector:  map[string]string{"app": "podinfo"},
			Ports:     []corev1.ServicePort{{Name: "http", Protocol: corev1.ProtocolTCP, Port: 9898, TargetPort: intstr.FromInt32(9898), NodePort: 30080}},
		},
	}
	e := newKubeEnv(t, existing)
	cd := newCanary()
	require.NoError(t, e.router.Reconcile(context.TODO(), cd, podinfoTarget))
	e.sync(t)

	svc := e.service(t, "podinfo")
	assert.Equal(t, map[string]string{"app": "podinfo-primary"}, svc.Spec.Selector)
	assert.Equal(t, existing.Labels, svc.Labels, "an adopted Service keeps its metadata")
	assert.Equal(t, existing.Annotations, svc.Annotations)
	assert.Empty(t, svc.OwnerReferences)
	assert.Equal(t, int32(30080), svc.Spec.Ports[0].NodePort, "node ports are kept")
	assert.Equal(t, "10.0.0.10", svc.Spec.ClusterIP)

	require.NoError(t, e.router.Reconcile(context.TODO(), cd, podinfoTarget))
	_, updates := writes(e.client.Actions())
	assert.Equal(t, 1, updates)
}

func TestKubernetesRouterUpdatesOwnedServiceOnChange(t *testing.T) {
	e := newKubeEnv(t)
	cd := newCanary(withService(func(s *flaggerv1.CanaryService) {
		s.UnmanagedMetadata = &flaggerv1.UnmanagedMetadata{Labels: []string{"mesh/injected"}, Annotations: []string{"cloud/lb"}}
	}))
	initialized(t, e, cd, podinfoTarget)

	live := e.service(t, "podinfo-canary").DeepCopy()
	live.Labels["mesh/injected"], live.Labels["stray"] = "true", "x"
	live.Annotations = map[string]string{"cloud/lb": "internal", "stray": "x"}
	_, err := e.client.CoreV1().Services("test").Update(context.TODO(), live, metav1.UpdateOptions{})
	require.NoError(t, err)
	e.sync(t)

	cd.Spec.Service.Port = 8080
	require.NoError(t, e.router.Initialize(context.TODO(), cd, podinfoTarget))
	svc := e.service(t, "podinfo-canary")
	assert.Equal(t, int32(8080), svc.Spec.Ports[0].Port)
	assert.Equal(t, map[string]string{"app": "podinfo-canary", "mesh/injected": "true"}, svc.Labels)
	assert.Equal(t, map[string]string{"cloud/lb": "internal"}, svc.Annotations)
	_, updates := writes(e.client.Actions())
	assert.Equal(t, 3, updates, "one by the test, one per Service")
}

func TestKubernetesRouterRefusesForeignController(t *testing.T) {
	other := newCanary()
	other.Name, other.UID = "podinfo-v2", "uid-other"
	e := newKubeEnv(t, &corev1.Service{ObjectMeta: metav1.ObjectMeta{
		Name: "podinfo-primary", Namespace: "test", OwnerReferences: []metav1.OwnerReference{owners.Canary(other)},
	}})
	err := e.router.Initialize(context.TODO(), newCanary(), podinfoTarget)
	assert.ErrorIs(t, err, ErrNotControlled)
	assert.ErrorContains(t, e.router.Initialize(context.TODO(), newCanary(), Target{SelectorLabel: "app"}), "selector")
}

func TestKubernetesRouterFinalize(t *testing.T) {
	adopted := func(annotations map[string]string) *corev1.Service {
		return &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "test", Annotations: annotations},
			Spec:       corev1.ServiceSpec{Selector: map[string]string{"app": "podinfo-primary"}},
		}
	}
	lastApplied := map[string]string{lastAppliedAnnotation: `{"apiVersion":"v1","kind":"Service","spec":{"selector":{"app.kubernetes.io/name":"podinfo"}}}`}
	tests := []struct {
		name string
		svc  *corev1.Service
		want map[string]string
	}{
		{name: "from last-applied-configuration", svc: adopted(lastApplied), want: map[string]string{"app.kubernetes.io/name": "podinfo"}},
		{name: "to the target pods", svc: adopted(nil), want: map[string]string{"app": "podinfo"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newKubeEnv(t, tt.svc)
			require.NoError(t, e.router.Finalize(context.TODO(), newCanary(), podinfoTarget))
			assert.Equal(t, tt.want, e.service(t, "podinfo").Spec.Selector)
		})
	}

	t.Run("owned Services are left to garbage collection", func(t *testing.T) {
		e := newKubeEnv(t)
		initialized(t, e, newCanary(), podinfoTarget)
		require.NoError(t, e.router.Finalize(context.TODO(), newCanary(), podinfoTarget))
		_, updates := writes(e.client.Actions())
		assert.Zero(t, updates)
		assert.NoError(t, newKubeEnv(t).router.Finalize(context.TODO(), newCanary(), podinfoTarget), "no apex Service")
	})
}
