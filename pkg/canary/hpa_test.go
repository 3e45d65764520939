package canary

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/syncerr"
)

func TestNewPrimaryHPA(t *testing.T) {
	hpa := newHPA("podinfo-hpa", "podinfo", ptr.To[int32](2), 10)
	hpa.Labels = map[string]string{"team": "a", "helm.toolkit.fluxcd.io/name": "x"}
	hpa.Annotations = map[string]string{"team.io/note": "n", "other": "o"}
	hpa.Spec.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{
		ScaleDown: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr.To[int32](60)},
	}
	cd := newCanary(withHPARef("podinfo-hpa"))

	got := NewPrimaryHPA(cd, hpa, podinfoOwner, []string{"team.io"})
	assert.Equal(t, "podinfo-hpa-primary", got.Name)
	assert.Equal(t, ns, got.Namespace)
	assert.Equal(t, autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "podinfo-primary"},
		got.Spec.ScaleTargetRef)
	assert.Equal(t, int32(2), *got.Spec.MinReplicas)
	assert.Equal(t, int32(10), got.Spec.MaxReplicas)
	assert.Equal(t, hpa.Spec.Metrics, got.Spec.Metrics)
	assert.Equal(t, hpa.Spec.Behavior, got.Spec.Behavior)
	assert.Equal(t, map[string]string{"team": "a"}, got.Labels)
	assert.Equal(t, map[string]string{"team.io/note": "n"}, got.Annotations)
	assert.Equal(t, "Canary", got.OwnerReferences[0].Kind)

	t.Run("primaryScalerReplicas", func(t *testing.T) {
		cd := newCanary(withHPARef("podinfo-hpa"), func(cd *flaggerv1.Canary) {
			cd.Spec.AutoscalerRef.PrimaryScalerReplicas = &flaggerv1.ScalerReplicas{
				MinReplicas: ptr.To[int32](4), MaxReplicas: ptr.To[int32](20)}
		})
		got := NewPrimaryHPA(cd, hpa, podinfoOwner, nil)
		assert.Equal(t, int32(4), *got.Spec.MinReplicas)
		assert.Equal(t, int32(20), got.Spec.MaxReplicas)
		assert.Equal(t, int32(2), *hpa.Spec.MinReplicas, "the target's HPA must not change")

		cd.Spec.AutoscalerRef.PrimaryScalerReplicas = &flaggerv1.ScalerReplicas{MaxReplicas: ptr.To[int32](30)}
		got = NewPrimaryHPA(cd, hpa, podinfoOwner, nil)
		assert.Equal(t, int32(2), *got.Spec.MinReplicas)
		assert.Equal(t, int32(30), got.Spec.MaxReplicas)
	})
}

func TestReconcilePrimaryHPA(t *testing.T) {
	ctx := context.TODO()
	cd := newCanary(withHPARef("podinfo"))
	hpa := newHPA("podinfo", "podinfo", nil, 10)
	current := NewPrimaryHPA(cd, hpa, podinfoOwner, nil)
	current.Spec.MinReplicas = ptr.To[int32](1) // defaulted by the API server
	stale := NewPrimaryHPA(cd, newHPA("podinfo", "podinfo", nil, 5), podinfoOwner, nil)

	tests := []struct {
		name   string
		objs   []runtime.Object
		update bool
		writes []string
		max    int32
	}{
		{"create", []runtime.Object{hpa}, false, []string{"create"}, 10},
		{"create while promoting", []runtime.Object{hpa}, true, []string{"create"}, 10},
		{"stale, no update outside Promoting", []runtime.Object{hpa, stale}, false, nil, 5},
		{"stale, update while promoting", []runtime.Object{hpa, stale}, true, []string{"update"}, 10},
		{"current", []runtime.Object{hpa, current}, true, nil, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, append(tt.objs, newDeployment("podinfo"))...)
			require.NoError(t, f.ctrl.ReconcilePrimaryHPA(ctx, cd, tt.update))
			var verbs []string
			for _, a := range f.writes() {
				verbs = append(verbs, a.GetVerb())
			}
			assert.Equal(t, tt.writes, verbs)
			got, err := f.kube.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, "podinfo-primary", metav1.GetOptions{})
			require.NoError(t, err)
			assert.Equal(t, tt.max, got.Spec.MaxReplicas)
			assert.Equal(t, "podinfo-primary", got.Spec.ScaleTargetRef.Name)
		})
	}

	t.Run("no autoscaler", func(t *testing.T) {
		f := newFixture(t)
		require.NoError(t, f.ctrl.ReconcilePrimaryHPA(ctx, newCanary(), true))
		assert.Empty(t, f.writes())
	})
	t.Run("KEDA is not installed", func(t *testing.T) {
		f := newFixture(t)
		cd := newCanary(func(cd *flaggerv1.Canary) {
			cd.Spec.AutoscalerRef = &flaggerv1.AutoscalerReference{Kind: "ScaledObject", Name: "podinfo"}
		})
		err := f.ctrl.ReconcilePrimaryHPA(ctx, cd, true)
		require.ErrorIs(t, err, ErrKEDANotInstalled)
		assert.True(t, syncerr.IsPermanent(err), "no retry installs KEDA")
		assert.ErrorContains(t, err, "spec.autoscalerRef.kind")
	})
	t.Run("unknown kind", func(t *testing.T) {
		f := newFixture(t)
		cd := newCanary(func(cd *flaggerv1.Canary) {
			cd.Spec.AutoscalerRef = &flaggerv1.AutoscalerReference{Kind: "VerticalPodAutoscaler", Name: "podinfo"}
		})
		require.ErrorIs(t, f.ctrl.ReconcilePrimaryHPA(ctx, cd, true), ErrUnsupportedAutoscaler)
	})
	t.Run("missing target HPA", func(t *testing.T) {
		f := newFixture(t)
		require.ErrorContains(t, f.ctrl.ReconcilePrimaryHPA(ctx, cd, false), "HorizontalPodAutoscaler podinfo.test get query error")
	})
}
