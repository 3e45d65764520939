package operator

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/serin-dev/serin/pkg/history"
)

// kubeTransform is the transform of the Kubernetes informers:
// stripManagedFields, and no data for the canaries' history ConfigMaps
// (see pkg/history). The operator never reads a history from the cache (it
// reads it when it appends to it), so the cache does not grow with the
// histories, and an append, whose data change is then invisible, does not
// wake the canaries that track ConfigMaps in its namespace.
func kubeTransform(obj any) (any, error) {
	if cm, ok := obj.(*corev1.ConfigMap); ok && cm.Labels[history.Label] != "" {
		cm.Data, cm.BinaryData = nil, nil
	}
	return stripManagedFields(obj)
}
