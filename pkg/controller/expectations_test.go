package controller

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

func TestExpectations(t *testing.T) {
	e := newExpectations()
	key := cache.ObjectName{Namespace: "test", Name: "podinfo"}
	now := time.Date(2026, 11, 26, 6, 0, 0, 0, time.UTC)
	canary := func(rv string, phase flaggerv1.CanaryPhase, weight int) *flaggerv1.Canary {
		return &flaggerv1.Canary{
			ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "test", UID: "uid-1", ResourceVersion: rv},
			Status:     flaggerv1.CanaryStatus{Phase: phase, CanaryWeight: weight},
		}
	}
	satisfied := func(key cache.ObjectName, cached *flaggerv1.Canary, now time.Time) bool {
		return e.wait(key, cached, now) == 0
	}

	assert.True(t, satisfied(key, canary("10", flaggerv1.CanaryPhaseProgressing, 10), now), "nothing written yet")
	e.expect(key, canary("12", flaggerv1.CanaryPhaseProgressing, 20), now)
	assert.False(t, satisfied(key, canary("10", flaggerv1.CanaryPhaseProgressing, 10), now),
		"the cache still has the object before our write")
	assert.False(t, e.observe(key, canary("11", flaggerv1.CanaryPhaseProgressing, 10)), "another version is not ours")
	assert.True(t, e.observe(key, canary("12", flaggerv1.CanaryPhaseProgressing, 20)))
	assert.True(t, satisfied(key, canary("12", flaggerv1.CanaryPhaseProgressing, 20), now))

	e.expect(key, canary("14", flaggerv1.CanaryPhaseProgressing, 30), now)
	assert.True(t, satisfied(key, canary("14", flaggerv1.CanaryPhaseProgressing, 30), now), "the cached object is the written one")

	// A user's edit after our write, or a relist: another version, with
	// our status.
	e.expect(key, canary("16", flaggerv1.CanaryPhasePromoting, 50), now)
	assert.False(t, satisfied(key, canary("15", flaggerv1.CanaryPhaseProgressing, 50), now.Add(time.Minute)),
		"a minute behind is still behind: the informer of a saturated API server lags")
	assert.True(t, satisfied(key, canary("17", flaggerv1.CanaryPhasePromoting, 50), now.Add(time.Minute)),
		"a later version with our status holds our write")

	e.expect(key, canary("18", flaggerv1.CanaryPhaseFinalising, 0), now)
	assert.True(t, satisfied(key, canary("17", flaggerv1.CanaryPhasePromoting, 50), now.Add(expectationTimeout+time.Second)),
		"a write overwritten by someone else does not block the canary forever")
	e.expect(key, canary("20", flaggerv1.CanaryPhaseSucceeded, 0), now)
	e.forget(key)
	assert.True(t, satisfied(key, canary("19", flaggerv1.CanaryPhaseFinalising, 0), now))
}

// TestExpectationsBelongToTheWrittenCanary covers a canary deleted and
// re-created under the same name: the write to the deleted one, recorded
// after its deletion event, must not hold the new one.
func TestExpectationsBelongToTheWrittenCanary(t *testing.T) {
	e := newExpectations()
	key := cache.ObjectName{Namespace: "test", Name: "podinfo"}
	now := time.Date(2026, 11, 26, 6, 0, 0, 0, time.UTC)
	deleted := &flaggerv1.Canary{
		ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "test", UID: "old", ResourceVersion: "40"},
		Status:     flaggerv1.CanaryStatus{Phase: flaggerv1.CanaryPhaseSucceeded},
	}
	recreated := &flaggerv1.Canary{ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "test", UID: "new", ResourceVersion: "45"}}

	before := deleted.DeepCopy()
	before.ResourceVersion, before.Status.Phase = "39", flaggerv1.CanaryPhaseFinalising

	e.expect(key, deleted, now)
	assert.Equal(t, expectationTimeout, e.wait(key, before, now), "the deleted canary itself would wait")
	assert.Zero(t, e.wait(key, recreated, now), "another canary under the same name is never held")
	assert.Zero(t, e.wait(key, deleted, now), "and the expectation is gone")

	e.expect(key, deleted, now)
	assert.False(t, e.observe(key, recreated), "the new canary's event is not our write")
	assert.Zero(t, e.wait(key, deleted, now), "but it drops the expectation")
}

// TestExpectationWaitEndsAtTheTimeout checks the wait a sync schedules its
// own wake-up with: it ends exactly when the cache is trusted.
func TestExpectationWaitEndsAtTheTimeout(t *testing.T) {
	e := newExpectations()
	key := cache.ObjectName{Namespace: "test", Name: "podinfo"}
	now := time.Date(2026, 11, 26, 6, 0, 0, 0, time.UTC)
	written := &flaggerv1.Canary{
		ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "test", UID: "uid-1", ResourceVersion: "12"},
		Status:     flaggerv1.CanaryStatus{Phase: flaggerv1.CanaryPhaseProgressing},
	}
	stale := written.DeepCopy()
	stale.ResourceVersion, stale.Status.Phase = "11", flaggerv1.CanaryPhaseInitialized

	e.expect(key, written, now)
	assert.Equal(t, expectationTimeout-time.Minute, e.wait(key, stale, now.Add(time.Minute)))
	assert.Zero(t, e.wait(key, stale, now.Add(expectationTimeout)), "trusted when the wait is over")
}
