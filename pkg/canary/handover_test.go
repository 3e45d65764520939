package canary

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func TestHandOver(t *testing.T) {
	cd := newCanary(withHPARef("podinfo"))
	owned := metav1.ObjectMeta{Namespace: ns, OwnerReferences: []metav1.OwnerReference{ownerRef(cd)}}
	target := newDeployment("podinfo", func(d *appsv1.Deployment) { d.UID = "target-uid" })
	primary := newDeployment("podinfo-primary", func(d *appsv1.Deployment) { d.ObjectMeta.OwnerReferences = owned.OwnerReferences })
	hpa := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: *owned.DeepCopy()}
	hpa.Name = "podinfo-primary"
	// A copy that another object also owns keeps that owner.
	other := metav1.OwnerReference{APIVersion: "v1", Kind: "ConfigMap", Name: "shared", UID: "shared-uid"}
	cm := &corev1.ConfigMap{ObjectMeta: *owned.DeepCopy()}
	cm.Name, cm.OwnerReferences = "podinfo-config-primary", append(cm.OwnerReferences, other)
	secret := &corev1.Secret{ObjectMeta: *owned.DeepCopy()}
	secret.Name = "podinfo-secret-primary"
	users := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "podinfo-config", Namespace: ns}}
	f := newFixture(t, target, primary, hpa, cm, secret, users)

	owner, err := f.ctrl.HandOver(context.TODO(), cd)
	require.NoError(t, err)
	want := metav1.OwnerReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "podinfo", UID: types.UID("target-uid")}
	assert.Equal(t, want, owner)

	assert.Equal(t, []metav1.OwnerReference{want}, f.deployment(t, "podinfo-primary").OwnerReferences)
	gotHPA, err := f.kube.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(context.TODO(), "podinfo-primary", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, []metav1.OwnerReference{want}, gotHPA.OwnerReferences)
	gotCM, err := f.kube.CoreV1().ConfigMaps(ns).Get(context.TODO(), "podinfo-config-primary", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, []metav1.OwnerReference{want, other}, gotCM.OwnerReferences)
	gotSecret, err := f.kube.CoreV1().Secrets(ns).Get(context.TODO(), "podinfo-secret-primary", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, []metav1.OwnerReference{want}, gotSecret.OwnerReferences)
	assert.Len(t, f.writes(), 4, "the target and the user's ConfigMap are not the canary's")
}

func TestHandOverWithoutTarget(t *testing.T) {
	f := newFixture(t)
	_, err := f.ctrl.HandOver(context.TODO(), newCanary())
	require.Error(t, err)
	assert.Empty(t, f.writes())
}
