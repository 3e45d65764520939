package nodes

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Option changes the Node that New builds.
type Option func(*corev1.Node)

// WithLabel sets a label on the Node.
func WithLabel(key, value string) Option {
	return func(n *corev1.Node) { n.Labels[key] = value }
}

// WithAnnotation sets an annotation on the Node.
func WithAnnotation(key, value string) Option {
	return func(n *corev1.Node) {
		if n.Annotations == nil {
			n.Annotations = map[string]string{}
		}
		n.Annotations[key] = value
	}
}

// New returns a Node named name with the host name, OS and architecture labels a kubelet sets,
// then opts applied. Its capacity is large enough that scheduling never depends on resources in
// tests.
func New(name string, opts ...Option) *corev1.Node {
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("32"),
		corev1.ResourceMemory: resource.MustParse("256Gi"),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: name,
			Labels: map[string]string{
				corev1.LabelHostname:   name,
				corev1.LabelOSStable:   "linux",
				corev1.LabelArchStable: "amd64",
			},
		},
		Status: corev1.NodeStatus{Capacity: capacity, Allocatable: capacity},
	}
	for _, opt := range opts {
		opt(n)
	}
	return n
}
