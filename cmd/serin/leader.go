package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/sirupsen/logrus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// leaseName is the Lease the replicas compete for.
const leaseName = "serin-leader"

// runAsLeader runs lead while this replica holds the Lease, and returns when
// ctx ends or the lease is lost (the process then exits and restarts as a
// follower, so no two replicas ever run the loop at once).
func runAsLeader(ctx context.Context, log *logrus.Entry, kube kubernetes.Interface, namespace string, lead func(context.Context)) error {
	host, err := os.Hostname()
	if err != nil {
		return fmt.Errorf("leader election identity: %w", err)
	}
	identity := host + "_" + string(uuid.NewUUID())
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Name: leaseName, Namespace: namespace},
		Client:     kube.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: identity},
	}
	lost := make(chan struct{})
	elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   15 * time.Second,
		RenewDeadline:   10 * time.Second,
		RetryPeriod:     2 * time.Second,
		ReleaseOnCancel: true,
		Name:            leaseName,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(ctx context.Context) {
				log.WithField("identity", identity).Info("Acquired the leader lease")
				lead(ctx)
			},
			OnStoppedLeading: func() {
				log.WithField("identity", identity).Info("Lost or released the leader lease")
				close(lost)
			},
			OnNewLeader: func(current string) {
				if current != identity {
					log.WithField("leader", current).Info("Following the leader")
				}
			},
		},
	})
	if err != nil {
		return fmt.Errorf("leader election: %w", err)
	}
	elector.Run(ctx)
	<-lost
	if ctx.Err() == nil {
		return fmt.Errorf("leader lease lost")
	}
	return nil
}

// leaseNamespace is where the Lease lives: the flag, else the pod's own
// namespace, else serin-system.
func leaseNamespace(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	if ns, err := os.ReadFile("/var/run/secrets/kubernetes.io/serviceaccount/namespace"); err == nil && len(ns) > 0 {
		return string(ns)
	}
	return "serin-system"
}
