package main

import (
	"context"
	"fmt"
	"os"
	"sync"
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

// The leader election's timings: another replica takes over at most
// leaseDuration after the leader's last renewal; the leader gives up
// renewing after renewDeadline.
const (
	leaseDuration = 15 * time.Second
	renewDeadline = 10 * time.Second
	retryPeriod   = 2 * time.Second
)

// lostLeaseDrain bounds how long the syncs in flight may go on once the
// lease is lost. The leader notices the loss renewDeadline after its last
// renewal at the earliest; another replica may take over leaseDuration
// after it: the syncs must be done well within the difference.
const lostLeaseDrain = (leaseDuration - renewDeadline) / 2

// runAsLeader runs lead while this replica holds the Lease, and returns when
// ctx ends or the lease is lost (the process then exits and restarts as a
// follower, so no two replicas ever run the loop at once). lead gets a
// context that ends when the lease is lost; it must watch ctx for SIGTERM
// itself and return once its work is drained.
//
// The Lease is released only after lead returned: the elector runs on a
// context of its own, cancelled then, because with ReleaseOnCancel
// cancelling it releases the Lease at once, and the other replica would
// start while the last syncs here still write.
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
	electing, release := context.WithCancel(context.WithoutCancel(ctx))
	defer release()
	var (
		mu       sync.Mutex
		leading  bool
		stopping bool
		led      = make(chan struct{})
	)
	// stop reports whether lead ran (or runs); after it, lead never starts.
	stop := func() bool {
		mu.Lock()
		defer mu.Unlock()
		stopping = true
		return leading
	}
	elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   leaseDuration,
		RenewDeadline:   renewDeadline,
		RetryPeriod:     retryPeriod,
		ReleaseOnCancel: true,
		Name:            leaseName,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(lease context.Context) {
				mu.Lock()
				if stopping {
					mu.Unlock()
					release()
					return
				}
				leading = true
				mu.Unlock()
				defer close(led)
				defer release()
				log.WithField("identity", identity).Info("Acquired the leader lease")
				lead(lease)
			},
			OnStoppedLeading: func() {
				log.WithField("identity", identity).Info("Lost or released the leader lease")
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
	go func() {
		select {
		case <-ctx.Done():
			if !stop() {
				release() // a follower has nothing to drain
			}
		case <-electing.Done():
		}
	}()
	elector.Run(electing)
	if stop() {
		<-led // lost the lease: lead drains briefly (lostLeaseDrain)
	}
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
