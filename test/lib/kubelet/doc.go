// Package kubelet is the pod runner of the real-traffic test world: a small kubelet for a few
// Nodes that it registers and keeps alive. It runs one real process per Pod bound to them (the
// binary an Images resolver maps the container image to, with the container's command, args
// and environment) in a sandbox with the Pod's own IP, host name, service-account token and
// emptyDir volumes; it reports the Pod Running, and Ready once its readiness probe passes;
// it restarts the process when it exits; and it stops the process with SIGTERM, then SIGKILL
// after the grace period, when the Pod is deleted, and only then removes the Pod. Liveness and
// startup probes, resource limits and security contexts are not enforced.
package kubelet
