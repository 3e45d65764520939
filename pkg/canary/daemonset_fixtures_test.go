package canary

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// dsOpt changes a test DaemonSet.
type dsOpt func(*appsv1.DaemonSet)

// newDaemonSet returns a DaemonSet selected by app=<name>, rolled out on
// three nodes.
func newDaemonSet(name string, opts ...dsOpt) *appsv1.DaemonSet {
	d := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Generation: 1, UID: types.UID(name + "-uid")},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name:  "podinfod",
					Image: "ghcr.io/stefanprodan/podinfo:6.0.0",
					Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 9898}},
				}}},
			},
		},
		Status: appsv1.DaemonSetStatus{ObservedGeneration: 1, DesiredNumberScheduled: 3, CurrentNumberScheduled: 3,
			UpdatedNumberScheduled: 3, NumberAvailable: 3, NumberReady: 3},
	}
	for _, o := range opts {
		o(d)
	}
	return d
}

// withNodeSelector adds a node selector entry to the pod template.
func withNodeSelector(key, value string) dsOpt {
	return func(d *appsv1.DaemonSet) {
		if d.Spec.Template.Spec.NodeSelector == nil {
			d.Spec.Template.Spec.NodeSelector = map[string]string{}
		}
		d.Spec.Template.Spec.NodeSelector[key] = value
	}
}

// scaledDown gives a DaemonSet the scale-to-zero node selector, and the
// status of one whose pods are gone.
func scaledDown(d *appsv1.DaemonSet) {
	withNodeSelector(ScaleToZeroNodeSelectorKey, ScaleToZeroNodeSelectorValue)(d)
	d.Status = appsv1.DaemonSetStatus{ObservedGeneration: d.Generation}
}

func withDSStatus(desired, updated, available int32) dsOpt {
	return func(d *appsv1.DaemonSet) {
		d.Status.DesiredNumberScheduled, d.Status.UpdatedNumberScheduled, d.Status.NumberAvailable = desired, updated, available
	}
}

func withImage(image string) dsOpt {
	return func(d *appsv1.DaemonSet) { d.Spec.Template.Spec.Containers[0].Image = image }
}

// dsCanary targets the DaemonSet podinfo.
func dsCanary(cd *flaggerv1.Canary) {
	cd.Spec.TargetRef = flaggerv1.TargetReference{APIVersion: "apps/v1", Kind: "DaemonSet", Name: "podinfo"}
}

func (f *fixture) daemonSet(t *testing.T, name string) *appsv1.DaemonSet {
	t.Helper()
	d, err := f.kube.AppsV1().DaemonSets(ns).Get(context.TODO(), name, metav1.GetOptions{})
	require.NoError(t, err)
	return d
}

// withRollingUpdate gives a DaemonSet an update strategy and timings to copy.
func withRollingUpdate(d *appsv1.DaemonSet) {
	d.Spec.MinReadySeconds = 5
	d.Spec.RevisionHistoryLimit = ptr.To[int32](3)
	d.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType}
}
