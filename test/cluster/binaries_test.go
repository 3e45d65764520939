package cluster

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTestbinScriptPrintsTheCacheLayout(t *testing.T) {
	t.Setenv("SERIN_TESTBIN", "/nonexistent/testbin")
	paths, err := readTestbinPaths()
	require.NoError(t, err)
	assert.Equal(t, "/nonexistent/testbin", paths["SERIN_TESTBIN"])
	assert.Regexp(t, `^/nonexistent/testbin/etcd-v3\.\d+\.\d+$`, paths["SERIN_ETCD_DIR"])
	assert.Regexp(t, `^/nonexistent/testbin/kubernetes-v1\.\d+\.\d+$`, paths["SERIN_KUBERNETES_DIR"])
	assert.Regexp(t, `^/nonexistent/testbin/kwok-v0\.\d+\.\d+$`, paths["SERIN_KWOK_DIR"])
}

func TestParseEnvLinesNeedsTheHarnessKeys(t *testing.T) {
	_, err := parseEnvLines([]byte("SERIN_TESTBIN=/x\nSERIN_ETCD_DIR=/x/etcd\n"))
	assert.ErrorContains(t, err, "SERIN_KUBERNETES_DIR")
}

func TestMissingBinariesNameTheBuildCommand(t *testing.T) {
	dir := t.TempDir()
	paths := map[string]string{
		"SERIN_ETCD_DIR":       filepath.Join(dir, "etcd"),
		"SERIN_KUBERNETES_DIR": filepath.Join(dir, "kubernetes"),
		"SERIN_KWOK_DIR":       filepath.Join(dir, "kwok"),
	}
	_, err := locateBinaries(paths, false)
	assert.ErrorContains(t, err, "`hack/testbin.sh core`")
	assert.ErrorContains(t, err, filepath.Join(dir, "kubernetes", "kube-apiserver"))

	// With the core set present, a full cluster still lacks the e2e tier.
	for _, f := range []string{"etcd/etcd", "kubernetes/kube-apiserver"} {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), nil, 0o755))
	}
	_, err = locateBinaries(paths, false)
	assert.NoError(t, err)
	_, err = locateBinaries(paths, true)
	assert.ErrorContains(t, err, "`hack/testbin.sh all`")
	assert.ErrorContains(t, err, filepath.Join(dir, "kwok", "stages", "*.yaml"))
}

func TestOptionsValidation(t *testing.T) {
	assert.Error(t, Options{FakeNodes: 3}.validate())
	assert.Error(t, Options{ControllerManagerArgs: []string{"-v=2"}}.validate())
	assert.NoError(t, Options{Full: true, FakeNodes: 3}.validate())
	assert.Equal(t, DefaultFakeNodes, Options{Full: true}.fakeNodes())
	assert.Equal(t, 0, Options{Full: true, FakeNodes: -1}.fakeNodes())
	assert.Equal(t, 5, Options{Full: true, FakeNodes: 5}.fakeNodes())
	assert.Equal(t, 0, Options{}.fakeNodes())
}
