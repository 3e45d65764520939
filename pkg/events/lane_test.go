package events

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"
)

func TestLaneIsFirstInFirstOutAcrossCompactions(t *testing.T) {
	l := newLane(nil)
	next, pushed := 0, 0
	push := func(n int) {
		for range n {
			assert.True(t, l.push(&entry{name: fmt.Sprint(pushed)}))
			pushed++
		}
	}
	pop := func(n int) {
		for range n {
			ev, ok := l.pop()
			if assert.True(t, ok) {
				assert.Equal(t, fmt.Sprint(next), ev.name)
			}
			next++
		}
	}
	push(3000)
	pop(2000) // compacts past compactAfter
	assert.Less(t, l.head, compactAfter)
	push(1500)
	pop(2500)
	_, ok := l.pop()
	assert.False(t, ok)

	push(2)
	assert.False(t, l.stopIfEmpty())
	assert.Equal(t, 2, l.abandon())
	assert.False(t, l.push(&entry{}), "a stopped lane takes nothing")
}

func TestRetryable(t *testing.T) {
	for err, want := range map[error]bool{
		apierrors.NewServerTimeout(corev1.Resource("events"), "create", 1):         true,
		apierrors.NewTimeoutError("gateway", 1):                                    true,
		apierrors.NewTooManyRequests("slow down", 1):                               true,
		apierrors.NewInternalError(errors.New("etcd")):                             true,
		apierrors.NewServiceUnavailable("restarting"):                              true,
		fmt.Errorf("post: %w", errors.New("connection reset by peer")):             true,
		apierrors.NewForbidden(corev1.Resource("events"), "x", errors.New("rbac")): false,
		apierrors.NewBadRequest("bad"):                                             false,
		apierrors.NewAlreadyExists(corev1.Resource("events"), "x"):                 false,
		apierrors.NewConflict(corev1.Resource("events"), "x", errors.New("rv")):    false,
		&rest.RequestConstructionError{Err: errors.New("no body")}:                 false,
	} {
		assert.Equal(t, want, retryable(err), "%v", err)
	}
}

func TestBackoffDoublesUpToItsCap(t *testing.T) {
	r := &Recorder{cfg: Config{Backoff: 500 * time.Millisecond, MaxBackoff: 10 * time.Second}}
	timeout := errors.New("timeout")
	for try, want := range map[int]time.Duration{1: 500 * time.Millisecond, 2: time.Second, 5: 8 * time.Second, 6: 10 * time.Second, 60: 10 * time.Second} {
		d := r.backoff(try, timeout)
		assert.GreaterOrEqual(t, d, want, "try %d", try)
		assert.LessOrEqual(t, d, want+want/4, "try %d", try)
	}
	d := r.backoff(1, apierrors.NewTooManyRequests("slow down", 3))
	assert.GreaterOrEqual(t, d, 3*time.Second, "the API server's Retry-After is honoured")
	d = r.backoff(1, apierrors.NewTooManyRequests("slow down", 60))
	assert.LessOrEqual(t, d, 10*time.Second+10*time.Second/4, "up to the cap")
}
