package kubelet

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
)

// sync makes one Pod's processes and status match its spec: it starts the supervisor of a new
// Pod, writes the status the supervisor's state implies, and for a deleted Pod stops the
// processes first and removes the object after.
func (k *Kubelet) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	pod, err := k.pods.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return k.forget(key)
	}
	if err != nil {
		return err
	}
	if !k.ours(pod.Spec.NodeName) || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return nil
	}
	k.mu.Lock()
	run := k.runs[key]
	k.mu.Unlock()
	if run != nil && run.uid != pod.UID {
		// A new Pod of the same name: the old one's processes go first.
		if err := k.forget(key); err != nil {
			return err
		}
		run = nil
	}
	if pod.DeletionTimestamp != nil {
		return k.terminate(ctx, key, pod, run)
	}
	if run == nil {
		if run, err = k.admit(ctx, key, pod); err != nil {
			return err
		}
	}
	return k.writeStatus(ctx, pod, run)
}

// admit gives a new Pod its IP and starts its supervisor.
func (k *Kubelet) admit(ctx context.Context, key string, pod *corev1.Pod) (*podRun, error) {
	ip, err := k.allocate(ctx, pod)
	if err != nil {
		return nil, err
	}
	run := newPodRun(pod.UID, ip, func() { k.queue.Add(key) })
	k.mu.Lock()
	k.runs[key] = run
	k.mu.Unlock()
	// The supervisor gets its own copy: the informer's object must not be mutated or kept.
	go run.run(ctx, k, pod.DeepCopy())
	return run, nil
}

// allocate takes an IP for the Pod from its node's pod CIDR, which kube-controller-manager
// assigns shortly after the node registers.
func (k *Kubelet) allocate(ctx context.Context, pod *corev1.Pod) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	pool, ok := k.ipams[pod.Spec.NodeName]
	if !ok {
		node, err := k.client.CoreV1().Nodes().Get(ctx, pod.Spec.NodeName, metav1.GetOptions{})
		if err != nil {
			return "", err
		}
		if node.Spec.PodCIDR == "" {
			return "", requeueAfter(500 * time.Millisecond)
		}
		if pool, err = newIPAM(node.Spec.PodCIDR); err != nil {
			return "", err
		}
		k.ipams[pod.Spec.NodeName] = pool
	}
	return pool.allocate(string(pod.UID))
}

// terminate stops a deleted Pod's processes within its grace period, then removes the object,
// as the kubelet does once the containers are gone.
func (k *Kubelet) terminate(ctx context.Context, key string, pod *corev1.Pod, run *podRun) error {
	if run != nil && !run.finished() {
		grace := time.Duration(ptr.Deref(pod.DeletionGracePeriodSeconds, 30)) * time.Second
		run.requestStop(grace)
		return nil // the supervisor enqueues the Pod when it is done
	}
	err := k.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: ptr.To[int64](0),
		Preconditions:      &metav1.Preconditions{UID: &pod.UID},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return err
	}
	return k.forget(key)
}

// forget stops the processes of the Pod known under key and, once they are gone, releases its
// IP.
func (k *Kubelet) forget(key string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	run, ok := k.runs[key]
	if !ok {
		return nil
	}
	if !run.finished() {
		run.requestStop(0)
		return requeueAfter(100 * time.Millisecond)
	}
	for _, pool := range k.ipams {
		pool.release(string(run.uid))
	}
	delete(k.runs, key)
	return nil
}

// writeStatus writes the status that the supervisor's state implies, if it changed.
func (k *Kubelet) writeStatus(ctx context.Context, pod *corev1.Pod, run *podRun) error {
	status := desiredStatus(pod, run.ip, k.hostIP, run.snapshot(), k.clock.Now())
	if equality.Semantic.DeepEqual(status, pod.Status) {
		return nil
	}
	updated := pod.DeepCopy()
	updated.Status = status
	_, err := k.client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
