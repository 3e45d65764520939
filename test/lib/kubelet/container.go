package kubelet

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Images maps a container image to the program that stands for its entrypoint here. It runs
// in the Pod's own goroutine and may take a while (it may build the program), as a pull would.
type Images func(ctx context.Context, image string) (string, error)

// commandLine returns the argv of a container whose image runs program. A command whose first
// word names the image's program (./podinfo for podinfo) runs program; any other command runs
// as found on the PATH.
func commandLine(c *corev1.Container, program string) ([]string, error) {
	if len(c.Command) == 0 {
		return append([]string{program}, c.Args...), nil
	}
	first := c.Command[0]
	if filepath.Base(first) != filepath.Base(program) {
		p, err := exec.LookPath(first)
		if err != nil {
			return nil, fmt.Errorf("command %q: %w", first, err)
		}
		program = p
	}
	return slices.Concat([]string{program}, c.Command[1:], c.Args), nil
}

// podEnv holds what a container's environment is computed from besides the Pod.
type podEnv struct {
	podIP, hostIP      string
	apiHost, apiPort   string // the kubernetes Service, for in-cluster clients
	path, home, tmpDir string
}

// environment returns a container's environment: the variables a runtime and the kubelet set,
// then the container's own (which win), with fieldRef values resolved. Other valueFrom sources
// (ConfigMaps, Secrets, resources) are not supported and leave the variable unset.
func environment(pod *corev1.Pod, c *corev1.Container, e podEnv) []string {
	vars := [][2]string{
		{"PATH", e.path}, {"HOME", e.home}, {"TMPDIR", e.tmpDir}, {"HOSTNAME", pod.Name},
	}
	if e.apiHost != "" {
		vars = append(vars, [2]string{"KUBERNETES_SERVICE_HOST", e.apiHost}, [2]string{"KUBERNETES_SERVICE_PORT", e.apiPort})
	}
	for _, v := range c.Env {
		value := v.Value
		if v.ValueFrom != nil {
			if v.ValueFrom.FieldRef == nil {
				continue
			}
			var ok bool
			if value, ok = fieldValue(pod, v.ValueFrom.FieldRef.FieldPath, e); !ok {
				continue
			}
		}
		vars = append(vars, [2]string{v.Name, value})
	}
	// Later definitions win, as in a container; the process sees each name once.
	seen := map[string]int{}
	var env []string
	for _, kv := range vars {
		line := kv[0] + "=" + kv[1]
		if i, ok := seen[kv[0]]; ok {
			env[i] = line
			continue
		}
		seen[kv[0]] = len(env)
		env = append(env, line)
	}
	return env
}

// fieldValue resolves the downward-API fields that a kubelet resolves for env.
func fieldValue(pod *corev1.Pod, path string, e podEnv) (string, bool) {
	switch path {
	case "metadata.name":
		return pod.Name, true
	case "metadata.namespace":
		return pod.Namespace, true
	case "metadata.uid":
		return string(pod.UID), true
	case "spec.nodeName":
		return pod.Spec.NodeName, true
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, true
	case "status.podIP":
		return e.podIP, true
	case "status.hostIP":
		return e.hostIP, true
	}
	return "", false
}

// probe is a readiness probe as the runner runs it.
type probe struct {
	// port is 0 when there is nothing to probe: the container is ready once started.
	port             int
	path             string // empty for a TCP probe
	initialDelay     time.Duration
	failureThreshold int
}

// probePeriod is how often probes run. Kubernetes' default (10 s) would make every rollout of a
// test wait; one second keeps the behaviour and loses only the wait.
const probePeriod = time.Second

// readinessProbe translates a container's readiness probe. An exec probe, which needs the
// image's tools, becomes a TCP check of the container's first TCP port.
func readinessProbe(c *corev1.Container) probe {
	p := c.ReadinessProbe
	if p == nil {
		return probe{}
	}
	out := probe{
		initialDelay:     time.Duration(p.InitialDelaySeconds) * time.Second,
		failureThreshold: max(int(p.FailureThreshold), 1),
	}
	if p.FailureThreshold == 0 {
		out.failureThreshold = 3
	}
	switch {
	case p.HTTPGet != nil:
		out.port, out.path = containerPort(c, p.HTTPGet.Port), p.HTTPGet.Path
		if out.path == "" {
			out.path = "/"
		}
	case p.TCPSocket != nil:
		out.port = containerPort(c, p.TCPSocket.Port)
	default:
		for _, cp := range c.Ports {
			if cp.Protocol == "" || cp.Protocol == corev1.ProtocolTCP {
				out.port = int(cp.ContainerPort)
				break
			}
		}
	}
	return out
}

// containerPort resolves a probe port, by number or by the name of a container port.
func containerPort(c *corev1.Container, port intstr.IntOrString) int {
	if port.Type == intstr.Int {
		return port.IntValue()
	}
	for _, cp := range c.Ports {
		if cp.Name == port.StrVal {
			return int(cp.ContainerPort)
		}
	}
	return 0
}
