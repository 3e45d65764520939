package kubelet

import (
	"context"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"github.com/serin-dev/serin/test/lib/nodes"
)

const (
	// NodeLabel is set to "local" on every Node of this runner, for node selectors.
	NodeLabel = "serin.dev/runner"
	// heartbeatPeriod is how often leases and the Ready condition are renewed; the node
	// lifecycle controller marks a node NotReady after 50 s without either.
	heartbeatPeriod = 10 * time.Second
	leaseSeconds    = 40
	leaseNamespace  = "kube-node-lease"
	kubeletVersion  = "v1.37.2-serin-local"
)

// newNode returns a Node as a kubelet registers it.
func newNode(name string) *corev1.Node {
	return nodes.New(name, nodes.WithLabel(NodeLabel, "local"))
}

// nodeStatus returns node's status as a healthy kubelet reports it at now.
func nodeStatus(node *corev1.Node, hostIP string, now time.Time) corev1.NodeStatus {
	s := *node.Status.DeepCopy()
	if s.Capacity == nil {
		s.Capacity, s.Allocatable = newNode(node.Name).Status.Capacity, newNode(node.Name).Status.Allocatable
	}
	t := metav1.Time{Time: now}
	conds := []struct {
		typ    corev1.NodeConditionType
		status corev1.ConditionStatus
		reason string
	}{
		{corev1.NodeReady, corev1.ConditionTrue, "KubeletReady"},
		{corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory"},
		{corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure"},
		{corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID"},
	}
	for _, c := range conds {
		found := false
		for i := range s.Conditions {
			if s.Conditions[i].Type == c.typ {
				found = true
				if s.Conditions[i].Status != c.status {
					s.Conditions[i].LastTransitionTime = t
				}
				s.Conditions[i].Status, s.Conditions[i].Reason, s.Conditions[i].LastHeartbeatTime = c.status, c.reason, t
			}
		}
		if !found {
			s.Conditions = append(s.Conditions, corev1.NodeCondition{
				Type: c.typ, Status: c.status, Reason: c.reason, LastHeartbeatTime: t, LastTransitionTime: t,
			})
		}
	}
	// No Hostname address: the API server would try it first to reach the kubelet API, and
	// node names do not resolve in the world.
	s.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: hostIP}}
	s.DaemonEndpoints.KubeletEndpoint.Port = APIPort
	s.NodeInfo.KubeletVersion, s.NodeInfo.OperatingSystem, s.NodeInfo.Architecture = kubeletVersion, "linux", "amd64"
	return s
}

// registerNode creates the Node (or adopts an existing one) and reports it Ready.
func (k *Kubelet) registerNode(ctx context.Context, name string) error {
	_, err := k.client.CoreV1().Nodes().Create(ctx, newNode(name), metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("registering node %s: %w", name, err)
	}
	return k.heartbeat(ctx, name)
}

// heartbeat renews the node's lease and its Ready condition.
func (k *Kubelet) heartbeat(ctx context.Context, name string) error {
	var node *corev1.Node
	// The controller manager writes the node too (pod CIDR, taints): conflicts are expected.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var err error
		if node, err = k.client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{}); err != nil {
			return err
		}
		node.Status = nodeStatus(node, k.hostIP, k.clock.Now())
		node, err = k.client.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("updating the status of node %s: %w", name, err)
	}
	return k.renewLease(ctx, node)
}

// renewLease creates or renews the node's lease in kube-node-lease.
func (k *Kubelet) renewLease(ctx context.Context, node *corev1.Node) error {
	leases := k.client.CoordinationV1().Leases(leaseNamespace)
	now := metav1.NewMicroTime(k.clock.Now())
	lease, err := leases.Get(ctx, node.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		lease = &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: node.Name, OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "v1", Kind: "Node", Name: node.Name, UID: node.UID,
			}}},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(node.Name), LeaseDurationSeconds: ptr.To[int32](leaseSeconds), RenewTime: &now},
		}
		_, err = leases.Create(ctx, lease, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	lease.Spec.RenewTime = &now
	_, err = leases.Update(ctx, lease, metav1.UpdateOptions{})
	return err
}

// heartbeatLoop renews every node until ctx ends; failures are logged and retried next period.
func (k *Kubelet) heartbeatLoop(ctx context.Context) {
	tick := time.NewTicker(heartbeatPeriod)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for _, n := range k.nodes {
			if err := k.heartbeat(ctx, n); err != nil && ctx.Err() == nil {
				k.logf("kubelet: heartbeat of %s: %v", n, err)
			}
		}
	}
}
