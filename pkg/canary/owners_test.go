package canary

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/serin-dev/serin/pkg/owners"
)

// ownedBy sets an object's owner references.
func ownedBy[T metav1.Object](obj T, refs ...metav1.OwnerReference) T {
	obj.SetOwnerReferences(refs)
	return obj
}

func TestNewObjectsAreOwnedByTheTargetToo(t *testing.T) {
	ctx := context.TODO()
	cd := newCanary(withHPARef("podinfo"))
	f := newFixture(t, append(configObjects(), newDeployment("podinfo", withPodSpec(configPodSpec)),
		newHPA("podinfo", "podinfo", nil, 4))...)
	_, err := f.ctrl.EnsurePrimary(ctx, cd)
	require.NoError(t, err)
	require.NoError(t, f.ctrl.ReconcilePrimaryHPA(ctx, cd, false))

	want := []metav1.OwnerReference{ownerRef(cd), podinfoOwner}
	for _, a := range f.writes() {
		obj := a.(interface{ GetObject() runtime.Object }).GetObject().(metav1.Object)
		assert.Equal(t, want, obj.GetOwnerReferences(), "%s %s", a.GetResource().Resource, obj.GetName())
	}
	assert.Len(t, f.writes(), 11, "9 config copies, the primary and its HPA")
	assert.Nil(t, podinfoOwner.BlockOwnerDeletion, "deleting the target does not wait for them")
	assert.Nil(t, podinfoOwner.Controller, "the canary stays their controller")
}

func TestEnsurePrimaryAddsTheTargetOwner(t *testing.T) {
	ctx := context.TODO()
	cd := newCanary()
	target := newDeployment("podinfo", withPodSpec(configPodSpec))
	primary := NewPrimaryDeployment(cd, target, PrimaryOptions{Selector: appSelector,
		Configs: map[string]string{"configmap/cfg-env": "x", "secret/sec-env": "y"}})
	copyCM := PrimaryConfigMap(cd, newConfigMap("cfg-env", nil, nil), podinfoOwner, nil)
	copySecret := PrimarySecret(cd, newSecret("sec-env", corev1.SecretTypeOpaque, nil), podinfoOwner, nil)
	objs := append(configObjects(), target)

	t.Run("objects of an older Serin or of Flagger get it", func(t *testing.T) {
		f := newFixture(t, append(objs, canaryOwnedOnly(primary.DeepCopy()), canaryOwnedOnly(copyCM.DeepCopy()),
			canaryOwnedOnly(copySecret.DeepCopy()))...)
		created, err := f.ctrl.EnsurePrimary(ctx, cd)
		require.NoError(t, err)
		assert.False(t, created)
		want := []metav1.OwnerReference{ownerRef(cd), podinfoOwner}
		assert.Equal(t, want, f.deployment(t, "podinfo-primary").OwnerReferences)
		cm, err := f.kube.CoreV1().ConfigMaps(ns).Get(ctx, "cfg-env-primary", metav1.GetOptions{})
		require.NoError(t, err)
		assert.Equal(t, want, cm.OwnerReferences)
		s, err := f.kube.CoreV1().Secrets(ns).Get(ctx, "sec-env-primary", metav1.GetOptions{})
		require.NoError(t, err)
		assert.Equal(t, want, s.OwnerReferences)
		assert.Len(t, f.writes(), 3, "owner references only")
		for _, a := range f.writes() {
			assert.Equal(t, "update", a.GetVerb())
		}
	})

	t.Run("objects that have it are not written", func(t *testing.T) {
		f := newFixture(t, append(objs, primary, copyCM, copySecret)...)
		_, err := f.ctrl.EnsurePrimary(ctx, cd)
		require.NoError(t, err)
		assert.Empty(t, f.writes())
	})

	t.Run("a target re-created under its name replaces the earlier one", func(t *testing.T) {
		earlier := owners.Target("podinfo", "deleted-uid")
		f := newFixture(t, append(objs, ownedBy(primary.DeepCopy(), ownerRef(cd), earlier),
			ownedBy(copyCM.DeepCopy(), ownerRef(cd), earlier), copySecret)...)
		_, err := f.ctrl.EnsurePrimary(ctx, cd)
		require.NoError(t, err)
		assert.Equal(t, []metav1.OwnerReference{ownerRef(cd), podinfoOwner}, f.deployment(t, "podinfo-primary").OwnerReferences)
		cm, err := f.kube.CoreV1().ConfigMaps(ns).Get(ctx, "cfg-env-primary", metav1.GetOptions{})
		require.NoError(t, err)
		assert.Equal(t, []metav1.OwnerReference{ownerRef(cd), podinfoOwner}, cm.OwnerReferences)
		assert.Len(t, f.writes(), 2)
	})

	t.Run("a primary the canary does not control is not its to change", func(t *testing.T) {
		other := metav1.OwnerReference{APIVersion: "flagger.app/v1beta1", Kind: "Canary", Name: "other", UID: "other-uid"}
		f := newFixture(t, append(objs, ownedBy(primary.DeepCopy(), other), canaryOwnedOnly(copyCM.DeepCopy()))...)
		_, err := f.ctrl.EnsurePrimary(ctx, cd)
		require.NoError(t, err)
		assert.Empty(t, f.writes())
	})
}

func TestReconcilePrimaryHPAAddsTheTargetOwner(t *testing.T) {
	ctx := context.TODO()
	cd := newCanary(withHPARef("podinfo"))
	hpa := newHPA("podinfo", "podinfo", nil, 4)
	copied := NewPrimaryHPA(cd, hpa, podinfoOwner, nil)
	for _, update := range []bool{false, true} {
		f := newFixture(t, newDeployment("podinfo"), hpa, canaryOwnedOnly(copied.DeepCopy()))
		require.NoError(t, f.ctrl.ReconcilePrimaryHPA(ctx, cd, update))
		got, err := f.kube.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, "podinfo-primary", metav1.GetOptions{})
		require.NoError(t, err)
		assert.Equal(t, []metav1.OwnerReference{ownerRef(cd), podinfoOwner}, got.OwnerReferences, "update=%v", update)
		assert.Equal(t, copied.Spec, got.Spec)
		assert.Len(t, f.writes(), 1, "update=%v", update)

		f = newFixture(t, newDeployment("podinfo"), hpa, copied)
		require.NoError(t, f.ctrl.ReconcilePrimaryHPA(ctx, cd, update))
		assert.Empty(t, f.writes(), "up to date, update=%v", update)
	}
}

func TestRewriteOwners(t *testing.T) {
	ctx := context.TODO()
	cd := newCanary(withHPARef("podinfo"))
	both := []metav1.OwnerReference{ownerRef(cd), podinfoOwner}
	hpa := ownedBy(&autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "podinfo-primary", Namespace: ns}}, both...)
	// A copy that another object also owns keeps that owner.
	other := metav1.OwnerReference{APIVersion: "v1", Kind: "ConfigMap", Name: "shared", UID: "shared-uid"}
	cm := ownedBy(newConfigMap("podinfo-config-primary", nil, nil), ownerRef(cd), podinfoOwner, other)
	secret := ownedBy(newSecret("podinfo-secret-primary", corev1.SecretTypeOpaque, nil), both...)
	users := newConfigMap("podinfo-config", nil, nil)
	objs := func() []runtime.Object {
		return []runtime.Object{newDeployment("podinfo"), ownedBy(newDeployment("podinfo-primary"), both...),
			hpa.DeepCopy(), cm.DeepCopy(), secret.DeepCopy(), users.DeepCopy()}
	}
	owned := func(t *testing.T, f *fixture) map[string][]metav1.OwnerReference {
		out := map[string][]metav1.OwnerReference{"deployment": f.deployment(t, "podinfo-primary").OwnerReferences}
		h, err := f.kube.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, "podinfo-primary", metav1.GetOptions{})
		require.NoError(t, err)
		c, err := f.kube.CoreV1().ConfigMaps(ns).Get(ctx, "podinfo-config-primary", metav1.GetOptions{})
		require.NoError(t, err)
		s, err := f.kube.CoreV1().Secrets(ns).Get(ctx, "podinfo-secret-primary", metav1.GetOptions{})
		require.NoError(t, err)
		out["hpa"], out["configmap"], out["secret"] = h.OwnerReferences, c.OwnerReferences, s.OwnerReferences
		return out
	}

	t.Run("release from the target", func(t *testing.T) {
		f := newFixture(t, objs()...)
		require.NoError(t, f.ctrl.RewriteOwners(ctx, cd, owners.RemoveTarget("podinfo")))
		canaryOnly := []metav1.OwnerReference{ownerRef(cd)}
		assert.Equal(t, map[string][]metav1.OwnerReference{
			"deployment": canaryOnly, "hpa": canaryOnly, "configmap": {ownerRef(cd), other}, "secret": canaryOnly,
		}, owned(t, f))
		assert.Len(t, f.writes(), 4, "the target and the user's ConfigMap are not the canary's")
	})

	t.Run("hand-over to the target", func(t *testing.T) {
		f := newFixture(t, objs()...)
		require.NoError(t, f.ctrl.RewriteOwners(ctx, cd, owners.HandOver(cd.UID, podinfoOwner)))
		targetOnly := []metav1.OwnerReference{podinfoOwner}
		assert.Equal(t, map[string][]metav1.OwnerReference{
			"deployment": targetOnly, "hpa": targetOnly, "configmap": {podinfoOwner, other}, "secret": targetOnly,
		}, owned(t, f))
		assert.Len(t, f.writes(), 4)
	})

	t.Run("nothing to change, nothing written", func(t *testing.T) {
		f := newFixture(t, objs()...)
		require.NoError(t, f.ctrl.RewriteOwners(ctx, cd, owners.AddTarget(podinfoOwner)))
		assert.Empty(t, f.writes())
	})
}

func TestTargetOwner(t *testing.T) {
	f := newFixture(t, newDeployment("podinfo"))
	owner, err := f.ctrl.TargetOwner(newCanary())
	require.NoError(t, err)
	assert.Equal(t, metav1.OwnerReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "podinfo", UID: "podinfo-uid"}, owner)

	_, err = newFixture(t).ctrl.TargetOwner(newCanary())
	require.Error(t, err)
}
