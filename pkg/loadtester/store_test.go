package loadtester

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

var someGates = []Gate{
	{Kind: PromotionGate, Namespace: "test", Name: "podinfo"},
	{Kind: RollbackGate, Namespace: "test", Name: "podinfo"},
}

func TestFileStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := FileStore{Path: filepath.Join(dir, "gates.json")}

	got, err := s.Load(ctx)
	require.NoError(t, err, "a missing file is an empty state")
	assert.Empty(t, got)

	require.NoError(t, s.Save(ctx, someGates))
	got, err = s.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, someGates, got)

	require.NoError(t, s.Save(ctx, nil))
	got, err = s.Load(ctx)
	require.NoError(t, err)
	assert.Empty(t, got)

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file is left behind")
	assert.Equal(t, "gates.json", entries[0].Name())
}

func TestFileStoreErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	corrupt := FileStore{Path: filepath.Join(dir, "corrupt.json")}
	require.NoError(t, os.WriteFile(corrupt.Path, []byte("{"), 0o600))
	_, err := corrupt.Load(ctx)
	assert.ErrorContains(t, err, "decoding the gate state")

	noDir := FileStore{Path: filepath.Join(dir, "missing", "gates.json")}
	assert.Error(t, noDir.Save(ctx, someGates))
}

func TestConfigMapStore(t *testing.T) {
	ctx := context.Background()
	client := fake.NewClientset()
	s := ConfigMapStore{Client: client, Namespace: "test", Name: "loadtester-gates"}

	got, err := s.Load(ctx)
	require.NoError(t, err, "a missing ConfigMap is an empty state")
	assert.Empty(t, got)

	require.NoError(t, s.Save(ctx, someGates), "creates the ConfigMap")
	got, err = s.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, someGates, got)

	require.NoError(t, s.Save(ctx, someGates[:1]), "updates the ConfigMap")
	got, err = s.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, someGates[:1], got)

	cm, err := client.CoreV1().ConfigMaps("test").Get(ctx, "loadtester-gates", metav1.GetOptions{})
	require.NoError(t, err)
	assert.JSONEq(t, `{"open":[{"kind":"gate","namespace":"test","name":"podinfo"}]}`, cm.Data[ConfigMapKey])
}

func TestConfigMapStoreKeepsOtherKeys(t *testing.T) {
	ctx := context.Background()
	client := fake.NewClientset(&corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "shared", Namespace: "test"},
		Data:       map[string]string{"other": "kept"},
	})
	s := ConfigMapStore{Client: client, Namespace: "test", Name: "shared"}

	got, err := s.Load(ctx)
	require.NoError(t, err, "a missing key is an empty state")
	assert.Empty(t, got)

	require.NoError(t, s.Save(ctx, someGates))
	cm, err := client.CoreV1().ConfigMaps("test").Get(ctx, "shared", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "kept", cm.Data["other"])
	assert.Contains(t, cm.Data, ConfigMapKey)
}

func TestConfigMapStoreCorrupt(t *testing.T) {
	client := fake.NewClientset(&corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "gates", Namespace: "test"},
		Data:       map[string]string{ConfigMapKey: "not json"},
	})
	_, err := ConfigMapStore{Client: client, Namespace: "test", Name: "gates"}.Load(context.Background())
	assert.ErrorContains(t, err, "decoding the gate state")
}
