package canary

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/serin-dev/serin/pkg/owners"
)

func TestReferencedConfigs(t *testing.T) {
	spec := newDeployment("podinfo", withPodSpec(configPodSpec)).Spec.Template.Spec
	var keys []string
	for _, r := range ReferencedConfigs(&spec) {
		keys = append(keys, r.Key())
		assert.False(t, r.Optional, r.Key())
	}
	assert.Equal(t, []string{
		"configmap/cfg-env", "configmap/cfg-envfrom", "configmap/cfg-init", "configmap/cfg-proj", "configmap/cfg-vol",
		"secret/sec-env", "secret/sec-envfrom", "secret/sec-proj", "secret/sec-vol",
	}, keys)
}

func TestReferencedConfigsOptional(t *testing.T) {
	vol := func(name string, optional *bool) corev1.Volume {
		return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: name}, Optional: optional}}}
	}
	spec := corev1.PodSpec{
		Volumes: []corev1.Volume{vol("opt", ptr.To(true)), vol("unset", nil), vol("mixed", ptr.To(true))},
		Containers: []corev1.Container{{Name: "c", EnvFrom: []corev1.EnvFromSource{
			{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "mixed"}}},
			{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "opt"}, Optional: ptr.To(true)}},
		}}},
	}
	assert.Equal(t, []ConfigReference{
		{Kind: ConfigMapKind, Name: "mixed", Optional: false},
		{Kind: ConfigMapKind, Name: "opt", Optional: true},
		{Kind: ConfigMapKind, Name: "unset", Optional: false},
	}, ReferencedConfigs(&spec))
}

func TestChecksums(t *testing.T) {
	sum := sha256.Sum256([]byte(`{"a":"b"}`))
	flagger := hex.EncodeToString(sum[:8])
	cm := newConfigMap("c", map[string]string{"a": "b"}, nil)
	assert.Equal(t, flagger, ConfigMapChecksum(cm), "Flagger's checksum of .data")

	withBinary := cm.DeepCopy()
	withBinary.BinaryData = map[string][]byte{"bin": {1}}
	assert.NotEqual(t, flagger, ConfigMapChecksum(withBinary), "binaryData counts")

	s := newSecret("s", corev1.SecretTypeOpaque, map[string]string{"a": "b"})
	sum = sha256.Sum256([]byte(`{"a":"Yg=="}`))
	assert.Equal(t, hex.EncodeToString(sum[:8]), SecretChecksum(s))
}

func TestConfigTrackingFilters(t *testing.T) {
	optional := func(name string) corev1.EnvFromSource {
		return corev1.EnvFromSource{SecretRef: &corev1.SecretEnvSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: name}, Optional: ptr.To(true)}}
	}
	target := newDeployment("podinfo", withPodSpec(func(s *corev1.PodSpec) {
		configPodSpec(s)
		s.Containers[0].EnvFrom = append(s.Containers[0].EnvFrom,
			optional("missing"), optional("registry"), optional("token"), optional("opted-out"))
	}))
	optedOut := newSecret("opted-out", corev1.SecretTypeOpaque, nil)
	optedOut.Annotations = map[string]string{ConfigTrackingAnnotation: "disabled"}
	cmOptedOut := newConfigMap("cfg-vol", map[string]string{"k": "vol"}, map[string]string{ConfigTrackingAnnotation: "disable"})
	objs := []runtime.Object{target, optedOut, cmOptedOut,
		newSecret("registry", corev1.SecretTypeDockerConfigJson, map[string]string{".dockerconfigjson": "{}"}),
		newSecret("token", corev1.SecretTypeServiceAccountToken, nil)}
	for _, o := range configObjects() {
		if o.(metav1.Object).GetName() != "cfg-vol" { // replaced by cmOptedOut
			objs = append(objs, o)
		}
	}
	f := newFixture(t, objs...)

	rev, err := f.ctrl.Revision(context.TODO(), newCanary())
	require.NoError(t, err)
	var keys []string
	for k := range rev.Configs {
		keys = append(keys, k)
	}
	assert.ElementsMatch(t, []string{
		"configmap/cfg-env", "configmap/cfg-envfrom", "configmap/cfg-init", "configmap/cfg-proj",
		"secret/sec-env", "secret/sec-envfrom", "secret/sec-proj", "secret/sec-vol",
	}, keys, "Opaque, basic-auth, ssh-auth and tls only; no opted-out, registry, token or missing optional")

	p := NewPrimaryDeployment(newCanary(), target, PrimaryOptions{Selector: appSelector, Configs: rev.Configs})
	assert.Equal(t, "cfg-vol", p.Spec.Template.Spec.Volumes[0].ConfigMap.Name, "an opted-out config is shared")
	assert.Equal(t, "registry", p.Spec.Template.Spec.Containers[0].EnvFrom[3].SecretRef.Name)
}

func TestApplyPrimaryConfigRefsChangesOnlyTracked(t *testing.T) {
	spec := newDeployment("podinfo", withPodSpec(configPodSpec)).Spec.Template.Spec
	ApplyPrimaryConfigRefs(&spec, map[string]string{"secret/sec-proj": "x", "configmap/cfg-envfrom": "y"})
	assert.Equal(t, "sec-proj-primary", spec.Volumes[2].Projected.Sources[1].Secret.Name)
	assert.Equal(t, "cfg-proj", spec.Volumes[2].Projected.Sources[0].ConfigMap.Name)
	assert.Equal(t, "cfg-envfrom-primary", spec.Containers[0].EnvFrom[0].ConfigMapRef.Name)
	assert.Equal(t, "sec-envfrom", spec.Containers[0].EnvFrom[1].SecretRef.Name)
	assert.Equal(t, "cfg-env", spec.Containers[0].Env[0].ValueFrom.ConfigMapKeyRef.Name)
}

func TestPrimaryConfigCopies(t *testing.T) {
	cd := newCanary()
	cm := newConfigMap("cfg", map[string]string{"k": "v"}, map[string]string{"note": "x"})
	cm.Labels = map[string]string{"team": "a", "other": "b", "kustomize.toolkit.fluxcd.io/name": "x"}
	cm.BinaryData = map[string][]byte{"bin": {1}}
	got := PrimaryConfigMap(cd, cm, podinfoOwner, []string{"team", "kustomize"})
	assert.Equal(t, "cfg-primary", got.Name)
	assert.Equal(t, map[string]string{"team": "a"}, got.Labels)
	assert.Nil(t, got.Annotations)
	assert.Equal(t, cm.Data, got.Data)
	assert.Equal(t, cm.BinaryData, got.BinaryData)
	assert.Equal(t, owners.Of(cd, podinfoOwner), got.OwnerReferences, "controlled by the canary, owned by the target too")
	got.Data["k"] = "changed"
	assert.Equal(t, "v", cm.Data["k"], "the source must not change")

	s := PrimarySecret(cd, newSecret("sec", corev1.SecretTypeBasicAuth, map[string]string{"username": "u"}), podinfoOwner, nil)
	assert.Equal(t, "sec-primary", s.Name)
	assert.Equal(t, corev1.SecretTypeBasicAuth, s.Type)
	assert.Nil(t, s.Labels)
}

func TestMergeOwnerRefs(t *testing.T) {
	want := owners.Of(newCanary(), podinfoOwner)
	other := metav1.OwnerReference{APIVersion: "v1", Kind: "Thing", Name: "t", UID: types.UID("other"), Controller: ptr.To(true)}
	got := mergeOwnerRefs(want, []metav1.OwnerReference{want[0], other})
	require.Len(t, got, 3)
	assert.Equal(t, want, got[:2], "the canary's and the target's first")
	assert.False(t, *got[2].Controller)
	assert.True(t, *other.Controller, "the input must not change")

	earlier := owners.Target("podinfo", "deleted-uid")
	assert.Equal(t, want, mergeOwnerRefs(want, []metav1.OwnerReference{earlier, want[0]}),
		"a target re-created under its name replaces the earlier one")
	assert.Equal(t, want, mergeOwnerRefs(want, want), "up to date")
}

func TestSyncPrimaryConfigsWritesOnlyChanges(t *testing.T) {
	ctx := context.TODO()
	cd := newCanary()
	cm := newConfigMap("cfg", map[string]string{"k": "v"}, nil)
	sec := newSecret("sec", corev1.SecretTypeOpaque, map[string]string{"k": "v"})
	foreign := PrimaryConfigMap(cd, cm, podinfoOwner, nil)
	foreign.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Thing", Name: "t", UID: "u", Controller: ptr.To(true)}}
	tests := []struct {
		name   string
		objs   []runtime.Object
		writes []string
	}{
		{"create both", []runtime.Object{cm, sec}, []string{"create configmaps", "create secrets"}},
		{"up to date", []runtime.Object{cm, sec, PrimaryConfigMap(cd, cm, podinfoOwner, nil), PrimarySecret(cd, sec, podinfoOwner, nil)}, nil},
		{"stale secret", []runtime.Object{cm, sec, PrimaryConfigMap(cd, cm, podinfoOwner, nil),
			PrimarySecret(cd, newSecret("sec", corev1.SecretTypeOpaque, map[string]string{"k": "old"}), podinfoOwner, nil)},
			[]string{"update secrets"}},
		{"adopt from another controller", []runtime.Object{cm, sec, foreign, PrimarySecret(cd, sec, podinfoOwner, nil)},
			[]string{"update configmaps"}},
		{"a copy made before the target owned it", []runtime.Object{cm, sec, PrimaryConfigMap(cd, cm, podinfoOwner, nil),
			canaryOwnedOnly(PrimarySecret(cd, sec, podinfoOwner, nil))}, []string{"update secrets"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.objs...)
			spec := corev1.PodSpec{Containers: []corev1.Container{{Name: "c", EnvFrom: []corev1.EnvFromSource{
				{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}},
				{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "sec"}}},
			}}}}
			tc, err := f.ctrl.resolveConfigs(ns, &spec)
			require.NoError(t, err)
			require.NoError(t, f.ctrl.syncPrimaryConfigs(ctx, cd, podinfoOwner, tc))
			var got []string
			for _, a := range f.writes() {
				got = append(got, a.GetVerb()+" "+a.GetResource().Resource)
			}
			assert.Equal(t, tt.writes, got)
		})
	}
	t.Run("adopted copy keeps its other owner", func(t *testing.T) {
		f := newFixture(t, cm, foreign)
		tc, err := f.ctrl.resolveConfigs(ns, &corev1.PodSpec{Volumes: []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{
			ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}}}}})
		require.NoError(t, err)
		require.NoError(t, f.ctrl.syncPrimaryConfigs(ctx, cd, podinfoOwner, tc))
		got, err := f.kube.CoreV1().ConfigMaps(ns).Get(ctx, "cfg-primary", metav1.GetOptions{})
		require.NoError(t, err)
		require.Len(t, got.OwnerReferences, 3)
		assert.Equal(t, owners.Of(cd, podinfoOwner), got.OwnerReferences[:2])
		assert.False(t, *got.OwnerReferences[2].Controller)
	})
}
