package kubelet

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func condition(s corev1.PodStatus, typ corev1.PodConditionType) corev1.PodCondition {
	for _, c := range s.Conditions {
		if c.Type == typ {
			return c
		}
	}
	return corev1.PodCondition{}
}

func TestDesiredStatusLifecycle(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "podinfo:6.0.1"}, {Name: "sidecar"}}},
	}

	pending := desiredStatus(pod, "", "", containerState{}, t0)
	assert.Equal(t, corev1.PodPending, pending.Phase)
	assert.Empty(t, pending.PodIP)
	assert.Equal(t, "ContainerCreating", pending.ContainerStatuses[0].State.Waiting.Reason)
	assert.Equal(t, "Unsupported", pending.ContainerStatuses[1].State.Waiting.Reason)

	pod.Status = pending
	t1 := t0.Add(time.Second)
	running := desiredStatus(pod, "10.244.0.2", "10.250.0.1", containerState{started: true, running: true, startedAt: t1}, t1)
	assert.Equal(t, corev1.PodRunning, running.Phase)
	assert.Equal(t, []corev1.PodIP{{IP: "10.244.0.2"}}, running.PodIPs)
	assert.Equal(t, corev1.ConditionFalse, condition(running, corev1.PodReady).Status)
	assert.Equal(t, t0, condition(running, corev1.PodReady).LastTransitionTime.Time, "an unchanged condition keeps its time")
	assert.Equal(t, t0, running.StartTime.Time)

	pod.Status = running
	t2 := t1.Add(5 * time.Second)
	ready := desiredStatus(pod, "10.244.0.2", "10.250.0.1", containerState{started: true, running: true, ready: true, startedAt: t1}, t2)
	assert.Equal(t, corev1.ConditionTrue, condition(ready, corev1.PodReady).Status)
	assert.Equal(t, t2, condition(ready, corev1.PodReady).LastTransitionTime.Time)
	assert.True(t, ready.ContainerStatuses[0].Ready)
	assert.Equal(t, t1, ready.ContainerStatuses[0].State.Running.StartedAt.Time)

	pod.Status = ready
	crashed := desiredStatus(pod, "10.244.0.2", "10.250.0.1", containerState{
		started: true, restarts: 1, waitingReason: "CrashLoopBackOff",
		lastExit: &exit{code: 2, reason: "Error", startedAt: t1, finishedAt: t2},
	}, t2)
	assert.Equal(t, corev1.PodRunning, crashed.Phase)
	assert.Equal(t, corev1.ConditionFalse, condition(crashed, corev1.ContainersReady).Status)
	assert.Equal(t, int32(1), crashed.ContainerStatuses[0].RestartCount)
	assert.Equal(t, int32(2), crashed.ContainerStatuses[0].LastTerminationState.Terminated.ExitCode)
}
