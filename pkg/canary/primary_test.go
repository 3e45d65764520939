package canary

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var appSelector = Selector{Key: "app", Value: "podinfo"}

func TestNewPrimaryDeployment(t *testing.T) {
	cd := newCanary()
	tests := []struct {
		name   string
		target *appsv1.Deployment
		opts   PrimaryOptions
		check  func(t *testing.T, p *appsv1.Deployment)
	}{
		{
			name:   "identity, selector, owner and rollout settings",
			target: newDeployment("podinfo", withRollout()),
			opts:   PrimaryOptions{Selector: appSelector, ID: "id-1"},
			check: func(t *testing.T, p *appsv1.Deployment) {
				assert.Equal(t, "podinfo-primary", p.Name)
				assert.Equal(t, ns, p.Namespace)
				require.Len(t, p.OwnerReferences, 2)
				assert.Equal(t, podinfoOwner, p.OwnerReferences[1], "owned by the target too")
				own := p.OwnerReferences[0]
				assert.Equal(t, "Canary", own.Kind)
				assert.Equal(t, "flagger.app/v1beta1", own.APIVersion)
				assert.Equal(t, "podinfo", own.Name)
				assert.Equal(t, cd.UID, own.UID)
				assert.True(t, *own.Controller)
				assert.Equal(t, map[string]string{"app": "podinfo-primary"}, p.Spec.Selector.MatchLabels)
				assert.Equal(t, map[string]string{"app": "podinfo-primary"}, p.Labels)
				assert.Equal(t, map[string]string{"app": "podinfo-primary"}, p.Spec.Template.Labels)
				assert.Equal(t, map[string]string{"flagger-id": "id-1"}, p.Spec.Template.Annotations)
				assert.Equal(t, int32(2), *p.Spec.Replicas)
				assert.Equal(t, int32(5), p.Spec.MinReadySeconds)
				assert.Equal(t, int32(3), *p.Spec.RevisionHistoryLimit)
				assert.Equal(t, int32(120), *p.Spec.ProgressDeadlineSeconds)
				assert.Equal(t, appsv1.RollingUpdateDeploymentStrategyType, p.Spec.Strategy.Type)
				assert.Equal(t, "25%", p.Spec.Strategy.RollingUpdate.MaxSurge.String())
				assert.Equal(t, "ghcr.io/stefanprodan/podinfo:6.0.0", p.Spec.Template.Spec.Containers[0].Image)
			},
		},
		{
			name:   "target at zero replicas gives one",
			target: newDeployment("podinfo", withReplicas(0)),
			opts:   PrimaryOptions{Selector: appSelector},
			check: func(t *testing.T, p *appsv1.Deployment) {
				assert.Equal(t, int32(1), *p.Spec.Replicas)
			},
		},
		{
			name:   "unset replicas gives one",
			target: func() *appsv1.Deployment { d := newDeployment("podinfo"); d.Spec.Replicas = nil; return d }(),
			opts:   PrimaryOptions{Selector: appSelector},
			check: func(t *testing.T, p *appsv1.Deployment) {
				assert.Equal(t, int32(1), *p.Spec.Replicas)
			},
		},
		{
			name:   "labels filtered by prefix, annotations without Flux keys",
			target: newDeployment("podinfo", withMetadata()),
			opts:   PrimaryOptions{Selector: appSelector, IncludeLabelPrefix: []string{"team", ""}, ID: "new"},
			check: func(t *testing.T, p *appsv1.Deployment) {
				assert.Equal(t, map[string]string{"app": "podinfo-primary", "team": "a", "team.io/x": "b"}, p.Labels)
				assert.Equal(t, map[string]string{"note": "kept", "kubectl.kubernetes.io/last-applied-configuration": "{}"}, p.Annotations)
				assert.Equal(t, map[string]string{"app": "podinfo-primary", "version": "v1"}, p.Spec.Template.Labels)
				assert.Equal(t, map[string]string{"prometheus.io/scrape": "true", "flagger-id": "new"}, p.Spec.Template.Annotations)
			},
		},
		{
			name:   "default prefix copies no labels, star copies all but Flux keys",
			target: newDeployment("podinfo", withMetadata()),
			opts:   PrimaryOptions{Selector: appSelector, IncludeLabelPrefix: []string{"*"}},
			check: func(t *testing.T, p *appsv1.Deployment) {
				assert.Equal(t, map[string]string{"app": "podinfo-primary", "team": "a", "team.io/x": "b", "other": "c"}, p.Labels)
			},
		},
		{
			name:   "anti-affinity and topology spread follow the primary",
			target: newDeployment("podinfo", withPodSpec(spreadSpec)),
			opts:   PrimaryOptions{Selector: appSelector},
			check: func(t *testing.T, p *appsv1.Deployment) {
				spec := p.Spec.Template.Spec
				assert.Equal(t, map[string]string{"app": "podinfo-primary", "name": "podinfo"},
					spec.TopologySpreadConstraints[0].LabelSelector.MatchLabels)
				anti := spec.Affinity.PodAntiAffinity
				assert.Equal(t, []string{"podinfo-primary", "other"},
					anti.RequiredDuringSchedulingIgnoredDuringExecution[0].LabelSelector.MatchExpressions[0].Values)
				assert.Equal(t, []string{"podinfo"},
					anti.RequiredDuringSchedulingIgnoredDuringExecution[0].LabelSelector.MatchExpressions[1].Values)
				assert.Equal(t, map[string]string{"app": "podinfo-primary"},
					anti.PreferredDuringSchedulingIgnoredDuringExecution[0].PodAffinityTerm.LabelSelector.MatchLabels)
				assert.Equal(t, map[string]string{"app": "podinfo"},
					spec.Affinity.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution[0].LabelSelector.MatchLabels,
					"pod affinity is not a spread rule")
			},
		},
		{
			name:   "tracked config refs point at the -primary copies",
			target: newDeployment("podinfo", withPodSpec(configPodSpec)),
			opts: PrimaryOptions{Selector: appSelector, Configs: map[string]string{
				"configmap/cfg-vol": "1", "secret/sec-env": "2", "configmap/cfg-init": "3"}},
			check: func(t *testing.T, p *appsv1.Deployment) {
				spec := p.Spec.Template.Spec
				assert.Equal(t, "cfg-vol-primary", spec.Volumes[0].ConfigMap.Name)
				assert.Equal(t, "sec-vol", spec.Volumes[1].Secret.SecretName, "untracked")
				assert.Equal(t, "sec-env-primary", spec.Containers[0].Env[1].ValueFrom.SecretKeyRef.Name)
				assert.Equal(t, "cfg-init-primary", spec.InitContainers[0].EnvFrom[0].ConfigMapRef.Name)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.target.DeepCopy()
			p := NewPrimaryDeployment(cd, tt.target, tt.opts)
			tt.check(t, p)
			assert.Equal(t, before, tt.target, "the target must not change")
		})
	}
}

func TestPromotePrimary(t *testing.T) {
	target := newDeployment("podinfo", withRollout(), withMetadata(), withReplicas(4), withPodSpec(configPodSpec))
	target.Spec.Template.Spec.Containers[0].Image = "ghcr.io/stefanprodan/podinfo:6.0.1"
	old := NewPrimaryDeployment(newCanary(), newDeployment("podinfo"), PrimaryOptions{Selector: appSelector, ID: "old"})
	old.ResourceVersion = "7"
	opts := PrimaryOptions{Selector: appSelector, ID: "new", IncludeLabelPrefix: []string{"team"},
		Configs: map[string]string{"configmap/cfg-env": "x"}}

	p := PromotePrimary(newCanary(), target, old, opts)
	assert.Equal(t, "7", p.ResourceVersion, "an update of the primary")
	assert.Equal(t, old.OwnerReferences, p.OwnerReferences)
	assert.Equal(t, old.Spec.Selector, p.Spec.Selector)
	assert.Equal(t, "ghcr.io/stefanprodan/podinfo:6.0.1", p.Spec.Template.Spec.Containers[0].Image)
	assert.Equal(t, "cfg-env-primary", p.Spec.Template.Spec.Containers[0].Env[0].ValueFrom.ConfigMapKeyRef.Name)
	assert.Equal(t, "new", p.Spec.Template.Annotations[FlaggerIDAnnotation])
	assert.Equal(t, map[string]string{"app": "podinfo-primary", "version": "v1"}, p.Spec.Template.Labels)
	assert.Equal(t, target.Spec.Strategy, p.Spec.Strategy)
	assert.Equal(t, int32(5), p.Spec.MinReadySeconds)
	assert.Equal(t, int32(120), *p.Spec.ProgressDeadlineSeconds)
	assert.Equal(t, int32(3), *p.Spec.RevisionHistoryLimit)
	assert.Equal(t, int32(4), *p.Spec.Replicas)
	assert.Equal(t, map[string]string{"app": "podinfo-primary", "team": "a", "team.io/x": "b"}, p.Labels)
	assert.Nil(t, p.Annotations, "annotations follow the include prefixes on promotion")
	assert.Equal(t, "old", old.Spec.Template.Annotations[FlaggerIDAnnotation], "the primary must not change")

	t.Run("autoscaler owns the replicas", func(t *testing.T) {
		p := PromotePrimary(newCanary(withHPARef("podinfo")), target, old, opts)
		assert.Equal(t, int32(2), *p.Spec.Replicas)
	})
	t.Run("a target at zero keeps the primary's replicas", func(t *testing.T) {
		p := PromotePrimary(newCanary(), newDeployment("podinfo", withReplicas(0)), old, opts)
		assert.Equal(t, int32(2), *p.Spec.Replicas)
	})
}

// withMetadata gives a Deployment labels and annotations to filter.
func withMetadata() depOpt {
	return func(d *appsv1.Deployment) {
		d.Labels = map[string]string{
			"app": "podinfo", "team": "a", "team.io/x": "b", "other": "c",
			"kustomize.toolkit.fluxcd.io/name": "apps",
		}
		d.Annotations = map[string]string{
			"note": "kept", "kubectl.kubernetes.io/last-applied-configuration": "{}",
			"kustomize.toolkit.fluxcd.io/checksum": "x",
		}
		d.Spec.Template.Labels = map[string]string{"app": "podinfo", "version": "v1", "helm.toolkit.fluxcd.io/name": "x"}
		d.Spec.Template.Annotations = map[string]string{
			"prometheus.io/scrape": "true", "flagger-id": "stale", "kustomize.toolkit.fluxcd.io/reconcile": "x",
		}
	}
}

func spreadSpec(s *corev1.PodSpec) {
	s.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{
		MaxSkew: 1, TopologyKey: "zone", WhenUnsatisfiable: corev1.ScheduleAnyway,
		LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "podinfo", "name": "podinfo"}},
	}}
	term := func(ls *metav1.LabelSelector) corev1.PodAffinityTerm {
		return corev1.PodAffinityTerm{TopologyKey: "kubernetes.io/hostname", LabelSelector: ls}
	}
	s.Affinity = &corev1.Affinity{
		PodAntiAffinity: &corev1.PodAntiAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{term(&metav1.LabelSelector{
				MatchExpressions: []metav1.LabelSelectorRequirement{
					{Key: "app", Operator: metav1.LabelSelectorOpIn, Values: []string{"podinfo", "other"}},
					{Key: "name", Operator: metav1.LabelSelectorOpIn, Values: []string{"podinfo"}},
				},
			})},
			PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
				Weight: 100, PodAffinityTerm: term(&metav1.LabelSelector{MatchLabels: map[string]string{"app": "podinfo"}}),
			}},
		},
		PodAffinity: &corev1.PodAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{term(&metav1.LabelSelector{
				MatchLabels: map[string]string{"app": "podinfo"}})},
		},
	}
}
