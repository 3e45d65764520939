package cluster

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const widgetCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
`

func TestReadManifestsSplitsCRDsFromOtherObjects(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, dir, "a-crd.yaml", "# leading comment\n---\n"+widgetCRD+"---\n")
	writeTestFile(t, dir, "b-objects.yml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: test}\n---\n---\n"+
		"apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: test}\n")
	writeTestFile(t, dir, "c.json", `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}`)
	writeTestFile(t, dir, "README.md", "not a manifest")

	m, err := readManifests([]string{dir})
	require.NoError(t, err)
	require.Len(t, m.crds, 1)
	assert.Equal(t, "widgets.example.com", m.crds[0].Name)
	assert.Equal(t, "widgets", m.crds[0].Spec.Names.Plural)
	var kinds []string
	for _, o := range m.others {
		kinds = append(kinds, o.GetKind())
	}
	assert.Equal(t, []string{"Namespace", "Widget", "ConfigMap"}, kinds, "file order, then document order")
}

func TestReadManifestsErrors(t *testing.T) {
	dir := t.TempDir()
	for name, tc := range map[string]struct{ content, want string }{
		"v1beta1 CRD":       {"apiVersion: apiextensions.k8s.io/v1beta1\nkind: CustomResourceDefinition\nmetadata: {name: x}\n", "serves only apiextensions.k8s.io/v1"},
		"unknown CRD field": {"apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: x}\nspec: {grup: x}\n", "unknown field"},
		"no kind":           {"apiVersion: v1\nmetadata: {name: x}\n", "without apiVersion/kind"},
		"bad YAML":          {"kind: [\n", "reading"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := readManifests([]string{writeTestFile(t, dir, "m.yaml", tc.content)})
			assert.ErrorContains(t, err, tc.want)
		})
	}
	_, err := readManifests([]string{t.TempDir()})
	assert.ErrorContains(t, err, "no .yaml/.yml/.json files")
	_, err = readManifests([]string{filepath.Join(dir, "missing.yaml")})
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestGatewayAPIStandardCRDs(t *testing.T) {
	dir, err := gatewayAPICRDDir()
	require.NoError(t, err)
	m, err := readManifests([]string{dir})
	require.NoError(t, err)
	var names []string
	for _, crd := range m.crds {
		names = append(names, crd.Name)
	}
	assert.Contains(t, names, "httproutes.gateway.networking.k8s.io")
	assert.Contains(t, names, "gateways.gateway.networking.k8s.io")
	// The directory also holds a ValidatingAdmissionPolicy and its binding.
	for _, o := range m.others {
		assert.Equal(t, "admissionregistration.k8s.io", o.GroupVersionKind().Group, o.GetKind())
	}
}

func writeTestFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	return path
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return data
}
