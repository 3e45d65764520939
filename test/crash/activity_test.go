package crash

import (
	"context"
	"sync"
	"time"
)

// quietFor is how long nothing may happen for a run to count as quiescent:
// no API request of the operator or the world in flight, no webhook or
// metric query in flight, no watch event. On a local API server a watch
// event follows its write by about a millisecond, and the operator's
// informers get it as fast as the harness' watches do.
const quietFor = 40 * time.Millisecond

// activity tracks what is in flight in one run, so that the driver knows
// when the operator and the world have nothing left to do at the current
// fake time.
type activity struct {
	mu       sync.Mutex
	inflight int
	last     time.Time
}

func newActivity() *activity {
	return &activity{last: time.Now()}
}

// begin marks the start of some work; the returned func marks its end.
func (a *activity) begin() func() {
	a.mu.Lock()
	a.inflight++
	a.last = time.Now()
	a.mu.Unlock()
	return func() {
		a.mu.Lock()
		a.inflight--
		a.last = time.Now()
		a.mu.Unlock()
	}
}

// touch records that something just happened (a watch event).
func (a *activity) touch() {
	a.mu.Lock()
	a.last = time.Now()
	a.mu.Unlock()
}

// quiet reports whether nothing is in flight and nothing happened for
// quietFor.
func (a *activity) quiet() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.inflight == 0 && time.Since(a.last) >= quietFor
}

// settle waits until the run is quiet, or ctx ends.
func (a *activity) settle(ctx context.Context) error {
	for !a.quiet() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}
