package main

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/serin-dev/serin/pkg/loadtester"
)

func fakeClient(string) (kubernetes.Interface, error) { return fake.NewClientset(), nil }

func noClient(string) (kubernetes.Interface, error) {
	return nil, errors.New("no cluster")
}

func TestNewStore(t *testing.T) {
	o := &options{stateFile: "/data/gates.json"}
	s, err := newStore(o, noClient)
	require.NoError(t, err)
	assert.Equal(t, loadtester.FileStore{Path: "/data/gates.json"}, s)

	o = &options{}
	s, err = newStore(o, noClient)
	require.NoError(t, err)
	assert.Nil(t, s, "no file, no ConfigMap: memory only")

	o = &options{stateFile: "/data/gates.json", stateConfigMap: "gates", stateNamespace: "test"}
	s, err = newStore(o, fakeClient)
	require.NoError(t, err)
	cm, ok := s.(loadtester.ConfigMapStore)
	require.True(t, ok, "the ConfigMap wins over the file")
	assert.Equal(t, "test", cm.Namespace)
	assert.Equal(t, "gates", cm.Name)

	_, err = newStore(o, noClient)
	assert.EqualError(t, err, "no cluster")
}

func TestPodNamespace(t *testing.T) {
	saFile := filepath.Join(t.TempDir(), "namespace")
	require.NoError(t, os.WriteFile(saFile, []byte("from-sa\n"), 0o600))

	ns, err := podNamespace("from-flag", "from-env", saFile)
	require.NoError(t, err)
	assert.Equal(t, "from-flag", ns)
	ns, err = podNamespace("", "from-env", saFile)
	require.NoError(t, err)
	assert.Equal(t, "from-env", ns)
	ns, err = podNamespace("", "", saFile)
	require.NoError(t, err)
	assert.Equal(t, "from-sa", ns)
	_, err = podNamespace("", "", saFile+".missing")
	assert.ErrorContains(t, err, "set -state-namespace or POD_NAMESPACE")
}
