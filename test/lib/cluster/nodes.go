package cluster

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/serin-dev/serin/test/lib/nodes"
)

// fakeNodeAnnotation marks the nodes KWOK manages (it is started with this selector).
const fakeNodeAnnotation = "kwok.x-k8s.io/node"

// FakeNodeLabel is set to "kwok" on every fake node, for node selectors in tests.
const FakeNodeLabel = "type"

// fakeNode returns a Node that KWOK will take over and mark Ready.
func fakeNode(name string) *corev1.Node {
	return nodes.New(name,
		nodes.WithAnnotation(fakeNodeAnnotation, "fake"),
		// What the TTL controller would set; saves it a write per node.
		nodes.WithAnnotation("node.alpha.kubernetes.io/ttl", "0"),
		nodes.WithLabel(FakeNodeLabel, "kwok"),
	)
}

// createFakeNodes creates n fake nodes named kwok-0, kwok-1, ... and returns their names.
func createFakeNodes(ctx context.Context, cs kubernetes.Interface, n int) ([]string, error) {
	names := make([]string, 0, n)
	for i := range n {
		node, err := cs.CoreV1().Nodes().Create(ctx, fakeNode(fmt.Sprintf("kwok-%d", i)), metav1.CreateOptions{})
		if err != nil {
			return nil, fmt.Errorf("creating fake node: %w", err)
		}
		names = append(names, node.Name)
	}
	return names, nil
}

// waitWorkloadReady waits until every named node is Ready and the default ServiceAccount
// exists, so that a test's first Pod is neither unschedulable nor rejected by the
// ServiceAccount admission plugin.
func waitWorkloadReady(ctx context.Context, cs kubernetes.Interface, nodes []string, timeout time.Duration) error {
	return pollUntil(ctx, timeout, func() (bool, error) {
		for _, name := range nodes {
			node, err := cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			if !nodeReady(node) {
				return false, fmt.Errorf("node %s is not Ready yet", name)
			}
		}
		_, err := cs.CoreV1().ServiceAccounts(metav1.NamespaceDefault).Get(ctx, "default", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, fmt.Errorf("the default ServiceAccount does not exist yet")
		}
		return err == nil, err
	})
}

func nodeReady(node *corev1.Node) bool {
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
