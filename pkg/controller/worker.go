package controller

import (
	"context"
	"time"

	"k8s.io/client-go/tools/cache"

	"github.com/serin-dev/serin/pkg/syncerr"
)

// runWorker processes keys until the queue shuts down.
func (c *Controller) runWorker(ctx context.Context) {
	for c.processNextItem(ctx) {
	}
}

// processNextItem syncs one key; the worker alone decides whether and when
// the key comes back.
func (c *Controller) processNextItem(ctx context.Context) bool {
	key, shutdown := c.queue.Get()
	if shutdown {
		return false
	}
	defer c.queue.Done(key)
	if ctx.Err() != nil || c.life.isStopping() {
		// Stopping: no new sync starts. The key is dropped with the queue;
		// the next leader lists every canary.
		return true
	}

	start := c.clock.Now()
	err := c.sync(ctx, key)
	c.metrics.observeSync(c.clock.Since(start), err)
	c.handleErr(key, err)
	return true
}

func (c *Controller) handleErr(key cache.ObjectName, err error) {
	log := canaryLog(c.log, key.Namespace, key.Name)
	switch {
	case err == nil:
		c.queue.Forget(key)
	case syncerr.IsPermanent(err):
		c.queue.Forget(key)
		log.WithError(err).Warn("Sync failed permanently; waiting for the Canary to change")
	case syncerr.NamespaceTerminating(err):
		c.queue.Forget(key)
		log.WithError(err).Info("Namespace is being deleted; not retrying")
	default:
		log.WithError(err).WithField("retries", c.queue.NumRequeues(key)).Info("Sync failed; retrying")
		c.queue.AddRateLimited(key)
	}
}

// maxSyncTime bounds one sync, so that a hung webhook or provider cannot
// hold a worker forever.
const maxSyncTime = 5 * time.Minute
