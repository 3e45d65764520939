package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

func TestRowOf(t *testing.T) {
	tests := []struct {
		name string
		cd   *flaggerv1.Canary
		want row
	}{
		{
			name: "new canary",
			cd:   newCanary(),
			want: row{Namespace: "test", Name: "podinfo", Phase: "-", Threshold: 5},
		},
		{
			name: "pending request",
			cd:   newCanary(withStatus(flaggerv1.CanaryPhaseWaitingPromotion, 50, 1), withRequest("promote", "promote-1", "")),
			want: row{Namespace: "test", Name: "podinfo", Phase: "WaitingPromotion", Weight: 50, FailedChecks: 1,
				Threshold: 5, PendingRequest: "promote (promote-1)"},
		},
		{
			name: "handled request",
			cd:   newCanary(withStatus(flaggerv1.CanaryPhaseFailed, 0, 0), withRequest("abort", "abort-1", "abort-1")),
			want: row{Namespace: "test", Name: "podinfo", Phase: "Failed", Threshold: 5},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, rowOf(tt.cd))
		})
	}
}

func TestGatesOf(t *testing.T) {
	gates := []canaryOpt{
		withGate("rollout", flaggerv1.ConfirmRolloutHook),
		withGate("load", flaggerv1.RolloutHook),
		withGate("traffic", flaggerv1.ConfirmTrafficIncreaseHook),
		withGate("promotion", flaggerv1.ConfirmPromotionHook),
	}
	tests := []struct {
		phase   flaggerv1.CanaryPhase
		waiting []string
	}{
		{flaggerv1.CanaryPhaseWaiting, []string{"rollout"}},
		{flaggerv1.CanaryPhaseProgressing, nil},
		{flaggerv1.CanaryPhaseWaitingPromotion, []string{"promotion"}},
		{flaggerv1.CanaryPhaseSucceeded, nil},
	}
	for _, tt := range tests {
		t.Run(string(tt.phase), func(t *testing.T) {
			got := gatesOf(newCanary(append(gates, withStatus(tt.phase, 0, 0))...))
			var names, waiting []string
			for _, g := range got {
				names = append(names, g.Name)
				if g.Waiting {
					waiting = append(waiting, g.Name)
				}
			}
			assert.Equal(t, []string{"rollout", "traffic", "promotion"}, names, "the confirm gates only")
			assert.Equal(t, tt.waiting, waiting)
		})
	}
}

func TestEventsOf(t *testing.T) {
	old := *newEvent("a", "Normal", "Synced", "first", t0.Add(-time.Minute))
	recent := *newEvent("b", "Warning", "Synced", "second", t0)
	byEventTime := corev1.Event{Message: "eventTime", EventTime: metav1.NewMicroTime(t0.Add(-30 * time.Second))}
	got := eventsOf([]corev1.Event{recent, old, byEventTime}, 2)
	require.Len(t, got, 2, "the last n")
	assert.Equal(t, "eventTime", got[0].Message)
	assert.Equal(t, "second", got[1].Message)
}

func TestAge(t *testing.T) {
	tests := []struct {
		ago  time.Duration
		want string
	}{
		{0, "0s"}, {-time.Second, "0s"}, {90 * time.Second, "90s"}, {5 * time.Minute, "5m"},
		{3 * time.Hour, "3h"}, {72 * time.Hour, "3d"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, age(t0.Add(-tt.ago), t0), tt.ago)
	}
	assert.Equal(t, "-", age(time.Time{}, t0))
}

func TestRenderRows(t *testing.T) {
	rows := []row{
		{Namespace: "a", Name: "podinfo", Phase: "Progressing", Weight: 10, FailedChecks: 1, Threshold: 5,
			Iterations: 0, LastTransition: t0.Add(-time.Minute), PendingRequest: "abort (abort-1)"},
		{Namespace: "b", Name: "web", Phase: "Failed", Threshold: 1},
	}
	tests := []struct {
		name          string
		allNamespaces bool
		color         bool
		want          string
	}{
		{
			name: "one namespace",
			want: "NAME      PHASE         WEIGHT   FAILED   ITERATIONS   LAST TRANSITION   REQUEST\n" +
				"podinfo   Progressing   10       1/5      0            60s               abort (abort-1)\n" +
				"web       Failed        0        0/1      0            -                 -\n",
		},
		{
			name: "all namespaces", allNamespaces: true,
			want: "NAMESPACE   NAME      PHASE         WEIGHT   FAILED   ITERATIONS   LAST TRANSITION   REQUEST\n" +
				"a           podinfo   Progressing   10       1/5      0            60s               abort (abort-1)\n" +
				"b           web       Failed        0        0/1      0            -                 -\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, renderRows(rows, tt.allNamespaces, tt.color, t0))
		})
	}
}

func TestPaint(t *testing.T) {
	assert.Equal(t, "Failed", paint("Failed", false), "no colour off a terminal")
	assert.Equal(t, red+"Failed"+reset, paint("Failed", true))
	assert.Equal(t, yellow+"WaitingPromotion"+reset, paint("WaitingPromotion", true))
	assert.Equal(t, "Progressing", paint("Progressing", true))
}
