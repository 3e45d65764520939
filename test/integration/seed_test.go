package integration

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// TestSeedManifestsRoundTrip applies every manifest of the tutorial with
// server-side apply, exactly as written, and reads each Canary and
// MetricTemplate back through the generated typed clientset: every field the
// user wrote must come back with the same value.
func TestSeedManifestsRoundTrip(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "seed", "*.yaml"))
	require.NoError(t, err)
	require.Len(t, files, 6, "the six seed manifests")
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			applyAndCompare(t, file)
		})
	}
}

// TestEveryFieldRoundTrips does the same with a Canary, a MetricTemplate and
// an AlertProvider that set every field of Flagger's schema, those of other
// meshes included.
func TestEveryFieldRoundTrips(t *testing.T) {
	applyAndCompare(t, filepath.Join("..", "testdata", "canary-all-fields.yaml"))
}

func applyAndCompare(t *testing.T, file string) {
	t.Helper()
	ctx := context.Background()
	for _, obj := range readObjects(t, file) {
		ensureNamespace(t, obj.GetNamespace())
		data, err := json.Marshal(obj.Object)
		require.NoError(t, err)
		_, err = dyn.Resource(resourceFor(t, obj)).Namespace(obj.GetNamespace()).Patch(ctx,
			obj.GetName(), "application/apply-patch+yaml", data,
			metav1.PatchOptions{FieldManager: "seed-test", Force: new(true)})
		require.NoError(t, err, "apply %s %s", obj.GetKind(), obj.GetName())

		typed := readTyped(t, obj)
		if typed == nil {
			continue
		}
		got, err := runtime.DefaultUnstructuredConverter.ToUnstructured(typed)
		require.NoError(t, err)
		assertSubset(t, obj.Object["spec"], got["spec"], obj.GetKind()+".spec")
	}
}

// readTyped reads an object back through the typed clientset; nil for kinds
// that are not ours.
func readTyped(t *testing.T, obj *unstructured.Unstructured) runtime.Object {
	t.Helper()
	ctx, ns, name := context.Background(), obj.GetNamespace(), obj.GetName()
	var (
		typed runtime.Object
		err   error
	)
	switch obj.GetKind() {
	case "Canary":
		typed, err = flagger.FlaggerV1beta1().Canaries(ns).Get(ctx, name, metav1.GetOptions{})
	case "MetricTemplate":
		typed, err = flagger.FlaggerV1beta1().MetricTemplates(ns).Get(ctx, name, metav1.GetOptions{})
	case "AlertProvider":
		typed, err = flagger.FlaggerV1beta1().AlertProviders(ns).Get(ctx, name, metav1.GetOptions{})
	default:
		return nil
	}
	require.NoError(t, err)
	return typed
}

// assertSubset checks that every value of want is in got, recursively;
// numbers compare by value whatever their Go type.
func assertSubset(t *testing.T, want, got any, path string) {
	t.Helper()
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !assert.True(t, ok, "%s: want an object, got %T", path, got) {
			return
		}
		for k, v := range w {
			gv, ok := g[k]
			if !ok && isZero(v) {
				continue // omitempty drops false, 0 and "", which mean the same
			}
			if assert.True(t, ok, "%s.%s was lost", path, k) {
				assertSubset(t, v, gv, path+"."+k)
			}
		}
	case []any:
		g, ok := got.([]any)
		if !assert.True(t, ok, "%s: want a list, got %T", path, got) || !assert.Len(t, g, len(w), path) {
			return
		}
		for i := range w {
			assertSubset(t, w[i], g[i], path)
		}
	default:
		if wf, ok := number(want); ok {
			gf, ok := number(got)
			assert.True(t, ok && wf == gf, "%s: want %v, got %v", path, want, got)
			return
		}
		assert.Equal(t, want, got, path)
	}
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case int:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

func isZero(v any) bool {
	switch z := v.(type) {
	case bool:
		return !z
	case string:
		return z == ""
	}
	n, ok := number(v)
	return ok && n == 0
}
