package controller

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

func names(ns ...string) []cache.ObjectName {
	out := make([]cache.ObjectName, len(ns))
	for i, n := range ns {
		out[i] = cache.ObjectName{Namespace: "test", Name: n}
	}
	return out
}

func TestPriorityQueueOrder(t *testing.T) {
	due := map[cache.ObjectName]bool{}
	q := newPriorityQueue(func(k cache.ObjectName) bool { return due[k] }, time.Now)
	keys := names("idle-1", "step-1", "idle-2", "step-2", "idle-3")
	due[keys[1]], due[keys[3]] = true, true
	for _, k := range keys {
		q.Push(k)
	}
	// idle-3 becomes due while queued: it moves ahead of the other idle keys
	// but behind the keys that were due first.
	due[keys[4]] = true
	q.Touch(keys[4])
	q.Touch(keys[0]) // not due: stays where it is
	require.Equal(t, 5, q.Len())

	var got []string
	for q.Len() > 0 {
		got = append(got, q.Pop().Name)
	}
	assert.Equal(t, []string{"step-1", "step-2", "idle-3", "idle-1", "idle-2"}, got)
}

// TestPriorityQueueCountsMovedKeysOnce checks that a key moved to the due
// class and later pushed again is counted and popped once.
func TestPriorityQueueCountsMovedKeysOnce(t *testing.T) {
	due := map[cache.ObjectName]bool{}
	q := newPriorityQueue(func(k cache.ObjectName) bool { return due[k] }, time.Now)
	keys := names("a", "b")
	q.Push(keys[0])
	q.Push(keys[1])
	due[keys[0]] = true
	q.Touch(keys[0])
	assert.Equal(t, keys[0], q.Pop())
	due[keys[0]] = false
	q.Push(keys[0]) // its old entry in the other class is still in the slice
	require.Equal(t, 2, q.Len())
	got := []cache.ObjectName{q.Pop(), q.Pop()}
	assert.ElementsMatch(t, keys, got)
	assert.Zero(t, q.Len())
}

// TestWorkqueueHandsOutDueKeysFirst runs the storage under client-go's
// workqueue, as the controller does: a burst of informer wakes queued
// before a due step does not delay it.
func TestWorkqueueHandsOutDueKeysFirst(t *testing.T) {
	keys := names("idle-1", "idle-2", "idle-3", "step")
	q := workqueue.NewTypedWithConfig(workqueue.TypedQueueConfig[cache.ObjectName]{
		Queue: newPriorityQueue(func(k cache.ObjectName) bool { return k == keys[3] }, time.Now),
	})
	defer q.ShutDown()
	for _, k := range keys {
		q.Add(k)
	}
	q.Add(keys[0]) // already queued: not twice
	require.Equal(t, 4, q.Len())
	first, _ := q.Get()
	assert.Equal(t, keys[3], first)
	for _, want := range keys[:3] {
		got, _ := q.Get()
		assert.Equal(t, want, got)
		q.Done(got)
	}
	q.Done(first)
}

// TestPriorityQueueBoundsTheWaitOfOtherKeys checks that urgent keys go
// first only until an other key has waited otherGrace longer than the
// first urgent one; then the classes take turns: a queue that never runs
// out of due steps does not starve new canaries, nor do they starve it.
func TestPriorityQueueBoundsTheWaitOfOtherKeys(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	due := map[cache.ObjectName]bool{}
	q := newPriorityQueue(func(k cache.ObjectName) bool { return due[k] }, func() time.Time { return now })
	keys := names("new-1", "new-2", "new-3", "step-1", "step-2", "step-3", "step-4")
	for _, k := range keys[3:] {
		due[k] = true
	}
	q.Push(keys[0])
	now = now.Add(10 * time.Second)
	q.Push(keys[1])
	q.Push(keys[2])
	q.Push(keys[3])
	now = now.Add(otherGrace)
	for _, k := range keys[4:] {
		q.Push(k)
	}

	var got []string
	for q.Len() > 0 {
		got = append(got, q.Pop().Name)
	}
	// step-1 came 10 s after new-1: within the grace, it goes first. Then
	// new-1 has waited the grace and 10 s longer than step-2, and new-2 and
	// new-3 the grace exactly: they take turns with the steps.
	assert.Equal(t, []string{"step-1", "new-1", "step-2", "new-2", "step-3", "new-3", "step-4"}, got)
}
