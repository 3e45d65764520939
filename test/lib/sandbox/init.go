package sandbox

import (
	"encoding/json"
	"fmt"
	"os"
	"syscall"
)

// Init turns this process into a Pod sandbox when it was started as one: it sets up the
// network, host name and mounts, then replaces itself with the Pod's program. Otherwise it
// returns at once. Call it first thing in main or TestMain.
func Init() {
	raw, ok := os.LookupEnv(envPod)
	if !ok {
		return
	}
	os.Unsetenv(envPod)
	var spec podSpec
	err := json.Unmarshal([]byte(raw), &spec)
	if err == nil {
		err = enterPod(spec)
	}
	fmt.Fprintln(os.Stderr, "sandbox:", err)
	os.Exit(128)
}

// enterPod runs in the sandbox's init: it waits for its veth end, configures it and execs the
// program. It returns only on failure.
func enterPod(spec podSpec) error {
	ready := os.NewFile(3, "ready")
	if _, err := ready.Read(make([]byte, 1)); err != nil {
		return fmt.Errorf("the parent did not wire the network: %w", err)
	}
	ready.Close()
	err := ipAll(
		[]string{"link", "set", "lo", "up"},
		[]string{"addr", "add", spec.IP + "/32", "dev", "eth0"},
		[]string{"link", "set", "eth0", "up"},
		[]string{"route", "add", GatewayIP, "dev", "eth0", "scope", "link"},
		[]string{"route", "add", "default", "via", GatewayIP, "dev", "eth0"},
	)
	if err != nil {
		return err
	}
	if err := syscall.Sethostname([]byte(spec.Hostname)); err != nil {
		return fmt.Errorf("setting the host name: %w", err)
	}
	if len(spec.Argv) == 0 {
		return fmt.Errorf("no program to run")
	}
	// Like the mount sources, the program may live under a mount target (/tmp).
	prog, err := os.Open(spec.Argv[0])
	if err != nil {
		return err
	}
	if err := mountAll(spec.Mounts); err != nil {
		return err
	}
	path := spec.Argv[0]
	if _, err := os.Stat(path); err != nil {
		path = fmt.Sprintf("/proc/self/fd/%d", prog.Fd())
	}
	return syscall.Exec(path, spec.Argv, os.Environ())
}

// mountAll makes the bind mounts. Every source is opened before the first mount, because a
// mount may hide another's source: an emptyDir on /tmp hides the Pod's directory under /tmp.
func mountAll(mounts []Mount) error {
	sources := make([]*os.File, len(mounts))
	for i, m := range mounts {
		f, err := os.Open(m.Source)
		if err != nil {
			return fmt.Errorf("opening mount source: %w", err)
		}
		defer f.Close()
		sources[i] = f
	}
	for i, m := range mounts {
		if _, err := os.Stat(m.Target); err != nil {
			fmt.Fprintf(os.Stderr, "sandbox: not mounting %s: %v\n", m.Target, err)
			continue
		}
		src := fmt.Sprintf("/proc/self/fd/%d", sources[i].Fd())
		if err := syscall.Mount(src, m.Target, "", syscall.MS_BIND|syscall.MS_REC, ""); err != nil {
			return fmt.Errorf("mounting %s on %s: %w", m.Source, m.Target, err)
		}
	}
	return nil
}
