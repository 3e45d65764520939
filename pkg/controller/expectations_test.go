package controller

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"k8s.io/client-go/tools/cache"
)

func TestExpectations(t *testing.T) {
	e := newExpectations()
	key := cache.ObjectName{Namespace: "test", Name: "podinfo"}
	now := time.Date(2026, 11, 26, 6, 0, 0, 0, time.UTC)

	assert.True(t, e.satisfied(key, "10", now), "nothing written yet")
	e.expect(key, "12", now)
	assert.False(t, e.satisfied(key, "10", now), "the cache still has the object before our write")
	assert.False(t, e.observe(key, "11"), "another version is not ours")
	assert.True(t, e.observe(key, "12"))
	assert.True(t, e.satisfied(key, "12", now))

	e.expect(key, "14", now)
	assert.True(t, e.satisfied(key, "14", now), "the cached object is the written one")
	e.expect(key, "16", now)
	assert.True(t, e.satisfied(key, "15", now.Add(time.Minute)), "a lost event does not block the canary forever")
	e.expect(key, "18", now)
	e.forget(key)
	assert.True(t, e.satisfied(key, "17", now))
}
