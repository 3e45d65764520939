package canary

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/syncerr"
)

func TestFindSelector(t *testing.T) {
	defaults := strings.Split(DefaultSelectorLabels, ",")
	withMatch := func(m map[string]string) *appsv1.Deployment {
		d := newDeployment("podinfo")
		d.Spec.Selector.MatchLabels = m
		return d
	}
	tests := []struct {
		name   string
		dep    *appsv1.Deployment
		labels []string
		want   Selector
		err    string
	}{
		{name: "app", dep: withMatch(map[string]string{"app": "podinfo"}), labels: defaults,
			want: Selector{Key: "app", Value: "podinfo"}},
		{name: "name", dep: withMatch(map[string]string{"name": "pi", "tier": "web"}), labels: defaults,
			want: Selector{Key: "name", Value: "pi"}},
		{name: "kubernetes name", dep: withMatch(map[string]string{"app.kubernetes.io/name": "podinfo"}), labels: defaults,
			want: Selector{Key: "app.kubernetes.io/name", Value: "podinfo"}},
		{name: "first in flag order wins", dep: withMatch(map[string]string{"name": "b", "app": "a"}), labels: defaults,
			want: Selector{Key: "app", Value: "a"}},
		{name: "custom labels", dep: withMatch(map[string]string{"app": "a", "svc": "s"}), labels: []string{"svc", "app"},
			want: Selector{Key: "svc", Value: "s"}},
		{name: "none", dep: withMatch(map[string]string{"tier": "web"}), labels: defaults,
			err: "deployment podinfo.test spec.selector.matchLabels must contain one of [app name app.kubernetes.io/name]"},
		{name: "no selector", dep: func() *appsv1.Deployment { d := newDeployment("podinfo"); d.Spec.Selector = nil; return d }(),
			labels: []string{"app"}, err: "deployment podinfo.test spec.selector.matchLabels must contain one of [app]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FindSelector(tt.dep, tt.labels)
			if tt.err != "" {
				require.EqualError(t, err, tt.err)
				var sle *SelectorLabelError
				require.True(t, errors.As(err, &sle))
				assert.Equal(t, "podinfo", sle.Name)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.want.Value+"-primary", got.PrimaryValue())
		})
	}
}

func TestGetMetadata(t *testing.T) {
	dep := newDeployment("podinfo", withPodSpec(func(s *corev1.PodSpec) {
		s.Containers[0].Ports = append(s.Containers[0].Ports,
			corev1.ContainerPort{Name: "grpc", ContainerPort: 9999}, corev1.ContainerPort{ContainerPort: 8080})
		s.Containers = append(s.Containers, corev1.Container{Name: "istio-proxy",
			Ports: []corev1.ContainerPort{{Name: "envoy-admin", ContainerPort: 15000}}})
	}))
	f := newFixture(t, dep)

	md, err := f.ctrl.GetMetadata(context.TODO(), newCanary())
	require.NoError(t, err)
	assert.Equal(t, Selector{Key: "app", Value: "podinfo"}, md.Selector)
	assert.Nil(t, md.Ports, "no port discovery")

	md, err = f.ctrl.GetMetadata(context.TODO(), newCanary(func(cd *flaggerv1.Canary) { cd.Spec.Service.PortDiscovery = true }))
	require.NoError(t, err)
	assert.Equal(t, map[string]int32{"grpc": 9999, "tcp-podinfod-2": 8080}, md.Ports)

	_, err = f.ctrl.GetMetadata(context.TODO(), newCanary(func(cd *flaggerv1.Canary) { cd.Spec.TargetRef.Name = "missing" }))
	require.Error(t, err)
	_, err = f.ctrl.GetMetadata(context.TODO(), newCanary(func(cd *flaggerv1.Canary) { cd.Spec.TargetRef.Kind = "Service" }))
	require.ErrorIs(t, err, ErrUnsupportedTarget)
	assert.True(t, syncerr.IsPermanent(err), "reported once, not retried")
	assert.ErrorContains(t, err, "spec.targetRef.kind")
	_, err = f.ctrl.Revision(context.TODO(), newCanary(func(cd *flaggerv1.Canary) { cd.Spec.TargetRef.Kind = "Service" }))
	assert.True(t, syncerr.IsPermanent(err), "the first read of a tick already refuses it")
	assert.Empty(t, f.writes())
}

func TestDiscoverPorts(t *testing.T) {
	ctrs := []corev1.Container{{Name: "app", Ports: []corev1.ContainerPort{
		{Name: "http", ContainerPort: 9898}, {Name: "metrics", ContainerPort: 9797}}}}
	tests := []struct {
		name string
		svc  flaggerv1.CanaryService
		want map[string]int32
	}{
		{"port excludes main", flaggerv1.CanaryService{Port: 9898}, map[string]int32{"metrics": 9797}},
		{"int targetPort excludes main", flaggerv1.CanaryService{Port: 80, TargetPort: intstr.FromInt32(9797)},
			map[string]int32{"http": 9898}},
		{"named targetPort excludes main", flaggerv1.CanaryService{Port: 80, TargetPort: intstr.FromString("http")},
			map[string]int32{"metrics": 9797}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, DiscoverPorts(tt.svc, ctrs))
		})
	}
}

func TestNewDeploymentController(t *testing.T) {
	_, err := NewDeployments(Config{})
	require.ErrorContains(t, err, "KubeClient, Deployments, HPAs, ConfigMaps and Secrets")

	f := newFixtureWith(t, func(c *Config) {
		c.ConfigMaps, c.Secrets, c.DisableConfigTracking = nil, nil, true
		c.Clock, c.NewID = nil, nil
	})
	assert.Equal(t, []string{"app", "name", "app.kubernetes.io/name"}, f.ctrl.selectorLabels)
	assert.NotEmpty(t, f.ctrl.newID())
	assert.NotEqual(t, f.ctrl.newID(), f.ctrl.newID())
	assert.False(t, f.ctrl.clock.Now().IsZero())
}
