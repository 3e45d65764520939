package controller

import (
	"slices"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
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
// matter, and it is long: at 10,000 releases on a saturated API server the
// informer was more than 30 s behind, the old timeout, and syncs that
// trusted it took steps again — a second template copy to the primary, a
// second status patch and a repeated event per canary (issue 8).
type expectations struct {
	mu      sync.Mutex
	pending map[cache.ObjectName]expectation
}

type expectation struct {
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
		resourceVersion: written.ResourceVersion,
		status:          *written.Status.DeepCopy(),
		finalizers:      slices.Clone(written.Finalizers),
		since:           now,
	}
}

// observe clears the expectation of key when the informer delivers our
// write. It reports whether one was cleared.
func (e *expectations) observe(key cache.ObjectName, cached *flaggerv1.Canary) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if exp, ok := e.pending[key]; ok && exp.seenIn(cached) {
		delete(e.pending, key)
		return true
	}
	return false
}

// satisfied reports whether the cached canary can be trusted for key at
// now.
func (e *expectations) satisfied(key cache.ObjectName, cached *flaggerv1.Canary, now time.Time) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	exp, ok := e.pending[key]
	switch {
	case !ok:
		return true
	case exp.seenIn(cached), now.Sub(exp.since) > expectationTimeout:
		delete(e.pending, key)
		return true
	}
	return false
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
