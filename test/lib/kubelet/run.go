package kubelet

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/serin-dev/serin/test/lib/sandbox"
)

// Restart back-off, as the kubelet's CrashLoopBackOff but shorter.
const (
	minBackoff = time.Second
	maxBackoff = 10 * time.Second
	// maxGrace bounds a Pod's termination grace period.
	maxGrace = 30 * time.Second
)

// podRun supervises the process of one Pod: it starts it, probes it, restarts it when it exits
// and stops it on request. Its state is read by the sync through snapshot.
type podRun struct {
	uid    types.UID
	ip     string
	notify func() // enqueues the Pod for a status sync

	mu    sync.Mutex
	state containerState
	gen   int // counts starts, so that a late probe of an old process is ignored

	stopOnce sync.Once
	grace    time.Duration
	stop     chan struct{}
	done     chan struct{}
}

func newPodRun(uid types.UID, ip string, notify func()) *podRun {
	return &podRun{uid: uid, ip: ip, notify: notify, stop: make(chan struct{}), done: make(chan struct{})}
}

// snapshot returns the current state.
func (r *podRun) snapshot() containerState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state
}

// update changes the state and asks for a status sync.
func (r *podRun) update(change func(*containerState)) {
	r.mu.Lock()
	change(&r.state)
	r.mu.Unlock()
	r.notify()
}

// requestStop asks the supervisor to stop the process, giving it grace after SIGTERM.
func (r *podRun) requestStop(grace time.Duration) {
	r.stopOnce.Do(func() {
		r.grace = min(max(grace, 0), maxGrace)
		close(r.stop)
	})
}

// finished reports whether the supervisor has returned: no process of the Pod runs any more.
func (r *podRun) finished() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// wait sleeps for d and reports false if a stop was requested meanwhile.
func (r *podRun) wait(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-r.stop:
		return false
	case <-t.C:
		return true
	}
}

// run is the supervisor: it prepares the container once, then keeps a process running.
func (r *podRun) run(ctx context.Context, k *Kubelet, pod *corev1.Pod) {
	defer close(r.done)
	defer r.notify()
	cfg, ok := r.prepare(ctx, k, pod)
	if !ok {
		<-r.stop
		return
	}
	c := &pod.Spec.Containers[0]
	pr := readinessProbe(c)
	backoff := minBackoff
	for {
		started := time.Now()
		p, err := sandbox.StartPod(cfg)
		if err != nil {
			r.update(func(s *containerState) { s.waitingReason, s.waitingMessage = "RunContainerError", err.Error() })
			if !r.wait(backoff) {
				return
			}
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		r.mu.Lock()
		r.gen++
		gen := r.gen
		r.mu.Unlock()
		r.update(func(s *containerState) {
			s.started, s.running, s.ready, s.startedAt = true, true, false, started
			s.waitingReason, s.waitingMessage = "", ""
		})
		go r.probeLoop(p, pr, gen)
		select {
		case <-p.Exited():
			code := int32(p.ExitCode())
			r.update(func(s *containerState) {
				s.running, s.ready, s.restarts = false, false, s.restarts+1
				s.waitingReason, s.waitingMessage = "CrashLoopBackOff", fmt.Sprintf("exited with code %d", code)
				s.lastExit = &exit{code: code, reason: "Error", startedAt: started, finishedAt: time.Now()}
			})
			if time.Since(started) > maxBackoff {
				backoff = minBackoff
			}
			if !r.wait(backoff) {
				return
			}
			backoff = min(2*backoff, maxBackoff)
		case <-r.stop:
			r.terminate(p)
			r.update(func(s *containerState) { s.running, s.ready = false, false })
			return
		}
	}
}

// terminate sends SIGTERM to the Pod's processes and SIGKILL after the grace period.
func (r *podRun) terminate(p *sandbox.Pod) {
	if r.grace > 0 {
		_ = p.Signal(syscall.SIGTERM)
		select {
		case <-p.Exited():
			return
		case <-time.After(r.grace):
		}
	}
	p.Kill()
	<-p.Exited()
}

// prepare "pulls" the image (resolves it to a program, which may build it) and computes the
// sandbox configuration. On a failure it records why and reports false.
func (r *podRun) prepare(ctx context.Context, k *Kubelet, pod *corev1.Pod) (sandbox.PodConfig, bool) {
	c := &pod.Spec.Containers[0]
	dir := k.podDir(pod)
	fail := func(reason string, err error) (sandbox.PodConfig, bool) {
		k.logf("kubelet: %s/%s: %s: %v", pod.Namespace, pod.Name, reason, err)
		r.update(func(s *containerState) { s.waitingReason, s.waitingMessage = reason, err.Error() })
		return sandbox.PodConfig{}, false
	}
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o777); err != nil {
		return fail("CreateContainerError", err)
	}
	program, err := k.images(ctx, c.Image)
	if err != nil {
		return fail("ErrImagePull", err)
	}
	argv, err := commandLine(c, program)
	if err != nil {
		return fail("CreateContainerConfigError", err)
	}
	mounts, err := k.volumeMounts(ctx, pod, c, dir)
	if err != nil {
		return fail("CreateContainerConfigError", err)
	}
	out, err := os.OpenFile(filepath.Join(dir, c.Name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fail("CreateContainerError", err)
	}
	env := environment(pod, c, podEnv{
		podIP: r.ip, hostIP: k.hostIP, apiHost: k.apiHost, apiPort: k.apiPort,
		path: os.Getenv("PATH"), home: dir, tmpDir: filepath.Join(dir, "tmp"),
	})
	return sandbox.PodConfig{
		Hostname: pod.Name, IP: r.ip, HostLink: k.nextLink(), Argv: argv, Env: env,
		Dir: dir, Mounts: mounts, Output: out,
	}, true
}
