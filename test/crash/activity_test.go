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
	// written is, per watched resource, the last resourceVersion written
	// (by anyone); seen is, per observer (the harness' watches, the
	// world's informers) and resource, the last one delivered. The run is
	// not quiet while a write has not come back to every observer of its
	// resource, whatever the time since.
	written map[string]uint64
	seen    map[string]map[string]uint64
	// busy reports, for the live operator and for the world, whether it
	// has keys queued or work in flight: a sync that decides to do nothing
	// makes no request.
	busy map[string]func() bool
}

func newActivity() *activity {
	return &activity{last: time.Now(), written: map[string]uint64{}, seen: map[string]map[string]uint64{},
		busy: map[string]func() bool{}}
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

// follows declares that observer follows resource.
func (a *activity) follows(observer, resource string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.seen[observer] == nil {
		a.seen[observer] = map[string]uint64{}
	}
	a.seen[observer][resource] = max(a.seen[observer][resource], 0)
}

// saw records that observer was delivered resource at resourceVersion rv.
func (a *activity) saw(observer, resource string, rv uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.last = time.Now()
	if a.seen[observer] == nil {
		a.seen[observer] = map[string]uint64{}
	}
	a.seen[observer][resource] = max(a.seen[observer][resource], rv)
}

// watch makes who's busy part of quiet (nil: who is gone).
func (a *activity) watch(who string, busy func() bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if busy == nil {
		delete(a.busy, who)
		return
	}
	a.busy[who] = busy
}

// quiet reports whether nothing is in flight and nothing happened for
// quietFor.
func (a *activity) quiet() bool {
	a.mu.Lock()
	var probes []func() bool
	for _, busy := range a.busy {
		probes = append(probes, busy)
	}
	quiet := a.inflight == 0 && time.Since(a.last) >= quietFor
	for _, seen := range a.seen {
		for resource, at := range seen {
			quiet = quiet && at >= a.written[resource]
		}
	}
	a.mu.Unlock()
	for _, busy := range probes {
		if busy() {
			a.touch()
			return false
		}
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
