package canary

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// isStuck reports whether err is, or wraps, a NotReadyError past its deadline.
func isStuck(err error) bool {
	var nre *NotReadyError
	return errors.As(err, &nre) && nre.Stuck
}

func TestCheckRollout(t *testing.T) {
	const deadline = 10 * time.Minute
	progressing := withCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, "ReplicaSetUpdated", testNow)
	unavailableSince := func(d time.Duration) depOpt {
		return withCondition(appsv1.DeploymentAvailable, corev1.ConditionFalse, "MinimumReplicasUnavailable", testNow.Add(-d))
	}
	tests := []struct {
		name      string
		dep       *appsv1.Deployment
		threshold int
		msg       string
		permanent bool
	}{
		{name: "ready", dep: newDeployment("podinfo", progressing), threshold: 100},
		{name: "generation not observed", threshold: 100,
			dep: func() *appsv1.Deployment { d := newDeployment("podinfo"); d.Generation = 2; return d }(),
			msg: "waiting for rollout to finish: observed deployment generation less than desired generation"},
		{name: "replicas not updated", dep: newDeployment("podinfo", withStatus(2, 1, 1)), threshold: 100,
			msg: "waiting for rollout to finish: 1 out of 2 new replicas have been updated"},
		{name: "old replicas terminating", dep: newDeployment("podinfo", withStatus(3, 2, 2)), threshold: 100,
			msg: "waiting for rollout to finish: 1 old replicas are pending termination"},
		{name: "not available", dep: newDeployment("podinfo", withReplicas(1), withStatus(1, 1, 0)), threshold: 100,
			msg: "waiting for rollout to finish: 0 of 1 (readyThreshold 100%) updated replicas are available"},
		{name: "below threshold", dep: newDeployment("podinfo", withReplicas(4), withStatus(4, 4, 1)), threshold: 50,
			msg: "waiting for rollout to finish: 1 of 2 (readyThreshold 50%) updated replicas are available"},
		{name: "threshold met", dep: newDeployment("podinfo", withReplicas(4), withStatus(4, 4, 2)), threshold: 50},
		{name: "own progress deadline exceeded", threshold: 100, permanent: true,
			dep: newDeployment("podinfo", withStatus(2, 1, 1),
				withCondition(appsv1.DeploymentProgressing, corev1.ConditionFalse, "ProgressDeadlineExceeded", testNow)),
			msg: `deployment "podinfo" exceeded its progress deadline`},
		{name: "unavailable past the canary deadline", threshold: 100, permanent: true,
			dep: newDeployment("podinfo", withStatus(2, 1, 1), progressing, unavailableSince(deadline+time.Second)),
			msg: "waiting for rollout to finish: 1 out of 2 new replicas have been updated"},
		{name: "unavailable within the canary deadline", threshold: 100,
			dep: newDeployment("podinfo", withStatus(2, 1, 1), progressing, unavailableSince(deadline-time.Second)),
			msg: "waiting for rollout to finish: 1 out of 2 new replicas have been updated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckRollout(tt.dep, tt.threshold, deadline, testNow)
			if tt.msg == "" {
				require.NoError(t, err)
				return
			}
			require.EqualError(t, err, tt.msg)
			var nre *NotReadyError
			require.ErrorAs(t, err, &nre)
			assert.Equal(t, tt.permanent, nre.Stuck)
			assert.Equal(t, tt.permanent, isStuck(fmt.Errorf("wrapped: %w", err)))
		})
	}
}

func TestIsPrimaryReady(t *testing.T) {
	ctx := context.TODO()
	t.Run("rolling out", func(t *testing.T) {
		f := newFixture(t, newDeployment("podinfo-primary", withReplicas(1), withStatus(1, 1, 0)))
		err := f.ctrl.IsPrimaryReady(ctx, newCanary())
		require.EqualError(t, err,
			"podinfo-primary.test not ready: waiting for rollout to finish: 0 of 1 (readyThreshold 100%) updated replicas are available")
		assert.False(t, isStuck(err))
	})
	t.Run("primaryReadyThreshold", func(t *testing.T) {
		f := newFixture(t, newDeployment("podinfo-primary", withReplicas(4), withStatus(4, 4, 2)))
		cd := newCanary(func(cd *flaggerv1.Canary) { cd.Spec.Analysis.PrimaryReadyThreshold = ptr.To(50) })
		require.NoError(t, f.ctrl.IsPrimaryReady(ctx, cd))
		require.Error(t, f.ctrl.IsPrimaryReady(ctx, newCanary()))
	})
	t.Run("scaled to zero", func(t *testing.T) {
		f := newFixture(t, newDeployment("podinfo-primary", withReplicas(0), withStatus(0, 0, 0)))
		err := f.ctrl.IsPrimaryReady(ctx, newCanary())
		require.EqualError(t, err, "halt podinfo.test advancement: primary deployment is scaled to zero")
		var nre *NotReadyError
		require.ErrorAs(t, err, &nre)
		assert.False(t, nre.Stuck)
	})
	t.Run("missing", func(t *testing.T) {
		f := newFixture(t)
		err := f.ctrl.IsPrimaryReady(ctx, newCanary())
		require.ErrorContains(t, err, "deployment podinfo-primary.test get query error")
		var nre *NotReadyError
		assert.False(t, errors.As(err, &nre), "a read failure is not a readiness verdict")
	})
}

func TestIsCanaryReady(t *testing.T) {
	ctx := context.TODO()
	t.Run("rolling out", func(t *testing.T) {
		f := newFixture(t, newDeployment("podinfo", withStatus(2, 1, 1)))
		err := f.ctrl.IsCanaryReady(ctx, newCanary())
		require.EqualError(t, err,
			"canary deployment podinfo.test not ready: waiting for rollout to finish: 1 out of 2 new replicas have been updated")
		assert.False(t, isStuck(err))
	})
	t.Run("stuck past the canary's progressDeadlineSeconds", func(t *testing.T) {
		dep := newDeployment("podinfo", withStatus(2, 1, 1),
			withCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, "ReplicaSetUpdated", testNow),
			withCondition(appsv1.DeploymentAvailable, corev1.ConditionFalse, "MinimumReplicasUnavailable", testNow.Add(-61*time.Second)))
		f := newFixture(t, dep)
		cd := newCanary(func(cd *flaggerv1.Canary) { cd.Spec.ProgressDeadlineSeconds = ptr.To[int32](60) })
		err := f.ctrl.IsCanaryReady(ctx, cd)
		require.Error(t, err)
		assert.True(t, isStuck(err))
		assert.False(t, isStuck(f.ctrl.IsCanaryReady(ctx, newCanary())), "default deadline is 600s")
	})
	t.Run("scaled to zero", func(t *testing.T) {
		// What a cache that has not seen the scale-up yet shows: rolled out, at 0.
		f := newFixture(t, newDeployment("podinfo", withReplicas(0), withStatus(0, 0, 0)))
		err := f.ctrl.IsCanaryReady(ctx, newCanary())
		require.EqualError(t, err, "canary deployment podinfo.test not ready: scaled to zero")
		assert.False(t, isStuck(err))
	})
	t.Run("scaling down to zero", func(t *testing.T) {
		// The Deployment controller sums the ReplicaSets' status, which
		// still counts the pods being deleted.
		f := newFixture(t, newDeployment("podinfo", withReplicas(0), withStatus(2, 2, 2)))
		err := f.ctrl.IsCanaryReady(ctx, newCanary())
		require.EqualError(t, err, "canary deployment podinfo.test not ready: scaling down to zero, 2 replicas left")
		var nre *NotReadyError
		require.ErrorAs(t, err, &nre)
		assert.True(t, nre.Draining)
		assert.False(t, nre.Stuck)

		unobserved := newDeployment("podinfo", withReplicas(0), withStatus(0, 0, 0))
		unobserved.Generation = unobserved.Status.ObservedGeneration + 1
		err = newFixture(t, unobserved).ctrl.IsCanaryReady(ctx, newCanary())
		require.ErrorAs(t, err, &nre)
		assert.True(t, nre.Draining, "a scale-down not yet observed")
	})
	t.Run("canaryReadyThreshold", func(t *testing.T) {
		f := newFixture(t, newDeployment("podinfo", withReplicas(4), withStatus(4, 4, 3)))
		cd := newCanary(func(cd *flaggerv1.Canary) { cd.Spec.Analysis.CanaryReadyThreshold = ptr.To(75) })
		require.NoError(t, f.ctrl.IsCanaryReady(ctx, cd))
	})
}
