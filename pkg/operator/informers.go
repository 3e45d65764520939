package operator

import (
	"k8s.io/apimachinery/pkg/api/meta"
)

// stripManagedFields is the transform of every informer: the operator never
// reads managedFields, which are often the largest part of a cached object
// (one entry per field manager). Writes built from a cached copy without
// them leave the server's managedFields as they are.
func stripManagedFields(obj any) (any, error) {
	if m, err := meta.Accessor(obj); err == nil {
		m.SetManagedFields(nil)
	}
	return obj, nil
}
