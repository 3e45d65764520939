package cluster

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMissingBinariesNameTheBuildCommand(t *testing.T) {
	dir := t.TempDir()
	paths := map[string]string{
		etcdDirKey:       filepath.Join(dir, "etcd"),
		kubernetesDirKey: filepath.Join(dir, "kubernetes"),
		kwokDirKey:       filepath.Join(dir, "kwok"),
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
