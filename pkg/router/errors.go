package router

import (
	"errors"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var (
	// ErrRouteNotAccepted is matched (errors.Is) by every
	// *RouteNotAcceptedError.
	ErrRouteNotAccepted = errors.New("route not accepted by its parent")

	// ErrUnsupportedProvider is returned by New for a provider it cannot
	// route with.
	ErrUnsupportedProvider = errors.New("unsupported mesh provider")

	// ErrNoGatewayRefs is wrapped by the permanent error returned when a
	// Gateway API canary has no spec.service.gatewayRefs: the route would
	// attach to nothing.
	ErrNoGatewayRefs = errors.New("at least one Gateway is required with the Gateway API provider")

	// ErrNotControlled is returned when the route to write is controlled by
	// another object (typically another Canary with the same service name).
	ErrNotControlled = errors.New("object is controlled by another owner")
)

// RouteNotAcceptedError reports that a parent (Gateway, or Service with
// GAMMA) has not accepted the current generation of a route. Traffic must
// not be shifted until it has: the parent may still be serving an older
// split.
type RouteNotAcceptedError struct {
	// Route is the route as name.namespace.
	Route string
	// Parent is the parent reference as [namespace/]name.
	Parent string
	// Status is the status of the parent's Accepted condition.
	Status metav1.ConditionStatus
	// Reason is the reason of the parent's Accepted condition.
	Reason string
	// ObservedGeneration is the route generation the condition was computed for.
	ObservedGeneration int64
	// Generation is the route's current generation.
	Generation int64
}

// Error words the failure like Flagger's readiness gate does.
func (e *RouteNotAcceptedError) Error() string {
	return fmt.Sprintf("HTTPRoute %s parent %s is not ready (status: %s, reason: %s, observed generation: %d, current generation: %d)",
		e.Route, e.Parent, e.Status, e.Reason, e.ObservedGeneration, e.Generation)
}

// Is makes errors.Is(err, ErrRouteNotAccepted) true.
func (e *RouteNotAcceptedError) Is(target error) bool { return target == ErrRouteNotAccepted }

// UnsupportedError reports a part of the Canary that the generated route
// cannot express. The route builder skips the part (a whole match request,
// never a single condition of it, so that no match is ever widened) and the
// router refuses to write a route built with skips.
type UnsupportedError struct {
	// Field is the path of the offending field, e.g. spec.service.match[0].method.
	Field string
	// Reason says what is not supported.
	Reason string
}

// Error implements error.
func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("%s: %s", e.Field, e.Reason)
}

// Permanent implements syncerr.Refusal: only a change of the Canary helps.
func (e *UnsupportedError) Permanent() bool { return true }
