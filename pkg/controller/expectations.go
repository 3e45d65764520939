package controller

import (
	"sync"
	"time"

	"k8s.io/client-go/tools/cache"
)

// expectations remembers, per canary, the resourceVersion of our last
// write until the informer has delivered it.
//
// A sync must never run on a cached canary older than its own last write:
// the state machine would see the previous phase and take the same step
// again — run the post-rollout hooks twice, record "Promotion completed!"
// twice, count two promotions. Watch events arrive in order, so once the
// informer has delivered the object carrying our resourceVersion, the
// cache is at least that new. This is the expectations pattern of the
// Kubernetes ReplicaSet controller, for one object.
type expectations struct {
	mu      sync.Mutex
	pending map[cache.ObjectName]expectation
}

type expectation struct {
	resourceVersion string
	since           time.Time
}

// expectationTimeout bounds how long a sync waits for its write to come
// back through the informer; past it the cache is trusted (a missed watch
// event is relisted by the informer anyway).
const expectationTimeout = 30 * time.Second

func newExpectations() *expectations {
	return &expectations{pending: map[cache.ObjectName]expectation{}}
}

// expect records that key was written at resourceVersion.
func (e *expectations) expect(key cache.ObjectName, resourceVersion string, now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.pending[key] = expectation{resourceVersion: resourceVersion, since: now}
}

// observe clears the expectation of key when the informer delivers the
// written resourceVersion. It reports whether one was cleared.
func (e *expectations) observe(key cache.ObjectName, resourceVersion string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if exp, ok := e.pending[key]; ok && exp.resourceVersion == resourceVersion {
		delete(e.pending, key)
		return true
	}
	return false
}

// satisfied reports whether the cache can be trusted for key at now.
func (e *expectations) satisfied(key cache.ObjectName, cachedVersion string, now time.Time) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	exp, ok := e.pending[key]
	switch {
	case !ok:
		return true
	case exp.resourceVersion == cachedVersion, now.Sub(exp.since) > expectationTimeout:
		delete(e.pending, key)
		return true
	}
	return false
}

// forget drops key's expectation (the canary is gone).
func (e *expectations) forget(key cache.ObjectName) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.pending, key)
}
