package canary

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

func TestScaleFromZeroReplicas(t *testing.T) {
	keda := func(cd *flaggerv1.Canary) {
		cd.Spec.AutoscalerRef = &flaggerv1.AutoscalerReference{Kind: "ScaledObject", Name: "podinfo"}
	}
	tests := []struct {
		name    string
		cd      *flaggerv1.Canary
		target  int32
		primary *appsv1.Deployment
		min     int32
		want    int32
	}{
		{"target replicas win", newCanary(), 3, newDeployment("p", withReplicas(5)), 0, 3},
		{"else the primary's", newCanary(), 0, newDeployment("p", withReplicas(5)), 0, 5},
		{"primary at zero", newCanary(), 0, newDeployment("p", withReplicas(0)), 0, 1},
		{"no primary", newCanary(), 0, nil, 0, 1},
		{"autoscaler min above one", newCanary(withHPARef("podinfo")), 0, newDeployment("p", withReplicas(5)), 3, 3},
		{"autoscaler min one", newCanary(withHPARef("podinfo")), 0, nil, 1, 1},
		{"autoscaler min unset or missing", newCanary(withHPARef("podinfo")), 0, nil, 0, 1},
		{"scaledobject min above one", newCanary(keda), 0, newDeployment("p", withReplicas(5)), 4, 4},
		{"scaledobject ignores the primary", newCanary(keda), 0, newDeployment("p", withReplicas(5)), 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := newDeployment("podinfo", withReplicas(tt.target))
			assert.Equal(t, tt.want, ScaleFromZeroReplicas(tt.cd, target, tt.primary, tt.min))
		})
	}
}

func TestScaleToZero(t *testing.T) {
	ctx := context.TODO()
	f := newFixture(t, newDeployment("podinfo", withReplicas(3)))
	require.NoError(t, f.ctrl.ScaleToZero(ctx, newCanary()))
	require.Len(t, f.writes(), 1)
	assert.Equal(t, "patch", f.writes()[0].GetVerb())
	assert.Equal(t, int32(0), *f.deployment(t, "podinfo").Spec.Replicas)

	t.Run("already at zero", func(t *testing.T) {
		f := newFixture(t, newDeployment("podinfo", withReplicas(0)))
		require.NoError(t, f.ctrl.ScaleToZero(ctx, newCanary()))
		assert.Empty(t, f.writes())
	})
	t.Run("missing target", func(t *testing.T) {
		f := newFixture(t)
		require.ErrorContains(t, f.ctrl.ScaleToZero(ctx, newCanary()), "deployment podinfo.test get query error")
	})
}

func TestScaleFromZero(t *testing.T) {
	ctx := context.TODO()
	tests := []struct {
		name   string
		cd     *flaggerv1.Canary
		objs   []runtime.Object
		want   int32
		writes int
	}{
		{"primary's replicas", newCanary(),
			[]runtime.Object{newDeployment("podinfo", withReplicas(0)), newDeployment("podinfo-primary", withReplicas(4))}, 4, 1},
		{"hpa minimum", newCanary(withHPARef("podinfo")),
			[]runtime.Object{newDeployment("podinfo", withReplicas(0)), newHPA("podinfo", "podinfo", ptr.To[int32](2), 5)}, 2, 1},
		{"already scaled", newCanary(),
			[]runtime.Object{newDeployment("podinfo", withReplicas(2)), newDeployment("podinfo-primary", withReplicas(4))}, 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.objs...)
			require.NoError(t, f.ctrl.ScaleFromZero(ctx, tt.cd))
			assert.Len(t, f.writes(), tt.writes)
			assert.Equal(t, tt.want, *f.deployment(t, "podinfo").Spec.Replicas)
		})
	}
}

func TestFinalize(t *testing.T) {
	ctx := context.TODO()
	tests := []struct {
		name   string
		cd     *flaggerv1.Canary
		objs   []runtime.Object
		want   int32
		writes int
	}{
		{"primary's replicas", newCanary(),
			[]runtime.Object{newDeployment("podinfo", withReplicas(0)), newDeployment("podinfo-primary", withReplicas(3))}, 3, 1},
		{"no primary, no autoscaler", newCanary(), []runtime.Object{newDeployment("podinfo", withReplicas(0))}, 1, 1},
		{"no primary, hpa minimum", newCanary(withHPARef("podinfo")),
			[]runtime.Object{newDeployment("podinfo", withReplicas(0)), newHPA("podinfo", "podinfo", ptr.To[int32](3), 6)}, 3, 1},
		{"already equal", newCanary(),
			[]runtime.Object{newDeployment("podinfo", withReplicas(3)), newDeployment("podinfo-primary", withReplicas(3))}, 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.objs...)
			require.NoError(t, f.ctrl.Finalize(ctx, tt.cd))
			assert.Len(t, f.writes(), tt.writes)
			assert.Equal(t, tt.want, *f.deployment(t, "podinfo").Spec.Replicas)
		})
	}
}

func TestFinalizeReplicas(t *testing.T) {
	primary := newDeployment("podinfo-primary")
	primary.Spec.Replicas = nil
	assert.Equal(t, int32(1), FinalizeReplicas(newCanary(), newDeployment("podinfo", withReplicas(0)), primary, 0))
}
