package controller

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/serin-dev/serin/pkg/analysis"
	"github.com/serin-dev/serin/test/lib/must"
)

func TestSchedule(t *testing.T) {
	s := newSchedule()
	now := time.Date(2026, 11, 26, 6, 0, 0, 0, time.UTC)
	a := cache.ObjectName{Namespace: "test", Name: "a"}
	b := cache.ObjectName{Namespace: "test", Name: "b"}

	assert.True(t, s.due(a, now), "a canary never scheduled is due")
	assert.Empty(t, s.dueKeys(now), "unscheduled canaries are not ticked")

	s.set(a, now.Add(time.Minute))
	s.set(b, now.Add(10*time.Second))
	assert.False(t, s.due(a, now))
	assert.Equal(t, []cache.ObjectName{b}, s.dueKeys(now.Add(10*time.Second)))
	assert.ElementsMatch(t, []cache.ObjectName{a, b}, s.dueKeys(now.Add(time.Minute)))
	assert.Equal(t, 5*time.Second, s.lateness(a, now.Add(65*time.Second)))
	assert.Zero(t, s.lateness(a, now))

	s.forget(a)
	assert.True(t, s.due(a, now))
	assert.Equal(t, []cache.ObjectName{b}, s.dueKeys(now.Add(time.Hour)))
}

func TestScheduleStepEnqueuesWhenDue(t *testing.T) {
	clk := testingclock.NewFakeClock(time.Date(2026, 11, 26, 6, 0, 0, 0, time.UTC))
	c := &Controller{clock: clk, schedule: newSchedule(), queue: workqueue.NewTypedRateLimitingQueueWithConfig(
		workqueue.DefaultTypedControllerRateLimiter[cache.ObjectName](),
		workqueue.TypedRateLimitingQueueConfig[cache.ObjectName]{Clock: clk})}
	defer c.queue.ShutDown()
	key := cache.ObjectName{Namespace: "test", Name: "a"}

	c.scheduleStep(key, clk.Now().Add(10*time.Second))
	assert.False(t, c.schedule.due(key, clk.Now()))
	clk.Step(9 * time.Second)
	assert.Zero(t, c.queue.Len(), "not before it is due")
	clk.Step(time.Second)
	must.Eventually(t, 5*time.Second, time.Millisecond, func() (bool, error) {
		return c.queue.Len() == 1, nil
	}, "the key to be enqueued when due, without waiting for a scheduler tick")
	assert.True(t, c.schedule.due(key, clk.Now()))
}

// TestPlan checks that the decision's Next alone decides the schedule: a
// step due and the workload that brings it forward, or nothing at all.
func TestPlan(t *testing.T) {
	now := time.Date(2026, 11, 26, 6, 0, 0, 0, time.UTC)
	key := cache.ObjectName{Namespace: "test", Name: "a"}
	tests := []struct {
		name       string
		next       analysis.Next
		scheduled  bool
		awaits     analysis.Workload
		urgentLate bool
	}{
		{"idle: nothing due", analysis.Next{}, false, analysis.NoWorkload, false},
		{"a step due after the interval", analysis.Next{After: time.Minute}, true, analysis.NoWorkload, false},
		{"held on the primary", analysis.Next{After: time.Minute, WhenReady: analysis.PrimaryWorkload}, true, analysis.PrimaryWorkload, true},
		{"held on the target", analysis.Next{After: time.Minute, WhenReady: analysis.TargetWorkload}, true, analysis.TargetWorkload, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := testingclock.NewFakeClock(now)
			c := &Controller{clock: clk, schedule: newSchedule(), queue: workqueue.NewTypedRateLimitingQueueWithConfig(
				workqueue.DefaultTypedControllerRateLimiter[cache.ObjectName](),
				workqueue.TypedRateLimitingQueueConfig[cache.ObjectName]{Clock: clk})}
			defer c.queue.ShutDown()
			c.schedule.set(key, now.Add(time.Hour)) // what an earlier tick planned
			c.plan(key, tt.next, now)
			at, scheduled := c.schedule.at(key)
			assert.Equal(t, tt.scheduled, scheduled)
			if scheduled {
				assert.Equal(t, now.Add(tt.next.After), at)
			}
			assert.Equal(t, tt.awaits, c.schedule.awaiting(key))
			assert.Equal(t, tt.urgentLate, c.schedule.urgent(key, now), "urgent before it is due")
		})
	}
}

// TestScheduleBelongsToOneCanary covers a canary deleted and re-created
// under the same name: nothing the schedule recorded for the deleted one
// (a step due, a wait on a workload, a user's change) carries over.
func TestScheduleBelongsToOneCanary(t *testing.T) {
	s := newSchedule()
	now := time.Date(2026, 11, 26, 6, 0, 0, 0, time.UTC)
	key := cache.ObjectName{Namespace: "test", Name: "podinfo"}

	s.identify(key, "old")
	s.set(key, now.Add(time.Minute))
	s.await(key, analysis.TargetWorkload)
	s.identify(key, "old")
	assert.False(t, s.due(key, now), "the same canary keeps its schedule")
	assert.Equal(t, analysis.TargetWorkload, s.awaiting(key))

	s.identify(key, "new")
	assert.True(t, s.due(key, now), "a re-created canary is not held by the deleted one's interval")
	assert.Equal(t, analysis.NoWorkload, s.awaiting(key))
	assert.False(t, s.urgent(key, now.Add(time.Hour)))
	assert.Empty(t, s.dueKeys(now.Add(time.Hour)))

	// A sync of the deleted canary that was in flight when its deletion
	// arrived writes after the drop.
	s.drop(key)
	s.set(key, now)
	s.await(key, analysis.PrimaryWorkload)
	s.identify(key, "new")
	assert.Equal(t, analysis.NoWorkload, s.awaiting(key))
	assert.Empty(t, s.dueKeys(now))

	s.identify(key, "old")
	s.set(key, now)
	s.changedBy(key, "new")
	assert.True(t, s.urgent(key, now.Add(-time.Hour)), "the new canary's change is recorded")
	assert.Empty(t, s.dueKeys(now), "without the old canary's step")
	s.identify(key, "new")
	assert.True(t, s.urgent(key, now.Add(-time.Hour)), "its own sync keeps the change until it looks at it")

	s.change(key, false)
	s.forget(key)
	assert.Empty(t, s.slots, "an idle canary keeps no slot")
}
