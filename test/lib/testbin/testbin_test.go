package testbin

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestScriptPrintsTheCacheLayout(t *testing.T) {
	t.Setenv("SERIN_TESTBIN", "/nonexistent/testbin")
	paths, err := readPaths()
	require.NoError(t, err)
	assert.Equal(t, "/nonexistent/testbin", paths["SERIN_TESTBIN"])
	assert.Regexp(t, `^/nonexistent/testbin/etcd-v3\.\d+\.\d+$`, paths["SERIN_ETCD_DIR"])
	assert.Regexp(t, `^/nonexistent/testbin/kubernetes-v1\.\d+\.\d+$`, paths["SERIN_KUBERNETES_DIR"])
	assert.Regexp(t, `^/nonexistent/testbin/kwok-v0\.\d+\.\d+$`, paths["SERIN_KWOK_DIR"])
	assert.Regexp(t, `^/nonexistent/testbin/prometheus-v0\.\d+\.\d+$`, paths["SERIN_PROMETHEUS_DIR"])
}

func TestLookupNeedsTheKey(t *testing.T) {
	paths := parseEnvLines([]byte("SERIN_TESTBIN=/c\n  SERIN_PROMETHEUS_DIR=/c/prometheus-v0.316.0  \nbuilding...\nSERIN_KWOK_DIR=\n"))
	dir, err := lookup(paths, "SERIN_PROMETHEUS_DIR")
	require.NoError(t, err)
	assert.Equal(t, "/c/prometheus-v0.316.0", dir)

	_, err = lookup(paths, "SERIN_KUBERNETES_DIR")
	assert.EqualError(t, err, "hack/testbin.sh path printed no SERIN_KUBERNETES_DIR")
	_, err = lookup(paths, "SERIN_KWOK_DIR")
	assert.ErrorContains(t, err, "printed no SERIN_KWOK_DIR", "an empty value counts as missing")
}

func TestRepoRootHoldsTheScript(t *testing.T) {
	root, err := RepoRoot()
	require.NoError(t, err)
	assert.FileExists(t, filepath.Join(root, Script))
}

func TestMissingErrorNamesTheBuildCommand(t *testing.T) {
	err := MissingError("core", "about 9 minutes on 2 cores", "/c/etcd/etcd", "/c/k8s/kube-apiserver")
	assert.EqualError(t, err, "test binaries missing: /c/etcd/etcd, /c/k8s/kube-apiserver; build them from the "+
		"repository root with `hack/testbin.sh core` (or `make testbin`): about 9 minutes on 2 cores when cold, "+
		"seconds once cached")
	assert.ErrorContains(t, MissingError("prometheus", "a while", "/c/prometheus"),
		"test binary missing: /c/prometheus; build it from the repository root with `hack/testbin.sh prometheus`")
}
