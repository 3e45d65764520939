package canary

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

func TestEnsurePrimary(t *testing.T) {
	ctx := context.TODO()
	objs := append(configObjects(), newDeployment("podinfo", withPodSpec(configPodSpec)))
	f := newFixture(t, objs...)

	created, err := f.ctrl.EnsurePrimary(ctx, newCanary())
	require.NoError(t, err)
	assert.True(t, created)

	p := f.deployment(t, "podinfo-primary")
	assert.Equal(t, map[string]string{"app": "podinfo-primary"}, p.Spec.Selector.MatchLabels)
	rev, err := f.ctrl.Revision(ctx, newCanary())
	require.NoError(t, err)
	assert.Equal(t, rev.ID(), p.Annotations[flaggerv1.PromotedRevisionAnnotation], "the primary records the revision it was created from")
	assert.Equal(t, "id-1", p.Spec.Template.Annotations[FlaggerIDAnnotation])
	spec := p.Spec.Template.Spec
	assert.Equal(t, "cfg-vol-primary", spec.Volumes[0].ConfigMap.Name)
	assert.Equal(t, "sec-vol-primary", spec.Volumes[1].Secret.SecretName)
	assert.Equal(t, "cfg-proj-primary", spec.Volumes[2].Projected.Sources[0].ConfigMap.Name)
	assert.Equal(t, "sec-proj-primary", spec.Volumes[2].Projected.Sources[1].Secret.Name)
	assert.Equal(t, "cfg-env-primary", spec.Containers[0].Env[0].ValueFrom.ConfigMapKeyRef.Name)
	assert.Equal(t, "sec-env-primary", spec.Containers[0].Env[1].ValueFrom.SecretKeyRef.Name)
	assert.Equal(t, "cfg-envfrom-primary", spec.Containers[0].EnvFrom[0].ConfigMapRef.Name)
	assert.Equal(t, "sec-envfrom-primary", spec.Containers[0].EnvFrom[1].SecretRef.Name)
	assert.Equal(t, "cfg-init-primary", spec.InitContainers[0].EnvFrom[0].ConfigMapRef.Name)

	cm, err := f.kube.CoreV1().ConfigMaps(ns).Get(ctx, "cfg-env-primary", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"a": "env"}, cm.Data)
	assert.Equal(t, "Canary", cm.OwnerReferences[0].Kind)
	s, err := f.kube.CoreV1().Secrets(ns).Get(ctx, "sec-proj-primary", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, corev1.SecretTypeTLS, s.Type)
	assert.Equal(t, []byte("c"), s.Data["tls.crt"])
	assert.Len(t, f.writes(), 10, "9 config copies and the primary")

	t.Run("existing primary is left alone", func(t *testing.T) {
		f := newFixture(t, append(objs, newDeployment("podinfo-primary"))...)
		created, err := f.ctrl.EnsurePrimary(ctx, newCanary())
		require.NoError(t, err)
		assert.False(t, created)
		assert.Empty(t, f.writes())
	})

	t.Run("lagging lister", func(t *testing.T) {
		f := newFixtureWith(t, func(c *Config) { c.DisableConfigTracking = true }, newDeployment("podinfo"))
		require.NoError(t, f.kube.Tracker().Add(newDeployment("podinfo-primary")))
		created, err := f.ctrl.EnsurePrimary(ctx, newCanary())
		require.NoError(t, err)
		assert.False(t, created)
	})

	t.Run("selector label missing", func(t *testing.T) {
		d := newDeployment("podinfo")
		d.Spec.Selector.MatchLabels = map[string]string{"tier": "web"}
		f := newFixture(t, d)
		_, err := f.ctrl.EnsurePrimary(ctx, newCanary())
		var sle *SelectorLabelError
		require.ErrorAs(t, err, &sle)
		assert.Empty(t, f.writes())
	})

	t.Run("missing required config", func(t *testing.T) {
		f := newFixture(t, newDeployment("podinfo", withPodSpec(configPodSpec)))
		_, err := f.ctrl.EnsurePrimary(ctx, newCanary())
		require.ErrorContains(t, err, "get query error")
		assert.Empty(t, f.writes())
	})
}

func TestPromote(t *testing.T) {
	ctx := context.TODO()
	target := newDeployment("podinfo", withRollout(), withReplicas(3), withPodSpec(func(s *corev1.PodSpec) {
		s.Containers[0].Image = "ghcr.io/stefanprodan/podinfo:6.0.1"
		s.Containers[0].EnvFrom = []corev1.EnvFromSource{
			{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}},
			{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "sec"}}},
		}
	}))
	primary := NewPrimaryDeployment(newCanary(), newDeployment("podinfo"), PrimaryOptions{Selector: appSelector, ID: "old"})
	cfg := newConfigMap("cfg", map[string]string{"k": "v2"}, nil)
	sec := newSecret("sec", corev1.SecretTypeOpaque, map[string]string{"k": "s"})
	// The secret's copy is current, the configmap's is stale.
	secCopy := PrimarySecret(newCanary(), sec, podinfoOwner, nil)
	cfgCopy := PrimaryConfigMap(newCanary(), newConfigMap("cfg", map[string]string{"k": "v1"}, nil), podinfoOwner, nil)
	objs := []runtime.Object{target, primary, cfg, sec, secCopy, cfgCopy}

	before := make([]runtime.Object, len(objs))
	for i, o := range objs {
		before[i] = o.DeepCopyObject()
	}
	f := newFixture(t, objs...)
	rev, err := f.ctrl.Revision(ctx, newCanary())
	require.NoError(t, err)
	require.NoError(t, f.ctrl.Promote(ctx, newCanary(), rev.ID()))
	assert.Equal(t, before, objs, "the lister's objects must not change")

	writes := f.writes()
	require.Len(t, writes, 2, "the stale configmap copy and the primary")
	assert.Equal(t, "configmaps", writes[0].GetResource().Resource)
	assert.Equal(t, "update", writes[0].GetVerb())
	assert.Equal(t, "deployments", writes[1].GetResource().Resource)

	p := f.deployment(t, "podinfo-primary")
	assert.Equal(t, "ghcr.io/stefanprodan/podinfo:6.0.1", p.Spec.Template.Spec.Containers[0].Image)
	assert.Equal(t, "cfg-primary", p.Spec.Template.Spec.Containers[0].EnvFrom[0].ConfigMapRef.Name)
	assert.Equal(t, "sec-primary", p.Spec.Template.Spec.Containers[0].EnvFrom[1].SecretRef.Name)
	assert.Equal(t, "id-1", p.Spec.Template.Annotations[FlaggerIDAnnotation])
	assert.Equal(t, int32(3), *p.Spec.Replicas)
	assert.Equal(t, int32(5), p.Spec.MinReadySeconds)
	assert.Equal(t, rev.ID(), p.Annotations[flaggerv1.PromotedRevisionAnnotation], "the copy records its revision")
	cm, err := f.kube.CoreV1().ConfigMaps(ns).Get(ctx, "cfg-primary", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"k": "v2"}, cm.Data)

	t.Run("a primary that does not record the revision is copied again, with a new flagger-id", func(t *testing.T) {
		require.NoError(t, f.ctrl.Promote(ctx, newCanary(), rev.ID()))
		assert.Equal(t, "id-2", f.deployment(t, "podinfo-primary").Spec.Template.Annotations[FlaggerIDAnnotation])
	})

	t.Run("a primary that runs the revision is left alone", func(t *testing.T) {
		done := primary.DeepCopy()
		done.Annotations = map[string]string{flaggerv1.PromotedRevisionAnnotation: rev.ID()}
		f := newFixture(t, target, done, cfg, sec, secCopy, cfgCopy)
		require.NoError(t, f.ctrl.Promote(ctx, newCanary(), rev.ID()))
		assert.Empty(t, f.writes())
	})

	t.Run("a target that no longer runs the analysed revision is not copied", func(t *testing.T) {
		f := newFixture(t, objs...)
		err := f.ctrl.Promote(ctx, newCanary(), "0123456789abcdef")
		var changed *RevisionChangedError
		require.ErrorAs(t, err, &changed)
		assert.Equal(t, rev.ID(), changed.Current)
		assert.Empty(t, f.writes())
	})

	t.Run("missing primary", func(t *testing.T) {
		f := newFixture(t, target, cfg, sec)
		require.ErrorContains(t, f.ctrl.Promote(ctx, newCanary(), rev.ID()), "podinfo-primary.test get query error")
		assert.Empty(t, f.writes())
	})

	t.Run("conflict is returned for a retry", func(t *testing.T) {
		f := newFixture(t, objs...)
		f.kube.PrependReactor("update", "deployments", func(k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, errConflict()
		})
		require.ErrorContains(t, f.ctrl.Promote(ctx, newCanary(), rev.ID()), "updating deployment podinfo-primary.test template spec failed")
	})
}
