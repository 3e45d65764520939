package sandbox

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"

	"github.com/serin-dev/serin/test/lib/proc"
)

// GatewayIP is the world's own address: every Pod routes through it, and the services of the
// world that Pods reach (DNS, the gateway, the API server) answer on it. It is on the world's
// loopback device only, so the machine never sees it.
const GatewayIP = "10.250.0.1"

// ServiceAccountDir is where Pods find their service-account token, CA and namespace, as
// client-go's in-cluster configuration expects them.
const ServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount"

// envWorld marks a process that runs inside a world.
const envWorld = "SERIN_SANDBOX_WORLD"

// Supported returns why worlds cannot be made on this machine, or "" when they can.
func Supported() string {
	if runtime.GOOS != "linux" {
		return "network namespaces need Linux"
	}
	if os.Geteuid() != 0 {
		return "network namespaces need root (run as root, as CI does)"
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return "iproute2 (ip) is not on PATH"
	}
	probe := exec.Command("ip", "link", "show", "lo")
	probe.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNET | syscall.CLONE_NEWNS}
	if out, err := probe.CombinedOutput(); err != nil {
		return fmt.Sprintf("cannot create a network namespace (%v: %s)", err, out)
	}
	return ""
}

// InWorld reports whether this process runs inside a world.
func InWorld() bool { return os.Getenv(envWorld) == "1" }

// WorldCommand returns a command that runs this program again with args in a new network and
// mount namespace; the new process sees InWorld() == true. The caller sets its I/O and starts it.
func WorldCommand(args ...string) (*exec.Cmd, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), envWorld+"=1")
	// Go makes the new mount namespace private (MS_REC|MS_PRIVATE on /) when it unshares it, so
	// the mounts made inside never propagate to the machine.
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNET | syscall.CLONE_NEWNS}
	return cmd, nil
}

// RunInWorld runs this program again, with the same arguments and standard I/O, inside a new
// world, forwards SIGINT and SIGTERM to it, and returns its exit code. The world and everything
// in it dies with this process.
func RunInWorld() int {
	cmd, err := WorldCommand(os.Args[1:]...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sandbox:", err)
		return 1
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	if err := proc.Spawn(cmd); err != nil {
		fmt.Fprintln(os.Stderr, "sandbox: entering a new network namespace:", err)
		return 1
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case sig := <-sigs:
			_ = cmd.Process.Signal(sig)
		case err := <-done:
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				return max(exit.ExitCode(), 1)
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "sandbox:", err)
				return 1
			}
			return 0
		}
	}
}

// SetUpWorld prepares the world this process runs in: loopback up with GatewayIP on it, a
// private /run (with the mount point of service-account directories) and, bind-mounted over
// /etc/resolv.conf, a resolver configuration naming nameserver, written into dir. Call it once,
// inside the world, before starting anything.
func SetUpWorld(dir, nameserver string) error {
	if !InWorld() {
		return errors.New("sandbox: SetUpWorld outside a world would change the machine's network")
	}
	if err := ipAll([]string{"link", "set", "lo", "up"}, []string{"addr", "add", GatewayIP + "/32", "dev", "lo"}); err != nil {
		return err
	}
	// Resolve the symlink (often into /run) before /run is replaced.
	resolv, err := filepath.EvalSymlinks("/etc/resolv.conf")
	if err != nil {
		return fmt.Errorf("locating /etc/resolv.conf: %w", err)
	}
	if err := syscall.Mount("tmpfs", "/run", "tmpfs", 0, "mode=0755"); err != nil {
		return fmt.Errorf("mounting a private /run: %w", err)
	}
	if err := os.MkdirAll(filepath.Join("/run", "secrets", "kubernetes.io", "serviceaccount"), 0o755); err != nil {
		return err
	}
	return bindResolvConf(dir, resolv, nameserver)
}

// bindResolvConf writes the world's resolver configuration and mounts it over target. Names are
// looked up as in a Pod: "<service>.<namespace>" through the search list.
func bindResolvConf(dir, target, nameserver string) error {
	conf := filepath.Join(dir, "resolv.conf")
	content := fmt.Sprintf("nameserver %s\nsearch svc.cluster.local cluster.local\noptions ndots:5\n", nameserver)
	if err := os.WriteFile(conf, []byte(content), 0o644); err != nil {
		return err
	}
	// The target may have lived in the /run that was just replaced.
	if _, err := os.Stat(target); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(target, nil, 0o644); err != nil {
			return err
		}
	}
	if err := syscall.Mount(conf, target, "", syscall.MS_BIND, ""); err != nil {
		return fmt.Errorf("mounting the world's resolv.conf over %s: %w", target, err)
	}
	return nil
}
