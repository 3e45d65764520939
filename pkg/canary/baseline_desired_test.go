package canary

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/metrics"
	"github.com/serin-dev/serin/pkg/owners"
	"github.com/serin-dev/serin/pkg/router"
)

var podinfoSelector = Selector{Key: "app", Value: "podinfo"}

// newPrimaryOf returns the primary of newDeployment("podinfo") as
// EnsurePrimary made it, running image, with a -primary config reference
// and a spread constraint on the primary's pods.
func newPrimaryOf(image string) *appsv1.Deployment {
	target := newDeployment("podinfo", withRollout(), withPodSpec(func(s *corev1.PodSpec) {
		s.Containers[0].Image = image
		s.Volumes = []corev1.Volume{{Name: "cfg", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}}}}
		s.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{
			MaxSkew: 1, TopologyKey: "zone", LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "podinfo"}},
		}}
		s.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
				TopologyKey: "host",
				LabelSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
					{Key: "app", Operator: metav1.LabelSelectorOpIn, Values: []string{"podinfo", "other"}},
				}},
			}},
		}}
	}))
	target.Labels = map[string]string{"team": "web", "kustomize.toolkit.fluxcd.io/name": "apps"}
	p := NewPrimaryDeployment(newCanary(), target, PrimaryOptions{
		Selector: podinfoSelector, Configs: map[string]string{"configmap/cfg": "sum"}, IncludeLabelPrefix: []string{"*"}, ID: "id-1",
	})
	p.UID = "podinfo-primary-uid"
	return p
}

func TestNewBaselineDeployment(t *testing.T) {
	cd := newCanary()
	target := newDeployment("podinfo", withReplicas(3), withPodSpec(func(s *corev1.PodSpec) {
		s.Containers[0].Image = "podinfo:6.1.0"
	}))
	primary := newPrimaryOf("podinfo:6.0.0")
	b := NewBaselineDeployment(cd, target, primary, podinfoSelector, "run-1")

	assert.Equal(t, "podinfo-baseline", b.Name)
	assert.Equal(t, ns, b.Namespace)
	assert.Equal(t, map[string]string{"app": "podinfo-baseline", "team": "web"}, b.Labels, "no Flux keys, its own selector value")
	assert.Equal(t, []metav1.OwnerReference{*metav1.NewControllerRef(cd, flaggerv1.SchemeGroupVersion.WithKind("Canary"))},
		b.OwnerReferences, "the canary alone: deleting it deletes the baseline")
	assert.Equal(t, int32(3), *b.Spec.Replicas, "as many replicas as the canary")
	assert.Equal(t, map[string]string{"app": "podinfo-baseline"}, b.Spec.Selector.MatchLabels)

	tmpl := b.Spec.Template
	assert.Equal(t, "podinfo:6.0.0", tmpl.Spec.Containers[0].Image, "the primary's version, not the target's")
	assert.Equal(t, "cfg-primary", tmpl.Spec.Volumes[0].ConfigMap.Name, "the primary's config copies")
	assert.Equal(t, "podinfo-baseline", tmpl.Labels["app"])
	assert.Equal(t, map[string]string{FlaggerIDAnnotation: "id-1", BaselineRunAnnotation: "run-1"}, tmpl.Annotations)
	assert.Equal(t, "podinfo-baseline", tmpl.Spec.TopologySpreadConstraints[0].LabelSelector.MatchLabels["app"])
	assert.Equal(t, []string{"podinfo-baseline", "other"},
		tmpl.Spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution[0].LabelSelector.MatchExpressions[0].Values)
	assert.Equal(t, primary.Spec.Strategy, b.Spec.Strategy)
	assert.Equal(t, primary.Spec.MinReadySeconds, b.Spec.MinReadySeconds)
	assert.Equal(t, primary.Spec.ProgressDeadlineSeconds, b.Spec.ProgressDeadlineSeconds)

	assert.Equal(t, newPrimaryOf("podinfo:6.0.0"), primary, "the primary must not be changed")
	assert.Equal(t, "podinfo-primary", primary.Spec.Template.Spec.TopologySpreadConstraints[0].LabelSelector.MatchLabels["app"])

	for _, replicas := range []*int32{ptr.To[int32](0), nil} {
		target.Spec.Replicas = replicas
		assert.Equal(t, int32(1), *NewBaselineDeployment(cd, target, primary, podinfoSelector, "r").Spec.Replicas,
			"a target at zero or unset replicas: one")
	}
}

func TestBaselineNamesMatchTheArms(t *testing.T) {
	cd := newCanary()
	cd.Spec.Service.Name = "frontend"
	assert.Equal(t, "podinfo-baseline", BaselineName(cd))
	assert.Equal(t, "frontend-baseline", baselineServiceName(cd))
	assert.Equal(t, router.BaselineServiceName(cd), baselineServiceName(cd), "the route's baseline backend")
	model := metrics.Model{Target: cd.Spec.TargetRef.Name}
	assert.Equal(t, BaselineName(cd), model.ForArm(metrics.ArmBaseline).Workload, "{{ workload }} of the baseline arm")
	assert.Equal(t, PrimaryName(cd), model.ForArm(metrics.ArmPrimary).Workload, "{{ workload }} of the primary arm")
	assert.Equal(t, cd.Spec.TargetRef.Name, model.ForArm(metrics.ArmCanary).Workload, "{{ workload }} of the canary arm")
}

func newPrimaryService(mod ...func(*corev1.Service)) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "podinfo-primary", Namespace: ns, UID: "podinfo-primary-svc-uid",
			Labels: map[string]string{"app": "podinfo-primary", "tier": "web"}},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: map[string]string{"app": "podinfo-primary"},
			Ports: []corev1.ServicePort{
				{Name: "http", Protocol: corev1.ProtocolTCP, Port: 9898, TargetPort: intstr.FromInt32(9898)},
				{Name: "grpc", Protocol: corev1.ProtocolTCP, Port: 9999, TargetPort: intstr.FromString("grpc"), NodePort: 30999},
			},
		},
	}
	for _, m := range mod {
		m(s)
	}
	return s
}

func TestNewBaselineService(t *testing.T) {
	cd := newCanary()
	svc := NewBaselineService(cd, newPrimaryService(), podinfoSelector, podinfoOwner)
	assert.Equal(t, "podinfo-baseline", svc.Name)
	assert.Equal(t, map[string]string{"app": "podinfo-baseline", "tier": "web"}, svc.Labels)
	assert.Equal(t, map[string]string{"app": "podinfo-baseline"}, svc.Spec.Selector)
	assert.Equal(t, corev1.ServiceTypeClusterIP, svc.Spec.Type)
	require.Len(t, svc.Spec.Ports, 2)
	assert.Equal(t, int32(9898), svc.Spec.Ports[0].Port)
	assert.Equal(t, intstr.FromString("grpc"), svc.Spec.Ports[1].TargetPort)
	assert.Zero(t, svc.Spec.Ports[1].NodePort, "node ports are the primary's")
	assert.Empty(t, svc.Spec.ClusterIP)
	assert.Equal(t, owners.Of(cd, podinfoOwner), svc.OwnerReferences, "the route's owners: the Service lives as long as the route")
	assert.Equal(t, int32(30999), newPrimaryService().Spec.Ports[1].NodePort)

	headless := NewBaselineService(cd, newPrimaryService(func(s *corev1.Service) { s.Spec.ClusterIP = corev1.ClusterIPNone }), podinfoSelector, podinfoOwner)
	assert.Equal(t, corev1.ClusterIPNone, headless.Spec.ClusterIP)
}

func TestDiffBaseline(t *testing.T) {
	cd := newCanary()
	desired := NewBaselineDeployment(cd, newDeployment("podinfo"), newPrimaryOf("podinfo:6.0.0"), podinfoSelector, "r")
	desired.Annotations = map[string]string{BaselineTemplateAnnotation: "hash"}
	tests := []struct {
		name string
		edit func(*appsv1.Deployment)
		want baselineChange
	}{
		{"as written", func(*appsv1.Deployment) {}, baselineUpToDate},
		{"defaults and extra metadata", func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyAlways
			d.Spec.Template.Spec.Containers[0].TerminationMessagePath = "/dev/termination-log"
			d.Spec.Template.Annotations["kubectl.kubernetes.io/restartedAt"] = "now"
			d.Annotations["deployment.kubernetes.io/revision"] = "2"
			d.Status.Replicas = 7
		}, baselineUpToDate},
		{"replicas", func(d *appsv1.Deployment) { d.Spec.Replicas = ptr.To[int32](5) }, baselineUpdate},
		{"image edited", func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "x" }, baselineUpdate},
		{"template hash", func(d *appsv1.Deployment) { d.Annotations[BaselineTemplateAnnotation] = "old" }, baselineUpdate},
		{"run", func(d *appsv1.Deployment) { d.Spec.Template.Annotations[BaselineRunAnnotation] = "old" }, baselineUpdate},
		{"pod label", func(d *appsv1.Deployment) { d.Spec.Template.Labels["app"] = "podinfo" }, baselineUpdate},
		{"label", func(d *appsv1.Deployment) { delete(d.Labels, "team") }, baselineUpdate},
		{"min ready", func(d *appsv1.Deployment) { d.Spec.MinReadySeconds = 0 }, baselineUpdate},
		{"selector", func(d *appsv1.Deployment) { d.Spec.Selector.MatchLabels["app"] = "podinfo" }, baselineRecreate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			live := desired.DeepCopy()
			tt.edit(live)
			assert.Equal(t, tt.want, diffBaseline(live, desired))
			if tt.want == baselineUpdate {
				assert.Equal(t, baselineUpToDate, diffBaseline(updatedBaseline(live, desired), desired))
			}
		})
	}
}

func TestServiceDiffers(t *testing.T) {
	desired := NewBaselineService(newCanary(), newPrimaryService(), podinfoSelector, podinfoOwner)
	tests := []struct {
		name string
		edit func(*corev1.Service)
		want bool
	}{
		{"as written", func(*corev1.Service) {}, false},
		{"node port and cluster IP", func(s *corev1.Service) { s.Spec.Ports[1].NodePort = 31000; s.Spec.ClusterIP = "10.0.0.9" }, false},
		{"selector", func(s *corev1.Service) { s.Spec.Selector["app"] = "podinfo-primary" }, true},
		{"port", func(s *corev1.Service) { s.Spec.Ports[0].Port = 80 }, true},
		{"port removed", func(s *corev1.Service) { s.Spec.Ports = s.Spec.Ports[:1] }, true},
		{"label", func(s *corev1.Service) { s.Labels["app"] = "x" }, true},
		{"canary owner only", func(s *corev1.Service) { s.OwnerReferences = s.OwnerReferences[:1] }, true},
		{"target re-created", func(s *corev1.Service) { s.OwnerReferences[1].UID = "old" }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			live := desired.DeepCopy()
			tt.edit(live)
			assert.Equal(t, tt.want, serviceDiffers(live, desired))
			fixed := updatedService(live, desired)
			assert.False(t, serviceDiffers(fixed, desired))
			assert.Equal(t, live.Spec.ClusterIP, fixed.Spec.ClusterIP, "the cluster IP is immutable")
		})
	}
}
