package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"

	"github.com/serin-dev/serin/test/lib/proc"
)

// envPod carries a child's podSpec: its presence makes Init set up the sandbox and exec the
// Pod's program instead of running this one.
const envPod = "SERIN_SANDBOX_POD"

// Mount is a bind mount into a Pod's mount namespace.
type Mount struct {
	Source, Target string
}

// PodConfig describes one Pod sandbox and the program it runs.
type PodConfig struct {
	// Hostname is the Pod's host name (its name, as in Kubernetes).
	Hostname string
	// IP is the Pod's address; it gets a /32 on the Pod's eth0 and a route in the world.
	IP string
	// HostLink names the world's end of the Pod's veth pair: unique in the world, at most 15 bytes.
	HostLink string
	// Argv is the program and its arguments; Argv[0] is a path.
	Argv []string
	// Env is the program's whole environment.
	Env []string
	// Dir is the program's working directory.
	Dir string
	// Mounts are made before the program starts; a target that does not exist is skipped.
	Mounts []Mount
	// Output receives the program's standard output and error.
	Output io.Writer
}

// podSpec is what the parent hands the sandbox's init, as JSON in envPod.
type podSpec struct {
	Hostname string
	IP       string
	Argv     []string
	Mounts   []Mount
}

// Pod is a running Pod sandbox: one process group with its own network, host name and mounts.
// The namespaces, the veth pair and the Pod's route disappear when its last process exits.
type Pod struct {
	cmd    *exec.Cmd
	exited chan struct{}
	err    error
	once   sync.Once
}

// StartPod starts a Pod sandbox and returns once its program has been started with its
// network in place.
func StartPod(cfg PodConfig) (*Pod, error) {
	if !InWorld() {
		return nil, errors.New("sandbox: StartPod outside a world would change the machine's network")
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	spec, err := json.Marshal(podSpec{Hostname: cfg.Hostname, IP: cfg.IP, Argv: cfg.Argv, Mounts: cfg.Mounts})
	if err != nil {
		return nil, err
	}
	// The child waits on this pipe until its end of the veth pair exists.
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer w.Close()
	cmd := exec.Command(self)
	cmd.Env = append(append([]string(nil), cfg.Env...), envPod+"="+string(spec))
	cmd.Dir = cfg.Dir
	cmd.Stdout, cmd.Stderr = cfg.Output, cfg.Output
	cmd.ExtraFiles = []*os.File{r}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Unshareflags: syscall.CLONE_NEWNET | syscall.CLONE_NEWUTS | syscall.CLONE_NEWNS,
		Setpgid:      true,
	}
	err = proc.Spawn(cmd)
	r.Close()
	if err != nil {
		return nil, fmt.Errorf("starting the sandbox of %s: %w", cfg.Hostname, err)
	}
	p := &Pod{cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	pid := fmt.Sprint(cmd.Process.Pid)
	err = ipAll(
		[]string{"link", "add", cfg.HostLink, "type", "veth", "peer", "name", "eth0", "netns", pid},
		[]string{"link", "set", cfg.HostLink, "up"},
		// replace: a previous sandbox of the same Pod may still be going away.
		[]string{"route", "replace", cfg.IP + "/32", "dev", cfg.HostLink, "src", GatewayIP},
	)
	if err == nil {
		_, err = w.Write([]byte{1})
	}
	if err != nil {
		p.Kill()
		<-p.exited
		return nil, fmt.Errorf("wiring the network of %s: %w", cfg.Hostname, err)
	}
	return p, nil
}

// PID returns the process id of the Pod's program.
func (p *Pod) PID() int { return p.cmd.Process.Pid }

// Signal sends sig to the Pod's process group.
func (p *Pod) Signal(sig syscall.Signal) error {
	return syscall.Kill(-p.cmd.Process.Pid, sig)
}

// Kill kills the Pod's process group.
func (p *Pod) Kill() { _ = p.Signal(syscall.SIGKILL) }

// Exited is closed when the Pod's program has exited.
func (p *Pod) Exited() <-chan struct{} { return p.exited }

// ExitCode returns the program's exit code, or -1 if a signal ended it; call it after Exited.
func (p *Pod) ExitCode() int { return p.cmd.ProcessState.ExitCode() }
