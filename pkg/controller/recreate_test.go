package controller

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clienttesting "k8s.io/client-go/testing"

	"github.com/serin-dev/serin/pkg/analysis"
	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/syncerr"
	"github.com/serin-dev/serin/test/lib/must"
)

// drain empties the queue once the informers have delivered the events of
// earlier writes, so that a test sees what enqueues the canary next.
func (f *fixture) drain(t *testing.T) {
	t.Helper()
	time.Sleep(100 * time.Millisecond)
	for f.ctrl.queue.Len() > 0 {
		key, _ := f.ctrl.queue.Get()
		f.ctrl.queue.Forget(key)
		f.ctrl.queue.Done(key)
	}
}

// cachedCanary polls the lister until check holds for the cached canary
// (nil when it is gone).
func (f *fixture) cachedCanary(t *testing.T, check func(*flaggerv1.Canary) bool, msg string) {
	t.Helper()
	must.Eventually(t, 5*time.Second, 5*time.Millisecond, func() (bool, error) {
		cd, err := f.ctrl.canaries.Canaries("test").Get("podinfo")
		if apierrors.IsNotFound(err) {
			return check(nil), nil
		}
		return err == nil && check(cd), err
	}, msg)
}

// TestRecreatedCanaryIsInitialised deletes an initialised canary the way a
// namespace deletion does and re-creates it under the same name. The
// finalizer removal that deletes the canary is answered after the informer
// has delivered the deletion (the watch is often faster than the answer),
// so its expectation is recorded after canaryDeleted dropped the old one.
// Keyed by name, it held the re-created canary, which got no finalizer, no
// status and no event (issue 12). The deleted canary carries the finalizer
// an older Serin put on every canary, which its last sync removes; the
// re-created one has revertOnDeletion, and so gets it.
func TestRecreatedCanaryIsInitialised(t *testing.T) {
	f := newFixture(t)
	f.syncUntil(t, flaggerv1.CanaryPhaseInitialized, func() { f.markPrimaryReady(t) })
	ctx := context.Background()
	initialised, err := f.flagger.FlaggerV1beta1().Canaries("test").Get(ctx, "podinfo", metav1.GetOptions{})
	require.NoError(t, err)
	initialised.Finalizers = []string{analysis.Finalizer}
	_, err = f.flagger.FlaggerV1beta1().Canaries("test").Update(ctx, initialised, metav1.UpdateOptions{})
	require.NoError(t, err)
	f.cachedCanary(t, func(cd *flaggerv1.Canary) bool { return cd != nil && len(cd.Finalizers) == 1 }, "the older Serin's finalizer")
	canaries := schema.GroupVersionResource{Group: "flagger.app", Version: "v1beta1", Resource: "canaries"}
	f.flagger.PrependReactor("update", "canaries", func(action clienttesting.Action) (bool, runtime.Object, error) {
		cd := action.(clienttesting.UpdateAction).GetObject().(*flaggerv1.Canary)
		if cd.DeletionTimestamp == nil || len(cd.Finalizers) > 0 {
			return false, nil, nil
		}
		// The API server deletes a terminating object whose last
		// finalizer goes; its watch event arrives before the answer.
		if err := f.flagger.Tracker().Delete(canaries, cd.Namespace, cd.Name); err != nil {
			return true, nil, err
		}
		f.cachedCanary(t, func(cd *flaggerv1.Canary) bool { return cd == nil }, "the deletion delivered")
		deleted := cd.DeepCopy()
		deleted.ResourceVersion = "1000" // the fake clientset keeps none; the API server answers with one
		return true, deleted, nil
	})

	old, err := f.flagger.FlaggerV1beta1().Canaries("test").Get(ctx, "podinfo", metav1.GetOptions{})
	require.NoError(t, err)
	old.DeletionTimestamp = &metav1.Time{Time: f.clock.Now()}
	_, err = f.flagger.FlaggerV1beta1().Canaries("test").Update(ctx, old, metav1.UpdateOptions{})
	require.NoError(t, err)
	f.cachedCanary(t, func(cd *flaggerv1.Canary) bool { return cd != nil && cd.DeletionTimestamp != nil }, "the deletion timestamp")
	require.NoError(t, f.ctrl.sync(ctx, f.key), "the deleted canary's last sync removes its finalizer")
	f.cachedCanary(t, func(cd *flaggerv1.Canary) bool { return cd == nil }, "the canary gone")

	recreated := testCanary()
	recreated.UID, recreated.Spec.RevertOnDeletion = "recreated", true
	_, err = f.flagger.FlaggerV1beta1().Canaries("test").Create(ctx, recreated, metav1.CreateOptions{})
	require.NoError(t, err)
	f.cachedCanary(t, func(cd *flaggerv1.Canary) bool { return cd != nil && cd.UID == "recreated" }, "the new canary")
	require.NoError(t, f.ctrl.sync(ctx, f.key))

	stored, err := f.flagger.FlaggerV1beta1().Canaries("test").Get(ctx, "podinfo", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Contains(t, stored.Finalizers, analysis.Finalizer, "the re-created canary got its finalizer")
	assert.NotEmpty(t, stored.Status.Phase, "the re-created canary got a status")
}

// TestWaitingSyncIsWokenAtTheTimeout: a write that never comes back as
// written (another writer changed the status after it) still has a sync
// that waits for it woken, when the expectation expires.
func TestWaitingSyncIsWokenAtTheTimeout(t *testing.T) {
	f := newFixture(t)
	f.syncUntil(t, flaggerv1.CanaryPhaseInitialized, func() { f.markPrimaryReady(t) })
	cd, err := f.ctrl.canaries.Canaries("test").Get("podinfo")
	require.NoError(t, err)
	ours := cd.DeepCopy()
	ours.ResourceVersion, ours.Status.Phase = "999", flaggerv1.CanaryPhaseProgressing
	f.ctrl.expected.expect(f.key, ours, f.clock.Now())
	f.drain(t)

	require.NoError(t, f.ctrl.sync(context.Background(), f.key))
	assert.Zero(t, f.ctrl.queue.Len(), "the sync waits")
	f.clock.Step(expectationTimeout - time.Second)
	time.Sleep(50 * time.Millisecond)
	assert.Zero(t, f.ctrl.queue.Len(), "not before the expectation expires")
	f.clock.Step(time.Second)
	must.Eventually(t, 5*time.Second, 5*time.Millisecond, func() (bool, error) {
		return f.ctrl.queue.Len() == 1, nil
	}, "the canary enqueued when the expectation expires")
	assert.True(t, f.ctrl.expected.wait(f.key, cd, f.clock.Now()) == 0, "and its sync goes on")
}

// TestRecreatedCanaryStartsWithoutBackoff: the rate limiter's backoff
// belongs to the deleted canary too.
func TestRecreatedCanaryStartsWithoutBackoff(t *testing.T) {
	f := newFixture(t)
	for range 8 {
		f.ctrl.queue.AddRateLimited(f.key)
	}
	require.Equal(t, 8, f.ctrl.queue.NumRequeues(f.key))
	require.NoError(t, f.flagger.FlaggerV1beta1().Canaries("test").Delete(context.Background(), "podinfo", metav1.DeleteOptions{}))
	must.Eventually(t, 5*time.Second, 5*time.Millisecond, func() (bool, error) {
		return f.ctrl.queue.NumRequeues(f.key) == 0, nil
	}, "the deletion resets the backoff")
}

// TestNamespaceTerminatingIsNotRetried: the API server refuses every create
// in a namespace being deleted; the canary is not retried until its next
// event, while an ordinary refusal still is.
func TestNamespaceTerminatingIsNotRetried(t *testing.T) {
	for name, refusal := range map[string]error{
		"namespace terminating": namespaceTerminatingError("test"),
		"control: RBAC":         apierrors.NewForbidden(corev1.Resource("services"), "podinfo-primary", errors.New("no")),
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			cd, err := f.flagger.FlaggerV1beta1().Canaries("test").Get(ctx, "podinfo", metav1.GetOptions{})
			require.NoError(t, err)
			cd.Finalizers = []string{analysis.Finalizer}
			_, err = f.flagger.FlaggerV1beta1().Canaries("test").Update(ctx, cd, metav1.UpdateOptions{})
			require.NoError(t, err)
			f.cachedCanary(t, func(cd *flaggerv1.Canary) bool { return cd != nil && len(cd.Finalizers) == 1 }, "the finalizer")
			creates := 0
			f.kube.PrependReactor("create", "services", func(clienttesting.Action) (bool, runtime.Object, error) {
				creates++
				return true, nil, refusal
			})
			f.drain(t)

			f.ctrl.queue.Add(f.key)
			require.True(t, f.ctrl.processNextItem(ctx))
			require.Equal(t, 1, creates)
			f.clock.Step(time.Minute) // past any backoff
			time.Sleep(50 * time.Millisecond)
			if syncerr.NamespaceTerminating(refusal) {
				assert.Zero(t, f.ctrl.queue.NumRequeues(f.key), "no backoff")
				assert.Zero(t, f.ctrl.queue.Len(), "not retried")
			} else {
				assert.Equal(t, 1, f.ctrl.queue.NumRequeues(f.key))
				assert.Equal(t, 1, f.ctrl.queue.Len(), "retried")
			}
		})
	}
}

// namespaceTerminatingError is the API server's answer to a create in a
// namespace being deleted (the NamespaceLifecycle admission plugin).
func namespaceTerminatingError(namespace string) error {
	err := apierrors.NewForbidden(corev1.Resource("services"), "",
		errors.New("unable to create new content in namespace "+namespace+" because it is being terminated"))
	err.ErrStatus.Details.Causes = append(err.ErrStatus.Details.Causes, metav1.StatusCause{
		Type:    corev1.NamespaceTerminatingCause,
		Message: "namespace " + namespace + " is being terminated",
		Field:   "metadata.namespace",
	})
	return err
}

// TestUpdateToAnotherUIDIsARecreation: after a watch gap, a relist reports a
// canary deleted and re-created under the same name as an update between
// two UIDs. The deleted one's memory goes, as on a deletion.
func TestUpdateToAnotherUIDIsARecreation(t *testing.T) {
	f := newFixture(t)
	f.drain(t)
	old, cur := testCanary(), testCanary()
	old.UID, old.ResourceVersion = "old", "10"
	old.Status.Phase = flaggerv1.CanaryPhaseProgressing
	cur.UID, cur.ResourceVersion = "new", "20"
	f.ctrl.schedule.identify(f.key, old.UID)
	f.ctrl.scheduleStep(f.key, f.clock.Now().Add(time.Minute))
	f.ctrl.schedule.await(f.key, analysis.TargetWorkload)
	f.ctrl.expected.expect(f.key, old, f.clock.Now())
	f.ctrl.queue.AddRateLimited(f.key)

	f.ctrl.canaryUpdated(old, cur)
	assert.Zero(t, f.ctrl.queue.NumRequeues(f.key), "the backoff")
	assert.Equal(t, analysis.NoWorkload, f.ctrl.schedule.awaiting(f.key), "the wait")
	assert.True(t, f.ctrl.schedule.due(f.key, f.clock.Now()), "the step")
	before := old.DeepCopy()
	before.ResourceVersion, before.Status.Phase = "9", flaggerv1.CanaryPhaseInitialized
	assert.Zero(t, f.ctrl.expected.wait(f.key, before, f.clock.Now()), "the expectation")
	assert.Equal(t, 1, f.ctrl.queue.Len(), "the canary is enqueued")
}
