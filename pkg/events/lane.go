package events

import (
	"sync"

	"k8s.io/client-go/tools/record"
)

// compactAfter is how many posted events a lane's queue keeps in front of
// its head before it moves the rest down, so that a lane that never empties
// does not grow its backing array forever.
const compactAfter = 1024

// lane posts the events of the objects hashed to it, one at a time, in the
// order they were recorded.
//
// Its correlator is its own: client-go's EventCorrelator is not safe for
// concurrent use as a whole (its spam filter gets, then adds, a cache entry
// with no lock held across both, so two lanes could lose each other's token
// counts; EventCorrelate locks its steps one by one, not together). The keys
// of a correlator include the involved object, and an object's events all go
// through one lane, so a correlator per lane counts and throttles as one
// shared correlator would, without a lock, and with a cache per lane: the
// cmd/serin recorder it replaces had one per broadcaster too.
type lane struct {
	correlator *record.EventCorrelator
	// wake holds a token when events were pushed since the lane last looked.
	wake chan struct{}

	mu      sync.Mutex
	queue   []*entry
	head    int
	stopped bool
}

func newLane(correlator *record.EventCorrelator) *lane {
	return &lane{correlator: correlator, wake: make(chan struct{}, 1)}
}

// push queues an event; false if the lane has stopped.
func (l *lane) push(e *entry) bool {
	l.mu.Lock()
	if l.stopped {
		l.mu.Unlock()
		return false
	}
	l.queue = append(l.queue, e)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default: // already signalled
	}
	return true
}

// pop takes the oldest event; false if there is none.
func (l *lane) pop() (*entry, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.head == len(l.queue) {
		return nil, false
	}
	e := l.queue[l.head]
	l.queue[l.head] = nil
	l.head++
	switch {
	case l.head == len(l.queue):
		l.queue, l.head = l.queue[:0], 0
	case l.head >= compactAfter && 2*l.head >= len(l.queue):
		n := copy(l.queue, l.queue[l.head:])
		clear(l.queue[n:])
		l.queue, l.head = l.queue[:n], 0
	}
	return e, true
}

// stopIfEmpty stops the lane if it holds no event, and reports whether it did.
func (l *lane) stopIfEmpty() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.head < len(l.queue) {
		return false
	}
	l.stopped = true
	return true
}

// abandon stops the lane and empties it; it returns how many events it held.
func (l *lane) abandon() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(l.queue) - l.head
	l.queue, l.head, l.stopped = nil, 0, true
	return n
}

// run posts the lane's events until Shutdown: then it posts what it holds
// and returns, or abandons it when the drain timeout cancels the posting.
func (r *Recorder) run(l *lane) {
	defer r.lanesDone.Done()
	for {
		if r.posting.Err() != nil {
			r.abandoned(l.abandon())
			return
		}
		if e, ok := l.pop(); ok {
			r.send(l.correlator, e.event(r.cfg.Component))
			continue
		}
		select {
		case <-l.wake:
		case <-r.posting.Done():
		case <-r.stopping:
			if l.stopIfEmpty() {
				return
			}
		}
	}
}
