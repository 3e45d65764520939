package kubelet

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestCommandLine(t *testing.T) {
	podinfo := &corev1.Container{Command: []string{"./podinfo", "--port=9898"}, Args: []string{"--random-error"}}
	argv, err := commandLine(podinfo, "/cache/podinfo-6.0.1/podinfo")
	require.NoError(t, err)
	assert.Equal(t, []string{"/cache/podinfo-6.0.1/podinfo", "--port=9898", "--random-error"}, argv)

	tester := &corev1.Container{Args: []string{"-port=8080"}}
	argv, err = commandLine(tester, "/bin/loadtester")
	require.NoError(t, err)
	assert.Equal(t, []string{"/bin/loadtester", "-port=8080"}, argv)

	shell := &corev1.Container{Command: []string{"sh", "-c", "true"}}
	argv, err = commandLine(shell, "/bin/loadtester")
	require.NoError(t, err)
	assert.Equal(t, []string{"-c", "true"}, argv[1:])
	assert.NotEqual(t, "/bin/loadtester", argv[0])

	_, err = commandLine(&corev1.Container{Command: []string{"no-such-program-here"}}, "/bin/x")
	assert.Error(t, err)
}

func TestEnvironment(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-1", Namespace: "test"}}
	c := &corev1.Container{Env: []corev1.EnvVar{
		{Name: "PODINFO_UI_MESSAGE", Value: "hello"},
		{Name: "POD_NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
		{Name: "POD_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
		{Name: "FROM_SECRET", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{Key: "k"}}},
		{Name: "TMPDIR", Value: "/tmp"},
	}}
	env := environment(pod, c, podEnv{podIP: "10.244.0.2", apiHost: "10.0.0.1", apiPort: "443", path: "/bin", home: "/h", tmpDir: "/pod/tmp"})
	assert.Equal(t, []string{
		"PATH=/bin", "HOME=/h", "TMPDIR=/tmp", "HOSTNAME=web-1",
		"KUBERNETES_SERVICE_HOST=10.0.0.1", "KUBERNETES_SERVICE_PORT=443",
		"PODINFO_UI_MESSAGE=hello", "POD_NAMESPACE=test", "POD_IP=10.244.0.2",
	}, env)
}

func TestReadinessProbe(t *testing.T) {
	ports := []corev1.ContainerPort{{Name: "http", ContainerPort: 9898}, {Name: "metrics", ContainerPort: 9797}}
	httpGet := &corev1.Container{Ports: ports, ReadinessProbe: &corev1.Probe{
		ProbeHandler:        corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/readyz", Port: intstr.FromString("http")}},
		InitialDelaySeconds: 5,
	}}
	assert.Equal(t, probe{port: 9898, path: "/readyz", initialDelay: 5 * time.Second, failureThreshold: 3}, readinessProbe(httpGet))

	exec := &corev1.Container{Ports: ports, ReadinessProbe: &corev1.Probe{
		ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"podcli", "check"}}}, FailureThreshold: 1,
	}}
	assert.Equal(t, probe{port: 9898, failureThreshold: 1}, readinessProbe(exec))

	assert.Equal(t, probe{}, readinessProbe(&corev1.Container{Ports: ports}), "no probe: ready once started")
}
