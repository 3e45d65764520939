package cluster

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/serin-dev/serin/test/lib/manifest"
)

// manifests are the objects read from Options.CRDPaths (and the Gateway API CRDs), split so
// that CRDs can be installed and waited for before anything that may depend on them.
type manifests struct {
	crds   []*apiextensionsv1.CustomResourceDefinition
	others []*unstructured.Unstructured
}

// manifestExts are the file extensions read from a directory.
var manifestExts = []string{".yaml", ".yml", ".json"}

// readManifests reads every document of the given files and directories (not recursive, in
// name order, like `kubectl apply -f DIR`).
func readManifests(paths []string) (*manifests, error) {
	m := &manifests{}
	for _, p := range paths {
		files, err := manifestFiles(p)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if err := m.readFile(f); err != nil {
				return nil, fmt.Errorf("reading %s: %w", f, err)
			}
		}
	}
	return m, nil
}

// manifestFiles expands a directory into its manifest files.
func manifestFiles(path string) ([]string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return []string{path}, nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		if !e.IsDir() && slices.Contains(manifestExts, strings.ToLower(filepath.Ext(e.Name()))) {
			files = append(files, filepath.Join(path, e.Name()))
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no %s files in %s", strings.Join(manifestExts, "/"), path)
	}
	return files, nil
}

// readFile decodes every YAML or JSON document of one file.
func (m *manifests) readFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	objs, err := manifest.Decode(f)
	if err != nil {
		return err
	}
	for _, obj := range objs {
		if err := m.add(obj); err != nil {
			return err
		}
	}
	return nil
}

// add files obj as a CRD or as another object.
func (m *manifests) add(obj *unstructured.Unstructured) error {
	gvk := obj.GroupVersionKind()
	if gvk.GroupKind() != crdGroupKind {
		if gvk.Kind == "" || gvk.Version == "" {
			return fmt.Errorf("document without apiVersion/kind: %.80v", obj.Object)
		}
		m.others = append(m.others, obj)
		return nil
	}
	if gvk.Version != "v1" {
		return fmt.Errorf("CustomResourceDefinition %s is %s, the API server serves only apiextensions.k8s.io/v1", obj.GetName(), gvk.Version)
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(obj.Object, crd, true); err != nil {
		return fmt.Errorf("CustomResourceDefinition %s: %w", obj.GetName(), err)
	}
	m.crds = append(m.crds, crd)
	return nil
}

var crdGroupKind = apiextensionsv1.SchemeGroupVersion.WithKind("CustomResourceDefinition").GroupKind()
