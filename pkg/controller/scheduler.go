package controller

import (
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	"github.com/serin-dev/serin/pkg/analysis"
	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// This file is the one owner of "when does this canary run next". The
// state machine says it as data (analysis.Decision.Next: a step due after
// a time, brought forward by a workload's readiness; nothing for an idle
// canary) and plan carries it out. The schedule holds it, the queue's
// delayed adds and the ticker deliver it, urgent orders the queue by it,
// and due and becameReady let a sync through only when it says so. The
// expectations (expectations.go) are another matter: whether the cache has
// caught up with our own writes, not when to run.
//
// schedule records when each active canary's next analysis step is due.
//
// Informer events enqueue a canary at any time (a new revision should be
// noticed at once), but an analysis step — webhooks, metric queries, a
// weight change — must run once per analysis.interval. The schedule is what
// tells the two apart: a sync runs the analysis only when the canary is
// due. It is not a job list: it holds one slot per canary and the ticker
// only turns due timestamps into queue keys; all work happens in the
// workers. After a restart it is empty, so every active canary gets one
// step at once, which is what Flagger does on start too.
//
// The queue knows canaries by name, but what the schedule holds belongs to
// one object: each slot records the UID of the canary it was written for,
// and a sync of another object under the same name (deleted and re-created)
// starts from an empty slot (identify). Deletion events drop slots too, but
// cannot be relied on alone: a sync of the deleted canary that was in
// flight when its deletion arrived writes its slot after the drop.
type schedule struct {
	mu    sync.Mutex
	slots map[cache.ObjectName]*slot
}

// slot is what the schedule holds for one canary.
type slot struct {
	// uid is the canary the slot was written for; empty when it was
	// written before any sync identified the canary.
	uid types.UID
	// next is when the next step is due; zero when none is scheduled (the
	// canary is idle, or was never synced).
	next time.Time
	// awaits is the workload that held the last step, if any.
	awaits analysis.Workload
	// changed records that a user's change (a new pod template on the
	// target, an edited or deleted Canary) woke the canary, until its next
	// sync looks at it.
	changed bool
	// request is the id of the last request (kubectl serin promote, abort,
	// ...) that was let through early; each new one is, once, so that it
	// does not wait for the step after next.
	request string
}

func newSchedule() *schedule {
	return &schedule{slots: map[cache.ObjectName]*slot{}}
}

// slot returns key's slot, creating an empty one; the caller holds mu.
func (s *schedule) slot(key cache.ObjectName) *slot {
	sl, ok := s.slots[key]
	if !ok {
		sl = &slot{}
		s.slots[key] = sl
	}
	return sl
}

// identify makes key's slot the one of the canary with uid: a slot written
// for another object under that name is emptied first. Every sync calls it
// before it reads or writes the schedule.
func (s *schedule) identify(key cache.ObjectName, uid types.UID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sl := s.slot(key); sl.uid != uid {
		*sl = slot{uid: uid}
	}
}

// at returns when key's next step is due, if it is scheduled.
func (s *schedule) at(key cache.ObjectName) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sl, ok := s.slots[key]
	if !ok || sl.next.IsZero() {
		return time.Time{}, false
	}
	return sl.next, true
}

// due reports whether key's analysis step may run at now: it was never
// scheduled (first sight, or idle) or its time has come.
func (s *schedule) due(key cache.ObjectName, now time.Time) bool {
	at, ok := s.at(key)
	return !ok || !now.Before(at)
}

// urgent reports, under one lock (the workqueue asks at every add), whether
// key has a scheduled step due at now (unlike due, an unscheduled, idle key
// has not), waits on a workload's readiness, or was woken by a user's
// change.
func (s *schedule) urgent(key cache.ObjectName, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	sl, ok := s.slots[key]
	if !ok {
		return false
	}
	return (!sl.next.IsZero() && !now.Before(sl.next)) || sl.awaits != analysis.NoWorkload || sl.changed
}

// set schedules key's next step at at.
func (s *schedule) set(key cache.ObjectName, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.slot(key).next = at
}

// forget unschedules key: it is idle or invalid, and only informer events
// wake it. A user's change noticed meanwhile stays recorded.
func (s *schedule) forget(key cache.ObjectName) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sl, ok := s.slots[key]; ok {
		sl.next, sl.awaits = time.Time{}, analysis.NoWorkload
		s.dropEmpty(key, sl)
	}
}

// drop removes everything recorded for key: the canary is gone.
func (s *schedule) drop(key cache.ObjectName) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.slots, key)
}

// dropEmpty removes a slot that holds nothing but its UID, so that a fleet
// of idle canaries keeps no slots; the caller holds mu. Only forget, the
// last schedule call of an idle canary's sync, drops: a slot dropped in
// the middle of a sync would lose its UID before the sync schedules a
// step.
func (s *schedule) dropEmpty(key cache.ObjectName, sl *slot) {
	if sl.next.IsZero() && sl.awaits == analysis.NoWorkload && !sl.changed {
		delete(s.slots, key)
	}
}

// await records the workload key's last step waited for (analysis.NoWorkload
// clears it).
func (s *schedule) await(key cache.ObjectName, w analysis.Workload) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.slot(key).awaits = w
}

// awaiting returns the workload key's last step waited for.
func (s *schedule) awaiting(key cache.ObjectName) analysis.Workload {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sl, ok := s.slots[key]; ok {
		return sl.awaits
	}
	return analysis.NoWorkload
}

// request reports whether a tick runs now for the pending request id: the
// first time the schedule sees it. A request the tick could not handle yet
// (a retry held by an unready primary) then waits for the next step like
// the rest of the run, rather than running a step at every event.
func (s *schedule) request(key cache.ObjectName, id string) bool {
	if id == "" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sl := s.slot(key)
	if sl.request == id {
		return false
	}
	sl.request = id
	return true
}

// changedBy records that a user's change to the canary with uid woke key.
func (s *schedule) changedBy(key cache.ObjectName, uid types.UID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sl := s.slot(key)
	if sl.uid != uid {
		*sl = slot{uid: uid}
	}
	sl.changed = true
}

// change records that a user's change woke key, or with false that a sync
// has looked at it since. Event handlers, which know the object, call
// changedBy instead.
func (s *schedule) change(key cache.ObjectName, changed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if changed {
		s.slot(key).changed = true
		return
	}
	if sl, ok := s.slots[key]; ok {
		sl.changed = false
	}
}

// dueKeys returns the keys whose step is due at now.
func (s *schedule) dueKeys(now time.Time) []cache.ObjectName {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []cache.ObjectName
	for key, sl := range s.slots {
		if !sl.next.IsZero() && !now.Before(sl.next) {
			keys = append(keys, key)
		}
	}
	return keys
}

// lateness returns how late key's step is at now (0 if not scheduled).
func (s *schedule) lateness(key cache.ObjectName, now time.Time) time.Duration {
	at, ok := s.at(key)
	if !ok || now.Before(at) {
		return 0
	}
	return now.Sub(at)
}

// plan carries out what the canary's last tick said about the next one:
// a step due after next.After, brought forward by the readiness of
// next.WhenReady; or, with nothing due (an idle canary), no schedule at
// all, so that only informer events wake it.
func (c *Controller) plan(key cache.ObjectName, next analysis.Next, now time.Time) {
	if next.After <= 0 {
		c.schedule.forget(key)
		return
	}
	c.scheduleStep(key, now.Add(next.After))
	c.schedule.await(key, next.WhenReady)
}

// due reports whether the canary's state machine should run now: when its
// scheduled step has come, at any event while it is idle (a new revision is
// then noticed at once, at no API cost), or as soon as the workload its last
// step waited for is ready.
func (c *Controller) due(ctx context.Context, key cache.ObjectName, cd *flaggerv1.Canary, now time.Time) bool {
	if cd.DeletionTimestamp != nil {
		return true
	}
	return analysis.Idle(cd.Status.Phase) || c.schedule.due(key, now) || c.schedule.request(key, analysis.PendingRequest(cd)) ||
		c.becameReady(ctx, key, cd)
}

// becameReady reports whether the workload that held the canary's last step
// is ready now. Its Deployment's informer events enqueue the canary, so the
// held step runs when the rollout finishes rather than up to an interval
// later; the gap between weight steps stays at least one interval, since
// the held step was itself due.
//
// Unlike Flagger, which looks again only at the next interval: with many
// canaries releasing at once the pods' rollouts are slower, and waiting
// for ticks turned each wait into a whole interval. A step that is not
// held on readiness is never run early.
func (c *Controller) becameReady(ctx context.Context, key cache.ObjectName, cd *flaggerv1.Canary) bool {
	workload := c.cfg.Plugins.Workload
	switch c.schedule.awaiting(key) {
	case analysis.PrimaryWorkload:
		return workload.IsPrimaryReady(ctx, cd) == nil
	case analysis.TargetWorkload:
		return workload.IsCanaryReady(ctx, cd) == nil
	}
	return false
}

// holdMovedTraffic keeps a step whose route was moved but whose status write
// failed from being taken again at once: the retry would see the new weight
// and take the next step, so that the weight just set would serve for no
// time (found by the crash harness: the 25% step of a run went straight on
// to 50%). The step is scheduled one interval on instead, and recomputed
// from the route then; the retry in between finds nothing due.
func (c *Controller) holdMovedTraffic(key cache.ObjectName, cd *flaggerv1.Canary, actions []analysis.Action, now time.Time) {
	if analysis.Idle(cd.Status.Phase) || cd.DeletionTimestamp != nil || !hasAction[analysis.SetRoutes](actions) {
		return
	}
	c.scheduleStep(key, now.Add(cd.GetAnalysisInterval()))
}

// scheduleStep records that key's next step is due at at, and has the
// queue hand the key to a worker at that moment. Left to the ticker alone,
// every step ran up to one tick late (a 10 s interval became 11 s between
// weight steps); the ticker stays as the fallback for a timer whose key a
// worker took earlier.
func (c *Controller) scheduleStep(key cache.ObjectName, at time.Time) {
	c.schedule.set(key, at)
	c.queue.AddAfter(key, at.Sub(c.clock.Now()))
}

// runScheduler enqueues due canaries every tick until ctx ends, as a
// fallback for the queue's timers (scheduleStep). The tick is short
// compared with any analysis interval (10 s at least), so a step runs at
// most one tick late.
func (c *Controller) runScheduler(ctx context.Context, tick time.Duration) {
	ticker := c.clock.NewTicker(tick)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C():
			for _, key := range c.schedule.dueKeys(c.clock.Now()) {
				c.queue.Add(key)
			}
		}
	}
}

// urgent tells the workqueue which keys go first: a canary whose analysis
// step is due, whose step is held on a workload's readiness (the event
// that wakes it may be the one that makes the workload ready), or that a
// user's change woke (a new revision to release). New canaries, idle
// canaries and canaries between steps go after them.
//
// Without the last, a large fleet given a new revision at once on a
// saturated API server noticed it late: the steps of those already
// released kept the queue busy.
func (c *Controller) urgent(key cache.ObjectName) bool {
	return c.schedule.urgent(key, c.clock.Now())
}
