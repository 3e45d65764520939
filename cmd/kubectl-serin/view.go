package main

import (
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/serin-dev/serin/pkg/analysis"
	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// The views are what the commands print: computed from the API objects by
// pure functions, rendered as text, JSON or YAML from the same value.

// row is one canary in `list`.
type row struct {
	Namespace      string    `json:"namespace"`
	Name           string    `json:"name"`
	Phase          string    `json:"phase"`
	Weight         int       `json:"weight"`
	FailedChecks   int       `json:"failedChecks"`
	Threshold      int       `json:"threshold"`
	Iterations     int       `json:"iterations"`
	LastTransition time.Time `json:"lastTransitionTime,omitzero"`
	PendingRequest string    `json:"pendingRequest,omitempty"`
}

// release is one canary in `get`.
type release struct {
	row
	Revision           string `json:"revision,omitempty"`
	PromotedRevision   string `json:"promotedRevision,omitempty"`
	LastHandledRequest string `json:"lastHandledRequest,omitempty"`
	Run                int    `json:"run,omitempty"`
	Paused             bool   `json:"paused,omitempty"`
	// Checks are the latest result of each metric and webhook of the run.
	Checks    []flaggerv1.CheckResult `json:"checks,omitempty"`
	Workloads []workload              `json:"workloads"`
	Route     *route                  `json:"route,omitempty"`
	Gates     []gate                  `json:"gates,omitempty"`
	Events    []event                 `json:"events,omitempty"`
}

// workload is the primary or the target Deployment.
type workload struct {
	Role    string   `json:"role"`
	Name    string   `json:"name"`
	Ready   int32    `json:"ready"`
	Desired int32    `json:"desired"`
	Images  []string `json:"images,omitempty"`
	Missing bool     `json:"missing,omitempty"`
}

// route is the HTTPRoute as the API server has it.
type route struct {
	Name     string    `json:"name"`
	Backends []backend `json:"backends"`
	Parents  []parent  `json:"parents,omitempty"`
	Missing  bool      `json:"missing,omitempty"`
}

// backend is a backend of the route's rules with its weight.
type backend struct {
	Name   string `json:"name"`
	Weight int32  `json:"weight"`
}

// parent is a parent Gateway's view of the route.
type parent struct {
	Name         string `json:"name"`
	Accepted     string `json:"accepted"`
	ResolvedRefs string `json:"resolvedRefs"`
}

// gate is a confirm gate of the spec.
type gate struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	Waiting bool   `json:"waiting"`
}

// event is an event of the canary.
type event struct {
	Time    time.Time `json:"time"`
	Type    string    `json:"type"`
	Reason  string    `json:"reason"`
	Message string    `json:"message"`
	Count   int32     `json:"count,omitempty"`
}

// rowOf summarises a canary.
func rowOf(cd *flaggerv1.Canary) row {
	phase := string(cd.Status.Phase)
	if phase == "" {
		phase = "-"
	}
	return row{
		Namespace:      cd.Namespace,
		Name:           cd.Name,
		Phase:          phase,
		Weight:         cd.Status.CanaryWeight,
		FailedChecks:   cd.Status.FailedChecks,
		Threshold:      cd.GetAnalysisThreshold(),
		Iterations:     cd.Status.Iterations,
		LastTransition: cd.Status.LastTransitionTime.Time,
		PendingRequest: pendingRequest(cd),
	}
}

// pendingRequest names the request the operator has not handled yet, as
// "action (id)".
func pendingRequest(cd *flaggerv1.Canary) string {
	id := analysis.PendingRequest(cd)
	if id == "" {
		return ""
	}
	return cd.Annotations[analysis.RequestAnnotation] + " (" + id + ")"
}

// gatesOf lists the confirm gates of the spec, and marks those the phase
// says the canary waits on. A confirm-traffic-increase gate holds a
// Progressing canary between steps, which the status does not tell apart
// from an ordinary interval: the events do ("waiting for traffic increase").
func gatesOf(cd *flaggerv1.Canary) []gate {
	a := cd.GetAnalysis()
	if a == nil {
		return nil
	}
	var gates []gate
	for _, h := range a.Webhooks {
		var waiting bool
		switch h.Type {
		case flaggerv1.ConfirmRolloutHook:
			waiting = cd.Status.Phase == flaggerv1.CanaryPhaseWaiting
		case flaggerv1.ConfirmPromotionHook:
			waiting = cd.Status.Phase == flaggerv1.CanaryPhaseWaitingPromotion
		case flaggerv1.ConfirmTrafficIncreaseHook:
		default:
			continue
		}
		gates = append(gates, gate{Name: h.Name, Type: string(h.Type), Waiting: waiting})
	}
	return gates
}

// eventsOf returns the last n events, oldest first.
func eventsOf(items []corev1.Event, n int) []event {
	events := make([]event, 0, len(items))
	for _, e := range items {
		events = append(events, event{Time: lastSeen(e), Type: e.Type, Reason: e.Reason, Message: e.Message, Count: e.Count})
	}
	slices.SortStableFunc(events, func(a, b event) int { return a.Time.Compare(b.Time) })
	if len(events) > n {
		events = events[len(events)-n:]
	}
	return events
}

// lastSeen is when an event last happened: its lastTimestamp, else its
// eventTime (events.k8s.io), else its first timestamp or creation.
func lastSeen(e corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	case !e.FirstTimestamp.IsZero():
		return e.FirstTimestamp.Time
	}
	return e.CreationTimestamp.Time
}
