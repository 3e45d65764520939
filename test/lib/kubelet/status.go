package kubelet

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// containerState is what the runner knows of a Pod's (first) container.
type containerState struct {
	started   bool // a process has been started at least once
	running   bool
	ready     bool
	startedAt time.Time
	restarts  int32
	// waiting says why no process runs (ContainerCreating, ErrImagePull, CrashLoopBackOff ...).
	waitingReason, waitingMessage string
	lastExit                      *exit
}

// exit is how a process ended.
type exit struct {
	code                  int32
	reason                string
	startedAt, finishedAt time.Time
}

// imageIDPrefix marks image ids as this runner's: the image is a program built on this machine.
const imageIDPrefix = "serin-local://"

// desiredStatus computes a Pod's status from the runner's view of it; conditions keep their
// transition times while their status does not change.
func desiredStatus(pod *corev1.Pod, podIP, hostIP string, st containerState, now time.Time) corev1.PodStatus {
	s := *pod.Status.DeepCopy()
	s.Phase = corev1.PodPending
	if st.started {
		s.Phase = corev1.PodRunning
	}
	if podIP != "" {
		s.PodIP, s.PodIPs = podIP, []corev1.PodIP{{IP: podIP}}
		s.HostIP, s.HostIPs = hostIP, []corev1.HostIP{{IP: hostIP}}
	}
	if s.StartTime == nil {
		s.StartTime = &metav1.Time{Time: now}
	}
	t := metav1.Time{Time: now}
	s.Conditions = setCondition(s.Conditions, corev1.PodReadyToStartContainers, podIP != "", t)
	s.Conditions = setCondition(s.Conditions, corev1.PodInitialized, true, t)
	s.Conditions = setCondition(s.Conditions, corev1.ContainersReady, st.ready, t)
	s.Conditions = setCondition(s.Conditions, corev1.PodReady, st.ready, t)
	s.ContainerStatuses = containerStatuses(pod, st)
	return s
}

// setCondition sets a condition's status, moving its transition time only when it changes.
func setCondition(conds []corev1.PodCondition, typ corev1.PodConditionType, ok bool, now metav1.Time) []corev1.PodCondition {
	status := corev1.ConditionFalse
	if ok {
		status = corev1.ConditionTrue
	}
	for i := range conds {
		if conds[i].Type == typ {
			if conds[i].Status != status {
				conds[i].Status, conds[i].LastTransitionTime = status, now
			}
			return conds
		}
	}
	return append(conds, corev1.PodCondition{Type: typ, Status: status, LastTransitionTime: now})
}

// containerStatuses reports the first container from st; the runner runs only that one, so
// any other waits with a reason saying so.
func containerStatuses(pod *corev1.Pod, st containerState) []corev1.ContainerStatus {
	out := make([]corev1.ContainerStatus, 0, len(pod.Spec.Containers))
	for i, c := range pod.Spec.Containers {
		cs := corev1.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: imageIDPrefix + c.Image}
		if i > 0 {
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: "Unsupported", Message: "the local runner runs only a Pod's first container"}
			out = append(out, cs)
			continue
		}
		cs.Ready, cs.RestartCount = st.ready, st.restarts
		started := st.running
		cs.Started = &started
		switch {
		case st.running:
			cs.State.Running = &corev1.ContainerStateRunning{StartedAt: metav1.Time{Time: st.startedAt}}
		default:
			reason := st.waitingReason
			if reason == "" {
				reason = "ContainerCreating"
			}
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: reason, Message: st.waitingMessage}
		}
		if e := st.lastExit; e != nil {
			cs.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{
				ExitCode: e.code, Reason: e.reason,
				StartedAt: metav1.Time{Time: e.startedAt}, FinishedAt: metav1.Time{Time: e.finishedAt},
			}
		}
		out = append(out, cs)
	}
	return out
}
