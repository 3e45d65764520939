package main

import (
	"context"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/serin-dev/serin/test/lib/must"
)

// holder returns the identity holding the Lease; empty once released.
func holder(t *testing.T, kube *fake.Clientset) string {
	t.Helper()
	lease, err := kube.CoordinationV1().Leases("serin-system").Get(context.Background(), leaseName, metav1.GetOptions{})
	if err != nil {
		return ""
	}
	if lease.Spec.HolderIdentity == nil {
		return ""
	}
	return *lease.Spec.HolderIdentity
}

// TestLeaseIsReleasedAfterTheDrain is a SIGTERM to the leader: the Lease
// stays held while lead drains, and is released once lead returned, so
// that the other replica cannot start while the last syncs still write.
func TestLeaseIsReleasedAfterTheDrain(t *testing.T) {
	kube := fake.NewClientset()
	ctx, sigterm := context.WithCancel(context.Background())
	leading, drained := make(chan struct{}), make(chan struct{})
	var leaseEnded bool
	lead := func(lease context.Context) {
		close(leading)
		<-ctx.Done() // SIGTERM
		<-drained    // the syncs in flight finish
		leaseEnded = lease.Err() != nil
	}
	done := make(chan error, 1)
	go func() { done <- runAsLeader(ctx, logrus.NewEntry(logrus.New()), kube, "serin-system", lead) }()

	<-leading
	require.NotEmpty(t, holder(t, kube))
	sigterm()
	// Before, the elector released the lease as soon as SIGTERM came; give
	// it a renewal period to show that it keeps it while lead drains.
	time.Sleep(retryPeriod)
	assert.NotEmpty(t, holder(t, kube), "the lease is held while draining")
	select {
	case err := <-done:
		t.Fatalf("runAsLeader returned before lead: %v", err)
	default:
	}

	close(drained)
	require.NoError(t, <-done)
	assert.False(t, leaseEnded, "the lease lasted as long as the drain")
	must.Eventually(t, 5*time.Second, 10*time.Millisecond, func() (bool, error) {
		return holder(t, kube) == "", nil
	}, "the lease released")
}

// TestFollowerStopsAtOnce checks that SIGTERM to a replica that never led
// returns without waiting for anything.
func TestFollowerStopsAtOnce(t *testing.T) {
	kube := fake.NewClientset()
	other, otherStop := context.WithCancel(context.Background())
	defer otherStop()
	otherLeads := make(chan struct{})
	go func() {
		_ = runAsLeader(other, logrus.NewEntry(logrus.New()), kube, "serin-system", func(context.Context) {
			close(otherLeads)
			<-other.Done()
		})
	}()
	<-otherLeads

	ctx, sigterm := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- runAsLeader(ctx, logrus.NewEntry(logrus.New()), kube, "serin-system", func(context.Context) {
			t.Error("a follower led")
		})
	}()
	sigterm()
	require.NoError(t, <-done)
}
