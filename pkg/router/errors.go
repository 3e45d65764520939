package router

import (
	"errors"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
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
	// Kind is the kind of the route, HTTPRoute or GRPCRoute.
	Kind string
	// Route is the route as name.namespace.
	Route string
	// Parent is the parent reference as [namespace/]name.
	Parent string
	// Condition is the type of the failed condition: Accepted, or
	// ResolvedRefs (GRPCRoutes).
	Condition string
	// Status is the status of the parent's failed condition.
	Status metav1.ConditionStatus
	// Reason is the reason of the parent's failed condition.
	Reason string
	// ObservedGeneration is the route generation the condition was computed for.
	ObservedGeneration int64
	// Generation is the route's current generation.
	Generation int64
}

// Error words the failure like Flagger's readiness gate does, naming the
// condition when it is not Accepted.
func (e *RouteNotAcceptedError) Error() string {
	cond := ""
	if e.Condition != "" && e.Condition != string(gatewayv1.RouteConditionAccepted) {
		cond = e.Condition + " "
	}
	return fmt.Sprintf("%s %s parent %s is not ready (%sstatus: %s, reason: %s, observed generation: %d, current generation: %d)",
		e.Kind, e.Route, e.Parent, cond, e.Status, e.Reason, e.ObservedGeneration, e.Generation)
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

// ForeignRouteError reports that the live route name of a canary that sets
// spec.service.route is taken by a route the canary does not control. The
// router never overwrites it; deleting or renaming either side resolves it
// (the route informer wakes the canary). It matches ErrNotControlled.
type ForeignRouteError struct {
	// Kind and Route (name.namespace) name the route.
	Kind, Route string
	// Owner says who holds it: its controller ("Canary podinfo-v2"), else
	// the field managers that wrote its spec ("kubectl-client-side-apply,
	// argocd-controller"), else "unknown".
	Owner string
}

// Error implements error.
func (e *ForeignRouteError) Error() string {
	return fmt.Sprintf("spec.service.route.name: %s %s exists and is not controlled by this canary (owner: %s); "+
		"choose another route.name or delete that route", e.Kind, e.Route, e.Owner)
}

// Is makes errors.Is(err, ErrNotControlled) true.
func (e *ForeignRouteError) Is(target error) bool { return target == ErrNotControlled }

// Permanent implements syncerr.Refusal: the canary waits for a change.
func (e *ForeignRouteError) Permanent() bool { return true }
