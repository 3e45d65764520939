package controller

import (
	"slices"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// expectations remembers, per canary, our last write until the informer
// has delivered it.
//
// A sync must never run on a cached canary older than its own last write:
// the state machine would see the previous phase and take the same step
// again — run the post-rollout hooks twice, record "Promotion completed!"
// twice, count two promotions. Watch events arrive in order, so once the
// informer has delivered the object carrying our resourceVersion, the
// cache is at least that new. This is the expectations pattern of the
// Kubernetes ReplicaSet controller, for one object.
//
// The cache has caught up, too, when it holds the status and finalizers we
// wrote under another resourceVersion: after a relist, which skips
// versions, or when a user's edit follows ours. Only then does the timeout
// matter, and it is long: with a large fleet on a saturated API server the
// informer fell further behind than a short timeout, and syncs that
// trusted it took steps again — a second template copy to the primary, a
// second status patch and a repeated event per canary.
//
// An expectation belongs to the object written, not to its name: a canary
// deleted and re-created under the same name can never deliver the write,
// so its expectation is dropped as soon as a canary with another UID is
// seen. The deletion event drops it too, but a write whose answer arrives
// after that event (the finalizer removal that deletes the canary, a status
// patch in flight) records it again; keyed by name only, it held the
// re-created canary uninitialised until the timeout, and then until some
// unrelated event.
type expectations struct {
	mu      sync.Mutex
	pending map[cache.ObjectName]expectation
}

type expectation struct {
	uid             types.UID
	resourceVersion string
	status          flaggerv1.CanaryStatus
	finalizers      []string
	since           time.Time
}

// expectationTimeout bounds how long a sync waits for its write to come
// back through the informer; past it the cache is trusted. Our write can
// only stay unseen if another writer changed the status or the finalizers
// after it.
const expectationTimeout = 5 * time.Minute

func newExpectations() *expectations {
	return &expectations{pending: map[cache.ObjectName]expectation{}}
}

// expect records that key was written as written, the API server's answer.
func (e *expectations) expect(key cache.ObjectName, written *flaggerv1.Canary, now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.pending[key] = expectation{
		uid:             written.UID,
		resourceVersion: written.ResourceVersion,
		status:          *written.Status.DeepCopy(),
		finalizers:      slices.Clone(written.Finalizers),
		since:           now,
	}
}

// observe clears the expectation of key when the informer delivers our
// write, or another canary under that name. It reports whether our write
// was delivered.
func (e *expectations) observe(key cache.ObjectName, cached *flaggerv1.Canary) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	exp, ok := e.pending[key]
	switch {
	case !ok:
		return false
	case exp.uid != cached.UID:
		delete(e.pending, key)
		return false
	case exp.seenIn(cached):
		delete(e.pending, key)
		return true
	}
	return false
}

// wait returns how long a sync of key must still wait for the cache to hold
// our last write, 0 when the cached canary can be trusted at now: nothing
// is pending, the write is there, the cached canary is another object, or
// the expectation has timed out.
func (e *expectations) wait(key cache.ObjectName, cached *flaggerv1.Canary, now time.Time) time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	exp, ok := e.pending[key]
	if !ok {
		return 0
	}
	expires := exp.since.Add(expectationTimeout)
	if exp.uid != cached.UID || exp.seenIn(cached) || !now.Before(expires) {
		delete(e.pending, key)
		return 0
	}
	return expires.Sub(now)
}

// seenIn reports whether cached holds the write: its resourceVersion, or
// what it wrote. The status and finalizers come from the API server's
// answer, so that times are compared at the precision the API keeps.
func (exp expectation) seenIn(cached *flaggerv1.Canary) bool {
	return exp.resourceVersion == cached.ResourceVersion ||
		(equality.Semantic.DeepEqual(exp.status, cached.Status) && slices.Equal(exp.finalizers, cached.Finalizers))
}

// forget drops key's expectation (the canary is gone).
func (e *expectations) forget(key cache.ObjectName) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.pending, key)
}

// caughtUp reports whether the cached canary holds our last write to it, so
// that a sync may run on it. When it does not, the sync must stop, and
// something must wake it again: the informer event that delivers the write
// does (canaryUpdated), but the write may never be delivered as written —
// another writer changed the status or the finalizers after us — so the
// key is also enqueued for when the expectation expires. A sync that waits
// is never left without a wake-up.
func (c *Controller) caughtUp(key cache.ObjectName, cd *flaggerv1.Canary, now time.Time) bool {
	wait := c.expected.wait(key, cd, now)
	if wait > 0 {
		c.queue.AddAfter(key, wait)
		return false
	}
	return true
}
