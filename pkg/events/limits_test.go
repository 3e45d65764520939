package events_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"

	"github.com/serin-dev/serin/pkg/events"
	"github.com/serin-dev/serin/test/lib/must"
)

func TestBeyondThePendingLimitEventsAreDroppedAndCounted(t *testing.T) {
	h := start(t, func(c *events.Config) { c.Lanes, c.MaxPending = 2, 10 })
	sink := newGate(t)
	h.onCreate(sink.block)
	for i := range 30 {
		h.recorder.Event(canary(i), corev1.EventTypeNormal, "Synced", "New revision detected")
	}
	// Pending counts the events being posted too, so exactly 10 fit.
	assert.InDelta(t, 20, h.metric(t, "serin_events_dropped_total", ""), 0)
	assert.InDelta(t, 10, h.metric(t, "serin_events_pending", ""), 0)
	assert.Len(t, dropLogs(h), 1, "one log for a burst of drops")

	sink.release()
	h.waitEvents(t, 10)
	h.waitMetric(t, "serin_events_pending", "", 0)
	h.recorder.Shutdown()
	logs := dropLogs(h)
	var logged int64
	for _, entry := range logs {
		logged += entry.Data["dropped"].(int64)
	}
	assert.Equal(t, int64(20), logged, "every drop is in a log, the last ones at shutdown")
}

func TestEventNeverBlocks(t *testing.T) {
	h := start(t, func(c *events.Config) { c.Lanes, c.DrainTimeout = 2, 100*time.Millisecond })
	sink := newGate(t)
	h.onCreate(sink.block)
	const n = 5000 // five times client-go's queue
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			h.recorder.Event(canary(i%500), corev1.EventTypeNormal, "Synced", "Copying app.test template spec to app-primary.test")
		}
	}()
	must.Eventually(t, waitFor, 5*time.Millisecond, func() (bool, error) {
		select {
		case <-done:
			return true, nil
		default:
			return false, nil
		}
	}, "Event returned although the API server does not answer")
	assert.InDelta(t, n, h.metric(t, "serin_events_pending", ""), 0, "all queued")
	assert.InDelta(t, 0, h.metric(t, "serin_events_dropped_total", ""), 0)
}

func TestShutdownPostsWhatIsPending(t *testing.T) {
	h := start(t, func(c *events.Config) { c.Lanes = 2 })
	h.onCreate(func(*corev1.Event) error {
		time.Sleep(time.Millisecond) // a busy API server
		return nil
	})
	for i := range 100 {
		h.recorder.Event(canary(i), corev1.EventTypeNormal, "Synced", "Promotion completed")
	}
	h.recorder.Shutdown()
	assert.Len(t, h.list(t), 100)
	assert.InDelta(t, 0, h.metric(t, "serin_events_pending", ""), 0)
}

func TestShutdownIsBoundedWhenTheAPIServerHangs(t *testing.T) {
	const drain = 100 * time.Millisecond
	h := start(t, func(c *events.Config) { c.Lanes, c.DrainTimeout = 2, drain })
	sink := newGate(t)
	h.onCreate(sink.block)
	for i := range 50 {
		h.recorder.Event(canary(i), corev1.EventTypeNormal, "Synced", "Promotion completed")
	}
	stopped := make(chan struct{})
	go func() {
		h.recorder.Shutdown()
		close(stopped)
	}()
	// The bound is the drain timeout plus a second for the requests in
	// flight; one more second for a busy machine.
	must.Eventually(t, drain+2*time.Second, 5*time.Millisecond, func() (bool, error) {
		select {
		case <-stopped:
			return true, nil
		default:
			return false, nil
		}
	}, "Shutdown returned")

	h.recorder.Event(canary(1), corev1.EventTypeNormal, "Synced", "after shutdown")
	sink.release()
	h.waitMetric(t, "serin_events_pending", "", 0)
	posted := h.metric(t, "serin_events_posted_total", "created")
	assert.Less(t, posted, 50.0, "the hung requests block their lanes")
	assert.InDelta(t, 50, posted+h.metric(t, "serin_events_dropped_total", ""), 0, "the rest is counted as dropped")
	for _, ev := range h.list(t) {
		assert.NotEqual(t, "after shutdown", ev.Message)
	}
}

func TestEndOfTheContextStopsTheRecorder(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	h := startWith(t, ctx, func(c *events.Config) { c.DrainTimeout = 50 * time.Millisecond })
	sink := newGate(t)
	h.onCreate(sink.block)
	h.recorder.Event(canary(1), corev1.EventTypeNormal, "Synced", "before")
	assert.InDelta(t, 1, h.metric(t, "serin_events_pending", ""), 0)

	cancel()
	must.Eventually(t, waitFor, 5*time.Millisecond, func() (bool, error) {
		before := h.metric(t, "serin_events_pending", "")
		h.recorder.Event(canary(1), corev1.EventTypeNormal, "Synced", "after")
		return h.metric(t, "serin_events_pending", "") == before, nil
	}, "events ignored once the context ended")
}
