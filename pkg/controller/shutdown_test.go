package controller

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/test/lib/must"
)

// blockingHook is a webhook that answers at once until armed, then holds
// each call until released (or until the caller gives up).
type blockingHook struct {
	*httptest.Server
	armed    atomic.Bool
	calls    atomic.Int32 // calls while armed
	entered  chan struct{}
	release  chan struct{}
	canceled chan struct{}
}

func newBlockingHook(t *testing.T) *blockingHook {
	h := &blockingHook{entered: make(chan struct{}, 10), release: make(chan struct{}), canceled: make(chan struct{}, 10)}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !h.armed.Load() {
			return
		}
		h.calls.Add(1)
		// Read to the end: only then does the server notice that the
		// client went away (and cancel r.Context()).
		_, _ = io.Copy(io.Discard, r.Body)
		h.entered <- struct{}{}
		select {
		case <-h.release:
		case <-r.Context().Done():
			h.canceled <- struct{}{}
		}
	}))
	t.Cleanup(h.Close)
	return h
}

// progressingWithHook brings the fixture's canary to its first weight
// step with a rollout webhook to hook, then arms the hook and makes the
// next step due: the next sync blocks in the webhook.
func progressingWithHook(t *testing.T, f *fixture, hook *blockingHook) {
	t.Helper()
	ctx := context.Background()
	stored := func() *flaggerv1.Canary {
		c, err := f.flagger.FlaggerV1beta1().Canaries("test").Get(ctx, "podinfo", metav1.GetOptions{})
		require.NoError(t, err)
		return c
	}
	// As the worker does: a failed sync (a create that the cache did not
	// see yet) is retried.
	advance := func(until func(*flaggerv1.Canary) bool, what string) {
		must.Eventually(t, 10*time.Second, 20*time.Millisecond, func() (bool, error) {
			f.clock.Step(time.Minute)
			if err := f.ctrl.sync(ctx, f.key); err != nil {
				t.Logf("sync: %v", err)
			}
			f.markPrimaryReady(t)
			return until(stored()), nil
		}, what)
	}
	advance(func(c *flaggerv1.Canary) bool { return c.Status.Phase == flaggerv1.CanaryPhaseInitialized }, "initialised")
	cd := stored()
	cd.Spec.Analysis.Webhooks = []flaggerv1.CanaryWebhook{{Name: "load", URL: hook.URL, Timeout: "1m"}}
	cd.Generation++
	_, err := f.flagger.FlaggerV1beta1().Canaries("test").Update(ctx, cd, metav1.UpdateOptions{})
	require.NoError(t, err)
	must.Eventually(t, 5*time.Second, 10*time.Millisecond, func() (bool, error) {
		c, err := f.ctrl.canaries.Canaries("test").Get("podinfo")
		return err == nil && len(c.Spec.Analysis.Webhooks) == 1, err
	}, "the webhook in the cache")

	d, err := f.kube.AppsV1().Deployments("test").Get(ctx, "podinfo", metav1.GetOptions{})
	require.NoError(t, err)
	d.Spec.Template.Spec.Containers[0].Image = "podinfo:6.0.1"
	d.Status = readyStatus(2)
	_, err = f.kube.AppsV1().Deployments("test").Update(ctx, d, metav1.UpdateOptions{})
	require.NoError(t, err)
	// The API server's copy: the cache may lag a step behind.
	advance(func(c *flaggerv1.Canary) bool {
		return c.Status.Phase == flaggerv1.CanaryPhaseProgressing && c.Status.CanaryWeight > 0
	}, "the first weight step")
	// The next sync must not wait for the informer to deliver the step's
	// status write (the expectation times out on the fake clock only).
	want := stored().ResourceVersion
	must.Eventually(t, 10*time.Second, 10*time.Millisecond, func() (bool, error) {
		c, err := f.ctrl.canaries.Canaries("test").Get("podinfo")
		return err == nil && c.ResourceVersion == want, err
	}, "the step's status in the cache")
	hook.armed.Store(true)
	f.clock.Step(time.Minute)
}

// awaitHook waits for the due step to block in the hook. The key is added
// again: the step's own timer may have fired before Run's workers started,
// and a bare receive then hung the test until its timeout.
func awaitHook(t *testing.T, f *fixture, hook *blockingHook) {
	t.Helper()
	f.ctrl.queue.Add(f.key)
	select {
	case <-hook.entered:
	case <-time.After(30 * time.Second):
		t.Fatal("the due step never reached its webhook")
	}
}

// syncCount is how many syncs the controller ran.
func syncCount(t *testing.T, c *Controller) uint64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	require.NoError(t, reg.Register(c.metrics.duration))
	families, err := reg.Gather()
	require.NoError(t, err)
	var n uint64
	for _, fam := range families {
		for _, m := range fam.GetMetric() {
			n += m.GetHistogram().GetSampleCount()
		}
	}
	return n
}

// storedWeight is the canary weight in the API server's copy of the status.
func storedWeight(t *testing.T, f *fixture) int {
	t.Helper()
	cd, err := f.flagger.FlaggerV1beta1().Canaries("test").Get(context.Background(), "podinfo", metav1.GetOptions{})
	require.NoError(t, err)
	return cd.Status.CanaryWeight
}

// TestShutdownFinishesTheSyncInFlight is a SIGTERM in the middle of a
// step: the step blocked in a webhook finishes and writes its status, and
// no other sync starts, although keys are waiting.
func TestShutdownFinishesTheSyncInFlight(t *testing.T) {
	f := newFixture(t)
	hook := newBlockingHook(t)
	progressingWithHook(t, f, hook)
	weight := storedWeight(t, f)

	ran := make(chan error, 1)
	go func() { ran <- f.ctrl.Run(context.Background(), 1) }()
	awaitHook(t, f, hook)
	before := syncCount(t, f.ctrl)
	for _, name := range []string{"other", "ghost"} {
		f.ctrl.queue.Add(cache.ObjectName{Namespace: "test", Name: name})
	}

	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		stopped <- f.ctrl.Shutdown(ctx)
	}()
	must.Eventually(t, 5*time.Second, time.Millisecond, func() (bool, error) { return f.ctrl.life.isStopping(), nil }, "Shutdown called")
	select {
	case err := <-stopped:
		t.Fatalf("Shutdown returned while a sync was in flight: %v", err)
	default:
	}
	assert.Equal(t, weight, storedWeight(t, f), "the step has not run yet")

	close(hook.release)
	require.NoError(t, <-stopped, "every sync finished within the grace period")
	require.NoError(t, <-ran)
	assert.Equal(t, weight+10, storedWeight(t, f), "the step in flight wrote its status")
	assert.Equal(t, before+1, syncCount(t, f.ctrl), "only the sync in flight ran after the shutdown")
	assert.Equal(t, int32(1), hook.calls.Load())
}

// TestShutdownCancelsAtTheEndOfTheGracePeriod checks that a sync still
// blocked at the end of the grace period is cancelled, and that a check
// cut short so changes nothing: no failed check, no step.
func TestShutdownCancelsAtTheEndOfTheGracePeriod(t *testing.T) {
	f := newFixture(t)
	hook := newBlockingHook(t)
	progressingWithHook(t, f, hook)
	cd, err := f.flagger.FlaggerV1beta1().Canaries("test").Get(context.Background(), "podinfo", metav1.GetOptions{})
	require.NoError(t, err)
	status := cd.Status

	ran := make(chan error, 1)
	go func() { ran <- f.ctrl.Run(context.Background(), 1) }()
	awaitHook(t, f, hook)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the grace period is over at once
	assert.ErrorIs(t, f.ctrl.Shutdown(ctx), context.Canceled)
	<-hook.canceled
	require.NoError(t, <-ran)

	cd, err = f.flagger.FlaggerV1beta1().Canaries("test").Get(context.Background(), "podinfo", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, status, cd.Status, "a cancelled check is not a failed check")
}

// TestRunContextEndIsAHardStop checks that the end of Run's context
// cancels the syncs in flight without a grace period.
func TestRunContextEndIsAHardStop(t *testing.T) {
	f := newFixture(t)
	hook := newBlockingHook(t)
	progressingWithHook(t, f, hook)
	weight := storedWeight(t, f)

	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- f.ctrl.Run(ctx, 1) }()
	awaitHook(t, f, hook)
	cancel()
	<-hook.canceled
	require.NoError(t, <-ran)
	assert.Equal(t, weight, storedWeight(t, f))
	assert.NoError(t, f.ctrl.Shutdown(context.Background()), "Shutdown after Run returned")
}
