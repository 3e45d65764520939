package operator

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/history"
)

func TestKubeTransformDropsHistoryData(t *testing.T) {
	managed := []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}
	hist := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "podinfo-history", Labels: map[string]string{history.Label: "true"}, ManagedFields: managed},
		Data:       map[string]string{"run-1": "{}\n"},
	}
	user := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "podinfo-config", ManagedFields: managed},
		Data:       map[string]string{"key": "value"},
	}
	out, err := kubeTransform(hist)
	require.NoError(t, err)
	assert.Nil(t, out.(*corev1.ConfigMap).Data, "a history's data is not cached")
	assert.Nil(t, out.(*corev1.ConfigMap).ManagedFields)

	out, err = kubeTransform(user)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"key": "value"}, out.(*corev1.ConfigMap).Data, "a tracked ConfigMap keeps its data")
	assert.Nil(t, out.(*corev1.ConfigMap).ManagedFields)
}
