package controller

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"
)

// TestEventCorrelationKeepsEveryMessage feeds a correlator the events of
// several releases of one canary: no message may be folded or dropped.
func TestEventCorrelationKeepsEveryMessage(t *testing.T) {
	correlator := record.NewEventCorrelatorWithOptions(EventCorrelatorOptions())
	event := func(msg string) *corev1.Event {
		return &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Name: "podinfo.1", Namespace: "test"},
			InvolvedObject: corev1.ObjectReference{Kind: "Canary", Namespace: "test", Name: "podinfo", UID: "1"},
			Source:         corev1.EventSource{Component: "flagger"},
			Type:           corev1.EventTypeNormal,
			Reason:         "Synced",
			Message:        msg,
		}
	}
	for release := range 5 {
		for weight := 10; weight <= 100; weight += 10 {
			msg := fmt.Sprintf("Advance podinfo.test canary weight %d (release %d)", weight, release)
			result, err := correlator.EventCorrelate(event(msg))
			assert.NoError(t, err)
			assert.False(t, result.Skip, "throttled: %s", msg)
			assert.Equal(t, msg, result.Event.Message)
		}
	}

	var skipped int
	for range 100 {
		result, _ := correlator.EventCorrelate(event("canary deployment podinfo.test not ready"))
		if result.Skip {
			skipped++
		}
	}
	assert.Positive(t, skipped, "one message repeated without end is still throttled")
}
