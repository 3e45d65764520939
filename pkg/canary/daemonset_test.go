package canary

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/owners"
	"github.com/serin-dev/serin/pkg/syncerr"
)

func TestDaemonSetRevisionTemplate(t *testing.T) {
	plain := newDaemonSet("podinfo", withNodeSelector("disk", "ssd"))
	down := newDaemonSet("podinfo", withNodeSelector("disk", "ssd"), scaledDown)
	want, err := PodTemplateHash(&plain.Spec.Template)
	require.NoError(t, err)

	got, err := PodTemplateHash(DaemonSetRevisionTemplate(down))
	require.NoError(t, err)
	assert.Equal(t, want, got, "scaling to zero is not a new revision")
	assert.Equal(t, map[string]string{"disk": "ssd"}, DaemonSetRevisionTemplate(down).Spec.NodeSelector)
	assert.True(t, ScaledToZero(down), "the cached object is not changed")

	alone := newDaemonSet("podinfo", scaledDown)
	assert.Nil(t, DaemonSetRevisionTemplate(alone).Spec.NodeSelector, "an emptied node selector is unset")
	assert.Same(t, &plain.Spec.Template, DaemonSetRevisionTemplate(plain), "nothing to remove, no copy")
}

func TestNewPrimaryDaemonSet(t *testing.T) {
	target := newDaemonSet("podinfo", withNodeSelector("disk", "ssd"), scaledDown, withRollingUpdate,
		func(d *appsv1.DaemonSet) { d.Labels = map[string]string{"app": "podinfo", "team": "a"} })
	opts := PrimaryOptions{Selector: Selector{Key: "app", Value: "podinfo"}, IncludeLabelPrefix: []string{"team"}, ID: "id-1"}
	cd := newCanary(dsCanary)

	primary := NewPrimaryDaemonSet(cd, target, opts)
	assert.Equal(t, "podinfo-primary", primary.Name)
	assert.Equal(t, map[string]string{"app": "podinfo-primary", "team": "a"}, primary.Labels)
	assert.Equal(t, map[string]string{"app": "podinfo-primary"}, primary.Spec.Selector.MatchLabels)
	assert.Equal(t, map[string]string{"app": "podinfo-primary"}, primary.Spec.Template.Labels)
	assert.Equal(t, "id-1", primary.Spec.Template.Annotations[FlaggerIDAnnotation])
	assert.Equal(t, map[string]string{"disk": "ssd"}, primary.Spec.Template.Spec.NodeSelector,
		"the primary never gets the target's scale-to-zero node selector")
	assert.Equal(t, target.Spec.UpdateStrategy, primary.Spec.UpdateStrategy)
	assert.Equal(t, int32(5), primary.Spec.MinReadySeconds)
	assert.Equal(t, []metav1.OwnerReference{ownerRef(cd),
		{APIVersion: "apps/v1", Kind: "DaemonSet", Name: "podinfo", UID: "podinfo-uid"}}, primary.OwnerReferences,
		"the garbage collector finds the owner by its kind")
	assert.True(t, ScaledToZero(target), "the target is not changed")

	next := newDaemonSet("podinfo", withImage("ghcr.io/stefanprodan/podinfo:6.0.1"),
		func(d *appsv1.DaemonSet) { d.Spec.MinReadySeconds = 9 })
	opts.ID = "id-2"
	promoted := PromotePrimaryDaemonSet(next, primary, opts)
	assert.Equal(t, "ghcr.io/stefanprodan/podinfo:6.0.1", promoted.Spec.Template.Spec.Containers[0].Image)
	assert.Equal(t, "id-2", promoted.Spec.Template.Annotations[FlaggerIDAnnotation])
	assert.Equal(t, int32(9), promoted.Spec.MinReadySeconds)
	assert.Equal(t, primary.Spec.Selector, promoted.Spec.Selector, "the selector is immutable")
	assert.Equal(t, "ghcr.io/stefanprodan/podinfo:6.0.0", primary.Spec.Template.Spec.Containers[0].Image, "a copy is promoted")
}

func TestCheckDaemonSetRollout(t *testing.T) {
	since := testNow.Add(-time.Minute)
	tests := []struct {
		name     string
		ds       *appsv1.DaemonSet
		since    time.Time
		deadline time.Duration
		want     string
		stuck    bool
	}{
		{name: "rolled out", ds: newDaemonSet("podinfo"), since: since, deadline: time.Hour},
		{name: "no node to run on", ds: newDaemonSet("podinfo", withDSStatus(0, 0, 0)), since: since, deadline: time.Hour},
		{name: "generation not observed", ds: newDaemonSet("podinfo", func(d *appsv1.DaemonSet) { d.Generation = 2 }),
			since: since, deadline: time.Second,
			want: "waiting for rollout to finish: observed daemonset generation less than desired generation"},
		{name: "pods being updated", ds: newDaemonSet("podinfo", withDSStatus(3, 1, 3)), since: since, deadline: time.Hour,
			want: "waiting for rollout to finish: 1 out of 3 new pods have been updated"},
		{name: "updated pods starting", ds: newDaemonSet("podinfo", withDSStatus(3, 3, 2)), since: since, deadline: time.Hour,
			want: "waiting for rollout to finish: 2 of 3 updated pods are available"},
		{name: "past the canary's deadline", ds: newDaemonSet("podinfo", withDSStatus(3, 3, 2)), since: since, deadline: 30 * time.Second,
			want: "exceeded its progressDeadlineSeconds: 30", stuck: true},
		{name: "no transition time yet", ds: newDaemonSet("podinfo", withDSStatus(3, 3, 2)), deadline: 30 * time.Second,
			want: "waiting for rollout to finish: 2 of 3 updated pods are available"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckDaemonSetRollout(tt.ds, tt.since, tt.deadline, testNow)
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			var nre *NotReadyError
			require.ErrorAs(t, err, &nre)
			assert.Equal(t, tt.want, nre.Message)
			assert.Equal(t, tt.stuck, nre.Stuck)
		})
	}
}

func TestDaemonSetReadiness(t *testing.T) {
	cd := newCanary(dsCanary, func(cd *flaggerv1.Canary) {
		cd.Status.LastTransitionTime = metav1.NewTime(testNow.Add(-20 * time.Minute))
	})
	tests := []struct {
		name     string
		target   *appsv1.DaemonSet
		primary  *appsv1.DaemonSet
		canary   string // "" when ready
		draining bool
		stuck    bool
		primErr  string
	}{
		{name: "both ready", target: newDaemonSet("podinfo"), primary: newDaemonSet("podinfo-primary")},
		{name: "target scaled to zero", target: newDaemonSet("podinfo", scaledDown), primary: newDaemonSet("podinfo-primary"),
			canary: "canary daemonset podinfo.test not ready: scaled to zero"},
		{name: "target's pods going", primary: newDaemonSet("podinfo-primary"),
			target: newDaemonSet("podinfo", scaledDown, func(d *appsv1.DaemonSet) { d.Status.NumberMisscheduled = 2 }),
			canary: "canary daemonset podinfo.test not ready: scaling down to zero, 2 pods left", draining: true},
		{name: "scale-down not seen yet", primary: newDaemonSet("podinfo-primary"),
			target: newDaemonSet("podinfo", scaledDown, func(d *appsv1.DaemonSet) { d.Generation = 2 }),
			canary: "canary daemonset podinfo.test not ready: scaling down to zero, 0 pods left", draining: true},
		{name: "target stuck past the canary's deadline", primary: newDaemonSet("podinfo-primary"),
			target: newDaemonSet("podinfo", withDSStatus(3, 1, 1)),
			canary: "canary daemonset podinfo.test not ready: exceeded its progressDeadlineSeconds: 600", stuck: true},
		{name: "primary scaled to zero", target: newDaemonSet("podinfo"), primary: newDaemonSet("podinfo-primary", scaledDown),
			primErr: "halt podinfo.test advancement: primary daemonset is scaled to zero"},
		{name: "primary rolling out", target: newDaemonSet("podinfo"),
			primary: newDaemonSet("podinfo-primary", withDSStatus(3, 2, 3)),
			primErr: "primary daemonset podinfo-primary.test not ready: exceeded its progressDeadlineSeconds: 600"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.target, tt.primary)
			err := f.ctrl.IsCanaryReady(context.TODO(), cd)
			if tt.canary == "" {
				require.NoError(t, err)
			} else {
				var nre *NotReadyError
				require.ErrorAs(t, err, &nre)
				assert.Equal(t, tt.canary, nre.Message)
				assert.Equal(t, tt.draining, nre.Draining)
				assert.Equal(t, tt.stuck, nre.Stuck)
			}
			err = f.ctrl.IsPrimaryReady(context.TODO(), cd)
			if tt.primErr == "" {
				require.NoError(t, err)
			} else {
				assert.EqualError(t, err, tt.primErr)
			}
		})
	}
}

func TestDaemonSetScale(t *testing.T) {
	ctx := context.TODO()
	tests := []struct {
		name     string
		target   *appsv1.DaemonSet
		scale    func(*Deployments, context.Context, *flaggerv1.Canary) error
		wantZero bool
		writes   int
	}{
		{"to zero", newDaemonSet("podinfo", withNodeSelector("disk", "ssd")), (*Deployments).ScaleToZero, true, 1},
		{"to zero again", newDaemonSet("podinfo", scaledDown), (*Deployments).ScaleToZero, true, 0},
		{"from zero", newDaemonSet("podinfo", withNodeSelector("disk", "ssd"), scaledDown), (*Deployments).ScaleFromZero, false, 1},
		{"from zero again", newDaemonSet("podinfo"), (*Deployments).ScaleFromZero, false, 0},
		{"finalize", newDaemonSet("podinfo", scaledDown), (*Deployments).Finalize, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.target)
			require.NoError(t, tt.scale(f.ctrl, ctx, newCanary(dsCanary)))
			require.Len(t, f.writes(), tt.writes)
			for _, w := range f.writes() {
				assert.Equal(t, "patch", w.GetVerb(), "a patch touches the node selector alone")
			}
			got := f.daemonSet(t, "podinfo")
			assert.Equal(t, tt.wantZero, ScaledToZero(got))
			if tt.target.Spec.Template.Spec.NodeSelector["disk"] != "" {
				assert.Equal(t, "ssd", got.Spec.Template.Spec.NodeSelector["disk"], "the user's node selector stays")
			}
		})
	}
}

func TestDaemonSetPrimary(t *testing.T) {
	ctx := context.TODO()
	v1 := "ghcr.io/stefanprodan/podinfo:6.0.1"

	// Initialised while the target is at zero (e.g. the primary was
	// deleted): the primary runs the target's revision, not its scaling.
	f := newFixture(t, newDaemonSet("podinfo", scaledDown, withRollingUpdate))
	cd := newCanary(dsCanary)
	created, err := f.ctrl.EnsurePrimary(ctx, cd)
	require.NoError(t, err)
	assert.True(t, created)
	primary := f.daemonSet(t, "podinfo-primary")
	assert.False(t, ScaledToZero(primary))
	rev, err := f.ctrl.Revision(ctx, cd)
	require.NoError(t, err)
	assert.Equal(t, rev.ID(), primary.Annotations[flaggerv1.PromotedRevisionAnnotation])
	md, err := f.ctrl.GetMetadata(ctx, cd)
	require.NoError(t, err)
	assert.Equal(t, owners.TargetKind("DaemonSet", "podinfo", "podinfo-uid"), md.Owner, "the Services and route's owner too")

	// The analysed revision is promoted; another one is refused.
	analysed := newDaemonSet("podinfo", withImage(v1))
	f = newFixture(t, analysed, primary)
	rev, err = f.ctrl.Revision(ctx, cd)
	require.NoError(t, err)
	var changed *RevisionChangedError
	require.ErrorAs(t, f.ctrl.Promote(ctx, cd, "some-other-revision"), &changed)
	assert.Empty(t, f.writes(), "an unanalysed template never reaches the primary")
	require.NoError(t, f.ctrl.Promote(ctx, cd, rev.ID()))
	promoted := f.daemonSet(t, "podinfo-primary")
	assert.Equal(t, v1, promoted.Spec.Template.Spec.Containers[0].Image)
	assert.Equal(t, rev.ID(), promoted.Annotations[flaggerv1.PromotedRevisionAnnotation])

	// Resumed after the copy: nothing written twice.
	f = newFixture(t, analysed, promoted)
	require.NoError(t, f.ctrl.Promote(ctx, cd, rev.ID()))
	assert.Empty(t, f.writes())
	assert.Equal(t, rev.ID(), f.ctrl.PrimaryRevision(cd))
}

func TestDaemonSetRefused(t *testing.T) {
	onDelete := newDaemonSet("podinfo", func(d *appsv1.DaemonSet) {
		d.Spec.UpdateStrategy.Type = appsv1.OnDeleteDaemonSetStrategyType
	})
	tests := []struct {
		name   string
		target *appsv1.DaemonSet
		cd     *flaggerv1.Canary
		want   string
	}{
		{"OnDelete strategy", onDelete, newCanary(dsCanary), "spec.updateStrategy.type"},
		{"autoscaler", newDaemonSet("podinfo"), newCanary(dsCanary, withHPARef("podinfo")), "spec.autoscalerRef"},
		{"no selector label", newDaemonSet("podinfo", func(d *appsv1.DaemonSet) {
			d.Spec.Selector.MatchLabels = map[string]string{"tier": "web"}
		}), newCanary(dsCanary), "daemonset podinfo.test spec.selector.matchLabels must contain one of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.target)
			_, err := f.ctrl.EnsurePrimary(context.TODO(), tt.cd)
			require.ErrorContains(t, err, tt.want)
			assert.Empty(t, f.writes())
		})
	}
	// The first read of a tick refuses an autoscaler for good.
	f := newFixture(t, newDaemonSet("podinfo"))
	_, err := f.ctrl.Revision(context.TODO(), newCanary(dsCanary, withHPARef("podinfo")))
	assert.True(t, syncerr.IsPermanent(err))
	_, err = f.ctrl.Revision(context.TODO(), newCanary(dsCanary, func(cd *flaggerv1.Canary) { cd.Spec.TargetRef.Name = "missing" }))
	assert.True(t, apierrors.IsNotFound(err))
}

func TestDaemonSetOwners(t *testing.T) {
	ctx := context.TODO()
	cd := newCanary(dsCanary)
	dsOwner := owners.TargetKind("DaemonSet", "podinfo", "podinfo-uid")
	primary := func(refs ...metav1.OwnerReference) *appsv1.DaemonSet {
		return ownedBy(newDaemonSet("podinfo-primary"), refs...)
	}
	tests := []struct {
		name string
		// primary's owners before, and after rw
		before, want []metav1.OwnerReference
		rw           func(f *fixture) error
	}{
		{"created by an older Serin or Flagger: the target is added", []metav1.OwnerReference{ownerRef(cd)},
			[]metav1.OwnerReference{ownerRef(cd), dsOwner},
			func(f *fixture) error { _, err := f.ctrl.EnsurePrimary(ctx, cd); return err }},
		{"revertOnDeletion releases it from the target", []metav1.OwnerReference{ownerRef(cd), dsOwner},
			[]metav1.OwnerReference{ownerRef(cd)},
			func(f *fixture) error {
				return f.ctrl.RewriteOwners(ctx, cd, owners.RemoveTargetKind("DaemonSet", "podinfo"))
			}},
		{"hand-over to the target", []metav1.OwnerReference{ownerRef(cd), dsOwner},
			[]metav1.OwnerReference{dsOwner},
			func(f *fixture) error { return f.ctrl.RewriteOwners(ctx, cd, owners.HandOver(cd.UID, dsOwner)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, newDaemonSet("podinfo"), primary(tt.before...))
			require.NoError(t, tt.rw(f))
			assert.Equal(t, tt.want, f.daemonSet(t, "podinfo-primary").OwnerReferences)
		})
	}
}
