package crash

import (
	"sync"
	"time"

	"k8s.io/utils/clock"
	testingclock "k8s.io/utils/clock/testing"
)

// epoch is where every run's fake time starts.
var epoch = time.Date(2026, 12, 5, 6, 0, 0, 0, time.UTC)

// timeline is a fake clock that knows when its next timer fires, so that
// the driver can jump straight to the next thing that is due (an analysis
// step, a retry's backoff) instead of stepping a second at a time.
//
// Tickers are not counted as things that are due: the workqueue's
// heartbeat and the scheduler's tick would otherwise cut every jump to a
// second. They still fire whenever the clock passes them, so the
// scheduler's fallback runs at every jump.
type timeline struct {
	*testingclock.FakeClock
	mu     sync.Mutex
	timers map[*timelineTimer]struct{}
}

var _ clock.WithTicker = (*timeline)(nil)

func newTimeline() *timeline {
	return &timeline{FakeClock: testingclock.NewFakeClock(epoch), timers: map[*timelineTimer]struct{}{}}
}

// timelineTimer remembers its deadline for the timeline.
type timelineTimer struct {
	clock.Timer
	tl *timeline
	at time.Time
}

// NewTimer records the timer's deadline.
func (tl *timeline) NewTimer(d time.Duration) clock.Timer {
	t := &timelineTimer{Timer: tl.FakeClock.NewTimer(d), tl: tl, at: tl.Now().Add(d)}
	tl.mu.Lock()
	tl.timers[t] = struct{}{}
	tl.mu.Unlock()
	return t
}

// After records the deadline as a timer nobody stops.
func (tl *timeline) After(d time.Duration) <-chan time.Time {
	return tl.NewTimer(d).C()
}

// Stop forgets the deadline.
func (t *timelineTimer) Stop() bool {
	t.tl.mu.Lock()
	delete(t.tl.timers, t)
	t.tl.mu.Unlock()
	return t.Timer.Stop()
}

// Reset moves the deadline.
func (t *timelineTimer) Reset(d time.Duration) bool {
	t.tl.mu.Lock()
	t.at = t.tl.Now().Add(d)
	t.tl.timers[t] = struct{}{}
	t.tl.mu.Unlock()
	return t.Timer.Reset(d)
}

// next returns the earliest deadline after now, if any timer is pending;
// deadlines already passed have fired and are forgotten.
func (tl *timeline) next() (time.Time, bool) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	now := tl.Now()
	var earliest time.Time
	for t := range tl.timers {
		if !t.at.After(now) {
			delete(tl.timers, t)
			continue
		}
		if earliest.IsZero() || t.at.Before(earliest) {
			earliest = t.at
		}
	}
	return earliest, !earliest.IsZero()
}

// advance jumps to the next deadline, or by at most limit when none is
// nearer, and returns how far it went.
func (tl *timeline) advance(limit time.Duration) time.Duration {
	d := limit
	if at, ok := tl.next(); ok && at.Sub(tl.Now()) < limit {
		d = at.Sub(tl.Now())
	}
	tl.Step(d)
	return d
}
