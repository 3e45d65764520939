package nodes

import (
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestNewIsALargeLinuxNode(t *testing.T) {
	n := New("node-0")
	assert.Equal(t, "node-0", n.Name)
	assert.Equal(t, map[string]string{
		corev1.LabelHostname: "node-0", corev1.LabelOSStable: "linux", corev1.LabelArchStable: "amd64",
	}, n.Labels)
	assert.Nil(t, n.Annotations, "no annotations unless asked for")
	assert.True(t, n.Status.Capacity.Pods().Equal(resource.MustParse("110")))
	assert.Equal(t, n.Status.Capacity, n.Status.Allocatable)
}

func TestOptionsAddLabelsAndAnnotations(t *testing.T) {
	n := New("kwok-0", WithLabel("type", "kwok"), WithAnnotation("kwok.x-k8s.io/node", "fake"))
	assert.Equal(t, "kwok", n.Labels["type"])
	assert.Equal(t, "kwok-0", n.Labels[corev1.LabelHostname], "the options keep the base labels")
	assert.Equal(t, map[string]string{"kwok.x-k8s.io/node": "fake"}, n.Annotations)
}
