package operator

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
)

func TestStripManagedFields(t *testing.T) {
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{
		Name:          "podinfo",
		Annotations:   map[string]string{"keep": "me"},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply}},
	}}
	out, err := stripManagedFields(dep)
	require.NoError(t, err)
	assert.Nil(t, out.(*appsv1.Deployment).ManagedFields)
	assert.Equal(t, map[string]string{"keep": "me"}, out.(*appsv1.Deployment).Annotations)

	tomb := cache.DeletedFinalStateUnknown{Key: "default/podinfo", Obj: dep}
	out, err = stripManagedFields(tomb)
	require.NoError(t, err)
	assert.Equal(t, tomb, out, "tombstones pass through")
}
