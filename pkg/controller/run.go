package controller

import (
	"context"
	"errors"
	"fmt"
	"sync"

	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/tools/cache"
)

// errStopped is the cause of the cancellation of the syncs in flight when
// the operator stops: at once when Run's context ends, at the end of the
// grace period after Shutdown.
var errStopped = errors.New("operator stopping")

// stopped reports whether a sync's context was cancelled because the
// operator is stopping, not by the sync's own time limit. A webhook or a
// metric query cut short so did not fail because of the canary: a sync
// stopped while its checks ran must not act on them (count a failed check,
// roll back), and returns before changing anything; the next leader runs
// the step again.
func stopped(ctx context.Context) bool {
	return errors.Is(context.Cause(ctx), errStopped)
}

// lifecycle is what Run and Shutdown share. Its zero value is ready.
type lifecycle struct {
	mu sync.Mutex
	// stopping is closed by Shutdown: the workers take no new key.
	stopping chan struct{}
	// done is closed when Run returns.
	done chan struct{}
	// cancel cancels the context of the syncs in flight.
	cancel  context.CancelFunc
	running bool
	stopped bool
}

func (l *lifecycle) init() {
	if l.stopping == nil {
		l.stopping, l.done = make(chan struct{}), make(chan struct{})
	}
}

// start records a Run that cancels its syncs with cancel; false when Run
// was already called.
func (l *lifecycle) start(cancel context.CancelFunc) (stopping <-chan struct{}, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.init()
	if l.running {
		return nil, false
	}
	l.running, l.cancel = true, cancel
	return l.stopping, true
}

// stop closes stopping once; it returns what Shutdown waits for and
// whether a Run is going on or over.
func (l *lifecycle) stop() (done <-chan struct{}, cancel context.CancelFunc, running bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.init()
	if !l.stopped {
		l.stopped = true
		close(l.stopping)
	}
	return l.done, l.cancel, l.running
}

// isStopping reports whether Shutdown was called.
func (l *lifecycle) isStopping() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stopped
}

func (l *lifecycle) finish() {
	l.mu.Lock()
	defer l.mu.Unlock()
	close(l.done)
}

// Run waits for the caches, then runs the workers and the scheduler until
// ctx ends or Shutdown is called. Either way the workers then take no new
// key, and Run returns once the syncs in flight have returned. The end of
// ctx cancels those syncs at once (a hard stop); Shutdown lets them finish.
// Keys left in the queue are dropped: the next leader lists every canary.
// A Controller runs once.
func (c *Controller) Run(ctx context.Context, workers int) error {
	defer utilruntime.HandleCrash()
	// The syncs' context: only ctx's end, or the end of Shutdown's grace
	// period, cancels it (Shutdown itself does not), with errStopped as
	// the cause either way.
	syncs, cancelSyncs := context.WithCancelCause(context.WithoutCancel(ctx))
	cancel := func() { cancelSyncs(errStopped) }
	defer cancel()
	defer context.AfterFunc(ctx, cancel)()
	stopping, ok := c.life.start(cancel)
	if !ok {
		return errors.New("controller: Run called twice")
	}
	defer c.life.finish()
	// stop ends the wait for the caches, the scheduler and the workers'
	// intake.
	stop, stopNow := context.WithCancel(ctx)
	defer stopNow()
	go func() {
		select {
		case <-stopping:
			stopNow()
		case <-stop.Done():
		}
	}()

	c.log.Info("Waiting for informer caches to sync")
	if !cache.WaitForCacheSync(stop.Done(), c.synced...) {
		c.queue.ShutDown()
		return fmt.Errorf("informer caches did not sync: %w", context.Cause(stop))
	}
	c.log.WithField("workers", workers).Info("Starting workers")
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() { c.runWorker(syncs) })
	}
	wg.Go(func() { c.runScheduler(stop, c.cfg.SchedulerTick) })
	<-stop.Done()
	if ctx.Err() != nil {
		c.log.Info("Stopping workers; cancelling the syncs in flight")
	} else {
		c.log.Info("Stopping workers; letting the syncs in flight finish")
	}
	c.queue.ShutDown()
	wg.Wait()
	c.log.Info("Workers stopped")
	return nil
}

// Shutdown stops Run gracefully: the workers take no new key and the
// scheduler stops, while the syncs in flight go on (webhooks, metric
// queries, writes) until they return or ctx ends, whichever comes first;
// at ctx's end they are cancelled. Shutdown returns when Run has returned:
// nil if every sync finished, ctx's error if some were cut short. A sync
// cut short still writes the status of what it changed (see sync), and is
// redone by the next leader from what is in the cluster. Shutdown before
// Run makes Run return at once.
func (c *Controller) Shutdown(ctx context.Context) error {
	done, cancel, running := c.life.stop()
	if !running {
		return nil
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	c.log.Warn("Shutdown grace period over; cancelling the syncs in flight")
	cancel()
	<-done
	return ctx.Err()
}
