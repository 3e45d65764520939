package sandbox

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// envServe makes the test binary, started in a Pod, serve its host name on :8080.
const envServe = "SANDBOX_TEST_SERVE"

var unsupported string

func TestMain(m *testing.M) {
	Init()
	if os.Getenv(envServe) != "" {
		serveHostname()
	}
	if unsupported = Supported(); unsupported == "" && !InWorld() {
		os.Exit(RunInWorld())
	}
	if unsupported == "" {
		dir, err := os.MkdirTemp("", "sandbox-test-")
		if err == nil {
			defer os.RemoveAll(dir)
			err = SetUpWorld(dir, GatewayIP)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}

func serveHostname() {
	name, _ := os.Hostname()
	resolv, _ := os.ReadFile("/etc/resolv.conf")
	token, _ := os.ReadFile(filepath.Join(ServiceAccountDir, "token"))
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s|%s|%s|%s", name, r.RemoteAddr, strings.Fields(string(resolv))[1], token)
	})
	fmt.Fprintln(os.Stderr, http.ListenAndServe(":8080", nil))
	os.Exit(1)
}

func TestPodServesOnItsIP(t *testing.T) {
	if unsupported != "" {
		t.Skip("sandbox: " + unsupported)
	}
	dir := t.TempDir()
	sa := filepath.Join(dir, "sa")
	require.NoError(t, os.Mkdir(sa, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(sa, "token"), []byte("tok"), 0o644))
	self, err := os.Executable()
	require.NoError(t, err)
	pod, err := StartPod(PodConfig{
		Hostname: "web-0", IP: "10.244.7.9", HostLink: "sbtest0",
		Argv: []string{self}, Env: []string{envServe + "=1", "PATH=" + os.Getenv("PATH")},
		Dir: dir, Output: io.Discard,
		Mounts: []Mount{{Source: sa, Target: ServiceAccountDir}},
	})
	require.NoError(t, err)
	defer func() {
		pod.Kill()
		<-pod.Exited()
	}()

	var body string
	require.Eventually(t, func() bool {
		resp, err := (&http.Client{Timeout: time.Second}).Get("http://10.244.7.9:8080/")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return true
	}, 10*time.Second, 50*time.Millisecond)
	parts := strings.Split(body, "|")
	require.Len(t, parts, 4)
	assert.Equal(t, "web-0", parts[0], "the Pod's host name")
	host, _, _ := net.SplitHostPort(parts[1])
	assert.Equal(t, GatewayIP, host, "the world reaches the Pod from its gateway address")
	assert.Equal(t, GatewayIP, parts[2], "the world's resolver configuration")
	assert.Equal(t, "tok", parts[3], "the service-account mount")

	require.NoError(t, pod.Signal(syscall.SIGTERM))
	select {
	case <-pod.Exited():
	case <-time.After(5 * time.Second):
		t.Fatal("the Pod did not exit on SIGTERM")
	}
}
