package controller

import (
	"testing"

	"github.com/stretchr/testify/assert"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/canary"
)

// Serin's own scaling of a DaemonSet target rewrites its pod template (the
// scale-to-zero node selector), but only a user's new template marks the
// canary changed, as for Deployments.
func TestDaemonSetUpdatedTellsScalingFromRevisions(t *testing.T) {
	ds := func(generation int64, image string, scaledToZero bool) *appsv1.DaemonSet {
		d := &appsv1.DaemonSet{
			ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "test", Generation: generation},
			Spec: appsv1.DaemonSetSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				Containers: []corev1.Container{{Name: "podinfod", Image: image}},
			}}},
		}
		if scaledToZero {
			d.Spec.Template.Spec.NodeSelector = map[string]string{canary.ScaleToZeroNodeSelectorKey: canary.ScaleToZeroNodeSelectorValue}
		}
		return d
	}
	tests := []struct {
		name     string
		old, cur *appsv1.DaemonSet
		changed  bool
	}{
		{"scaled to zero", ds(1, "podinfo:6.0.0", false), ds(2, "podinfo:6.0.0", true), false},
		{"scaled up", ds(2, "podinfo:6.0.0", true), ds(3, "podinfo:6.0.0", false), false},
		{"status only", ds(2, "podinfo:6.0.0", true), ds(2, "podinfo:6.0.0", true), false},
		{"new image while at zero", ds(2, "podinfo:6.0.0", true), ds(3, "podinfo:6.0.1", true), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.ctrl.daemonSetUpdated(tt.old, tt.cur)
			f.ctrl.schedule.mu.Lock()
			defer f.ctrl.schedule.mu.Unlock()
			assert.Equal(t, tt.changed, f.ctrl.schedule.slot(f.key).changed)
		})
	}
}
