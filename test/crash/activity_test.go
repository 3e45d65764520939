package crash

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// quietFor is how long nothing may happen for a run to count as quiescent:
// no API request of the operator or the world in flight, no webhook or
// metric query in flight, no watch event. On a local API server a watch
// event follows its write by about a millisecond, and the operator's
// informers get it as fast as the harness' watches do.
const quietFor = 50 * time.Millisecond

// activity tracks what is in flight in one run, so that the driver knows
// when the operator and the world have nothing left to do at the current
// fake time.
type activity struct {
	mu       sync.Mutex
	inflight int
	last     time.Time
	// written and seen are, per watched resource, the last
	// resourceVersion written (by anyone) and the last one the harness'
	// watches delivered: the run is not quiet while a write has not come
	// back, whatever the time since.
	written, seen map[string]uint64
	// busy reports whether the live operator has keys queued or a sync in
	// flight: a sync that decides to do nothing makes no request.
	busy func() bool
}

func newActivity() *activity {
	return &activity{last: time.Now(), written: map[string]uint64{}, seen: map[string]uint64{}}
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

// wrote records that resource was written at resourceVersion rv.
func (a *activity) wrote(resource string, rv uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.last = time.Now()
	a.written[resource] = max(a.written[resource], rv)
}

// saw records that a watch delivered resource at resourceVersion rv.
func (a *activity) saw(resource string, rv uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.last = time.Now()
	a.seen[resource] = max(a.seen[resource], rv)
}

// watchOperator makes busy part of quiet (nil: no live operator).
func (a *activity) watchOperator(busy func() bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.busy = busy
}

// quiet reports whether nothing is in flight and nothing happened for
// quietFor.
func (a *activity) quiet() bool {
	a.mu.Lock()
	busy := a.busy
	quiet := a.inflight == 0 && time.Since(a.last) >= quietFor
	for resource, rv := range a.written {
		quiet = quiet && a.seen[resource] >= rv
	}
	a.mu.Unlock()
	if busy != nil && busy() {
		a.touch()
		return false
	}
	return quiet
}

// queueBusy reads the operator's workqueue metrics: keys waiting (depth),
// or taken by a worker (observed by the queue-latency histogram) and not
// yet done (observed by the work-duration histogram).
func queueBusy(reg *prometheus.Registry) bool {
	families, err := reg.Gather()
	if err != nil {
		return true
	}
	var depth float64
	var gets, dones uint64
	for _, mf := range families {
		for _, m := range mf.GetMetric() {
			switch mf.GetName() {
			case "workqueue_depth":
				depth += m.GetGauge().GetValue()
			case "workqueue_queue_duration_seconds":
				gets += m.GetHistogram().GetSampleCount()
			case "workqueue_work_duration_seconds":
				dones += m.GetHistogram().GetSampleCount()
			}
		}
	}
	return depth > 0 || gets > dones
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
