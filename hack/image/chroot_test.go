package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// inImage starts argv the way a container runtime would, short of
// namespaces: the unpacked image as /, the config's user and environment.
// The network is this machine's, so a process inside reaches loopback.
func inImage(root string, cf *v1.ConfigFile, argv ...string) *exec.Cmd {
	uid, gid := userIDs(cf.Config.User)
	return &exec.Cmd{
		Path: argv[0], // resolved inside the chroot, not on this machine's PATH
		Args: argv,
		Env:  cf.Config.Env,
		Dir:  "/",
		SysProcAttr: &syscall.SysProcAttr{
			Chroot:     root,
			Credential: &syscall.Credential{Uid: uid, Gid: gid},
		},
	}
}

// nullDev is device 1:3 in Linux's encoding of device numbers.
const nullDev = 1<<8 | 3

// devNull makes the one device a runtime's /dev gives that the programs
// here open: os/exec points a process's unset stdin at /dev/null.
func devNull(t *testing.T, root string) {
	t.Helper()
	dev := filepath.Join(root, "dev")
	require.NoError(t, os.MkdirAll(dev, 0o755))
	require.NoError(t, syscall.Mknod(filepath.Join(dev, "null"), syscall.S_IFCHR|0o666, nullDev))
	require.NoError(t, os.Chmod(filepath.Join(dev, "null"), 0o666))
}

// userIDs reads a numeric USER of the form uid:gid.
func userIDs(user string) (uint32, uint32) {
	u, g, _ := strings.Cut(user, ":")
	uid, _ := strconv.ParseUint(u, 10, 32)
	gid, _ := strconv.ParseUint(g, 10, 32)
	return uint32(uid), uint32(gid)
}

// loadTesterRunsTheTutorialsSmokeTest starts the load tester from its image
// with the shipped manifest's allow-list and sends it the webhook of
// Flagger's tutorial (curl ... | grep token, as a bash task), so that the
// image's bash, curl and grep run as the load tester runs them. A podinfo
// stand-in answers /token as podinfo does.
func loadTesterRunsTheTutorialsSmokeTest(t *testing.T, root string, cf *v1.ConfigFile) {
	podinfo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/token" {
			fmt.Fprint(w, `{"token":"eyJhbGciOi","expires_at":"2026-12-06T00:00:00Z"}`)
			return
		}
		http.NotFound(w, r)
	}))
	defer podinfo.Close()

	out, err := inImage(root, cf, "/bin/sh", "-c", "echo uid=$UID").CombinedOutput()
	require.NoError(t, err, "/bin/sh: %s", out)
	assert.Contains(t, string(out), "65532", "the image runs as nonroot")

	port := freePort(t)
	var logs bytes.Buffer
	lt := inImage(root, cf, "/loadtester", "-port", strconv.Itoa(port), "-allow-cmd=hey,curl,grep",
		"-state-file=/tmp/gates.json", "-zap-encoding=console")
	lt.Stdout, lt.Stderr = &logs, &logs
	require.NoError(t, lt.Start())
	defer func() {
		_ = lt.Process.Kill()
		_ = lt.Wait()
		if t.Failed() {
			t.Logf("load tester output:\n%s", logs.String())
		}
	}()
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)

	task := func(cmd string) (int, string) {
		body := fmt.Sprintf(`{"name":"podinfo","namespace":"test","phase":"Progressing","metadata":{"type":"bash","cmd":%q}}`, cmd)
		resp, err := http.Post(url, "application/json", strings.NewReader(body))
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	smoke := fmt.Sprintf("curl -sd 'anon' %s/token | grep token", podinfo.URL)
	require.Eventually(t, func() bool {
		code, _ := task(smoke)
		return code != 0
	}, time.Minute, 200*time.Millisecond, "the load tester did not answer")

	code, body := task(smoke)
	assert.Equal(t, http.StatusOK, code, "the smoke test failed: %s", body)
	code, body = task(fmt.Sprintf("curl -sd 'anon' %s/token | grep no-such-word", podinfo.URL))
	assert.Equal(t, http.StatusInternalServerError, code, "grep finding nothing must fail the task: %s", body)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
