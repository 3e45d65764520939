package events_test

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/serin-dev/serin/pkg/client/clientset/versioned/scheme"
	"github.com/serin-dev/serin/pkg/events"
	"github.com/serin-dev/serin/test/lib/must"
)

func TestEveryEventIsPosted(t *testing.T) {
	h := start(t)
	for i := range 200 {
		for step := range 5 {
			h.recorder.Eventf(canary(i), corev1.EventTypeNormal, "Synced", "Advance app-%d.test canary weight %d", i, 10*(step+1))
		}
	}
	items := h.waitEvents(t, 1000)

	messages := map[string]bool{}
	for _, ev := range items {
		messages[ev.Message] = true
	}
	assert.Len(t, messages, 1000, "every message once")
	h.waitMetric(t, "serin_events_posted_total", "created", 1000)
	h.waitMetric(t, "serin_events_pending", "", 0)
}

func TestEventsOfAnObjectKeepTheirOrder(t *testing.T) {
	h := start(t, func(c *events.Config) { c.Lanes = 4 })
	var (
		mu      sync.Mutex
		created = map[string][]string{}
	)
	h.onCreate(func(ev *corev1.Event) error {
		// An API server answers some posts later than others.
		time.Sleep(time.Duration(rand.N(300)) * time.Microsecond)
		mu.Lock()
		defer mu.Unlock()
		created[ev.InvolvedObject.Name] = append(created[ev.InvolvedObject.Name], ev.Message)
		return nil
	})
	const objects, steps = 10, 30
	for step := range steps {
		for i := range objects {
			h.recorder.Eventf(canary(i), corev1.EventTypeNormal, "Synced", "step %d", step)
		}
	}
	h.waitEvents(t, objects*steps)

	mu.Lock()
	defer mu.Unlock()
	for i := range objects {
		var want []string
		for step := range steps {
			want = append(want, fmt.Sprintf("step %d", step))
		}
		assert.Equal(t, want, created[canary(i).Name], "order of %s", canary(i).Name)
	}
}

func TestRepeatedEventIsCountedOnOneEvent(t *testing.T) {
	h := start(t)
	h.recorder.Event(canary(1), corev1.EventTypeWarning, "Synced", "canary deployment app.test not ready")
	h.recorder.Event(canary(1), corev1.EventTypeWarning, "Synced", "canary deployment app.test not ready")
	h.recorder.Event(canary(1), corev1.EventTypeNormal, "Synced", "Advance app.test canary weight 10")

	must.Eventually(t, waitFor, 5*time.Millisecond, func() (bool, error) {
		done := h.metric(t, "serin_events_posted_total", "created") + h.metric(t, "serin_events_posted_total", "patched")
		return done == 3, fmt.Errorf("%v posted", done)
	}, "three posts")
	items := h.list(t)
	require.Len(t, items, 2, "a repeat is not a second Event, another message is")
	counts := map[string]int32{}
	for _, ev := range items {
		counts[ev.Message] = ev.Count
	}
	assert.Equal(t, map[string]int32{"canary deployment app.test not ready": 2, "Advance app.test canary weight 10": 1}, counts)
	assert.InDelta(t, 1, h.metric(t, "serin_events_posted_total", "patched"), 0)
}

func TestRepeatOfADeletedEventIsCreatedAgain(t *testing.T) {
	h := start(t)
	h.recorder.Event(canary(1), corev1.EventTypeWarning, "Synced", "not ready")
	items := h.waitEvents(t, 1)
	require.NoError(t, h.kube.CoreV1().Events("test").Delete(t.Context(), items[0].Name, metav1.DeleteOptions{}))

	h.recorder.Event(canary(1), corev1.EventTypeWarning, "Synced", "not ready")
	items = h.waitEvents(t, 1)
	assert.Equal(t, int32(2), items[0].Count)
	h.waitMetric(t, "serin_events_posted_total", "created", 2) // the patch found nothing
}

func TestEventShapeIsClientGos(t *testing.T) {
	now := time.Date(2026, 1, 2, 15, 4, 5, 123456789, time.UTC)
	h := start(t, func(c *events.Config) { c.Clock = testingclock.NewFakeClock(now) })
	sent := make(chan *corev1.Event, 1)
	h.onCreate(func(ev *corev1.Event) error {
		sent <- ev.DeepCopy()
		return nil
	})
	annotations := map[string]string{"note": "kept"}
	h.recorder.AnnotatedEventf(canary(1), annotations, corev1.EventTypeNormal, "Synced", "Advance %s canary weight %d", "app-1.test", 10)
	annotations["note"] = "changed after the call"
	h.waitEvents(t, 1)
	got := <-sent

	broadcaster := record.NewBroadcaster(record.WithContext(t.Context()))
	defer broadcaster.Shutdown()
	theirs := make(chan *corev1.Event, 1)
	broadcaster.StartEventWatcher(func(ev *corev1.Event) { theirs <- ev })
	broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "flagger"}).
		AnnotatedEventf(canary(1), map[string]string{"note": "kept"}, corev1.EventTypeNormal, "Synced", "Advance %s canary weight %d", "app-1.test", 10)
	want := <-theirs

	assert.Equal(t, "app-1."+strconv.FormatInt(now.UnixNano(), 16), got.Name)
	assert.True(t, got.FirstTimestamp.Equal(&metav1.Time{Time: now}) && got.LastTimestamp.Equal(&metav1.Time{Time: now}))
	assert.Equal(t, "Canary", got.InvolvedObject.Kind)
	assert.Equal(t, "flagger.app/v1beta1", got.InvolvedObject.APIVersion)
	assert.True(t, strings.HasPrefix(want.Name, "app-1."))
	// All the rest is as client-go's recorder makes it.
	for _, ev := range []*corev1.Event{got, want} {
		ev.Name, ev.FirstTimestamp, ev.LastTimestamp = "", metav1.Time{}, metav1.Time{}
	}
	assert.Equal(t, want, got)
}

func TestInvalidEventTypeIsNotPosted(t *testing.T) {
	h := start(t)
	h.recorder.Event(canary(1), "Bogus", "Synced", "not an event type")
	h.recorder.Event(canary(1), corev1.EventTypeNormal, "Synced", "valid")
	items := h.waitEvents(t, 1)
	assert.Equal(t, "valid", items[0].Message)
	h.waitMetric(t, "serin_events_posted_total", "created", 1)
	entries := h.logs.AllEntries()
	if assert.Len(t, entries, 1) {
		assert.Equal(t, "Event not recorded", entries[0].Message)
	}
}
