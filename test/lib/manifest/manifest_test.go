package manifest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeSkipsEmptyDocuments(t *testing.T) {
	objs, err := Decode(strings.NewReader("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n---\n" +
		`{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "b"}}` + "\n"))
	require.NoError(t, err)
	require.Len(t, objs, 2)
	assert.Equal(t, "ConfigMap", objs[0].GetKind())
	assert.Equal(t, "b", objs[1].GetName())
}

func TestReadFilesKeepsTheOrderAndNamesTheBadFile(t *testing.T) {
	dir := t.TempDir()
	a, b, bad := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml"), filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(a, []byte("kind: A\n---\nkind: B\n"), 0o644))
	require.NoError(t, os.WriteFile(b, []byte("kind: C\n"), 0o644))
	require.NoError(t, os.WriteFile(bad, []byte("kind: [\n"), 0o644))

	objs, err := ReadFiles(b, a)
	require.NoError(t, err)
	var kinds []string
	for _, o := range objs {
		kinds = append(kinds, o.GetKind())
	}
	assert.Equal(t, []string{"C", "A", "B"}, kinds)

	_, err = ReadFiles(a, bad)
	assert.ErrorContains(t, err, bad+":")
	_, err = ReadFiles(filepath.Join(dir, "missing.yaml"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}
