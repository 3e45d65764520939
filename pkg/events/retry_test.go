package events_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/serin-dev/serin/pkg/events"
)

var eventsResource = schema.GroupResource{Resource: "events"}

func TestTransientErrorIsRetried(t *testing.T) {
	for name, err := range map[string]error{
		"server timeout":    apierrors.NewServerTimeout(eventsResource, "create", 1),
		"too many requests": apierrors.NewTooManyRequests("slow down", 1),
		"internal error":    apierrors.NewInternalError(errors.New("etcd leader changed")),
		"unavailable":       apierrors.NewServiceUnavailable("restarting"),
		"connection":        &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED},
		"request timeout":   fmt.Errorf("post events: %w", context.DeadlineExceeded),
	} {
		t.Run(name, func(t *testing.T) {
			h := start(t)
			var tries calls
			h.onCreate(func(ev *corev1.Event) error {
				if tries.add(ev.Message) <= 2 {
					return err
				}
				return nil
			})
			h.recorder.Event(canary(1), corev1.EventTypeNormal, "Synced", "Promotion completed")
			h.waitEvents(t, 1)
			assert.Equal(t, 3, tries.get("Promotion completed"))
			h.waitMetric(t, "serin_events_posted_total", "created", 1)
			assert.InDelta(t, 0, h.metric(t, "serin_events_posted_total", "failed"), 0)
		})
	}
}

func TestPermanentErrorIsNotRetried(t *testing.T) {
	terminating := apierrors.NewForbidden(eventsResource, "", errors.New("namespace test is being terminated"))
	terminating.ErrStatus.Details.Causes = []metav1.StatusCause{{Type: corev1.NamespaceTerminatingCause}}
	for name, err := range map[string]error{
		"forbidden":             apierrors.NewForbidden(eventsResource, "", errors.New("RBAC")),
		"invalid":               apierrors.NewInvalid(schema.GroupKind{Kind: "Event"}, "app-1.x", field.ErrorList{field.Required(field.NewPath("reason"), "")}),
		"already exists":        apierrors.NewAlreadyExists(eventsResource, "app-1.x"),
		"namespace terminating": terminating,
	} {
		t.Run(name, func(t *testing.T) {
			h := start(t)
			var tries calls
			h.onCreate(func(ev *corev1.Event) error {
				if tries.add(ev.Message); ev.Message == "rejected" {
					return err
				}
				return nil
			})
			h.recorder.Event(canary(1), corev1.EventTypeNormal, "Synced", "rejected")
			h.recorder.Event(canary(1), corev1.EventTypeNormal, "Synced", "accepted")
			// The lane posts "accepted" once it is done with "rejected".
			h.waitEvents(t, 1)
			assert.Equal(t, 1, tries.get("rejected"))
			assert.InDelta(t, 1, h.metric(t, "serin_events_posted_total", "failed"), 0)
		})
	}
}

func TestRetriesAreBounded(t *testing.T) {
	h := start(t, func(c *events.Config) { c.MaxTries = 4 })
	var tries calls
	h.onCreate(func(ev *corev1.Event) error {
		if tries.add(ev.Message); ev.Message == "unlucky" {
			return apierrors.NewServerTimeout(eventsResource, "create", 1)
		}
		return nil
	})
	h.recorder.Event(canary(1), corev1.EventTypeNormal, "Synced", "unlucky")
	h.recorder.Event(canary(1), corev1.EventTypeNormal, "Synced", "next")
	h.waitEvents(t, 1)
	assert.Equal(t, 4, tries.get("unlucky"))
	assert.InDelta(t, 1, h.metric(t, "serin_events_posted_total", "failed"), 0)
}

func TestLostAnswerOfACreateIsNotAFailure(t *testing.T) {
	h := start(t)
	var tries calls
	h.onCreate(func(ev *corev1.Event) error {
		if tries.add(ev.Message) == 2 {
			return apierrors.NewAlreadyExists(eventsResource, ev.Name) // the first one landed
		}
		if tries.get(ev.Message) == 1 {
			return apierrors.NewServerTimeout(eventsResource, "create", 1)
		}
		return nil
	})
	h.recorder.Event(canary(1), corev1.EventTypeNormal, "Synced", "landed")
	h.waitMetric(t, "serin_events_posted_total", "created", 1)
	assert.InDelta(t, 0, h.metric(t, "serin_events_posted_total", "failed"), 0)
}
