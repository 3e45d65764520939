package controller

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"k8s.io/client-go/tools/cache"
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
