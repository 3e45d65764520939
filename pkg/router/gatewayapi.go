package router

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/owners"
	"github.com/serin-dev/serin/pkg/syncerr"
)

// GatewayAPIRouter splits a canary's traffic with a Gateway API route in
// the Canary's namespace, whose backends are the primary and canary
// Services: an HTTPRoute by default, a GRPCRoute with
// spec.service.route.kind (gatewayapi:v1 only), named after the apex
// Service or spec.service.route.name, generated from the Canary's service
// fields or rendered from spec.service.route.templateRef. One
// implementation serves both gatewayapi:v1 and gatewayapi:v1beta1; build it
// with New.
//
// Unlike Flagger's v1beta1 router, the v1beta1 flavour is not a reduced
// copy: timeouts, CORS and the acceptance gate work the same in both,
// since both API versions serve the same route type.
type GatewayAPIRouter struct {
	http routeFlow
	// grpc is nil when GRPCRoutes cannot be served; noGRPC says why.
	grpc   routeFlow
	noGRPC string
}

var _ Interface = (*GatewayAPIRouter)(nil)

// flow returns the flow of the canary's route kind.
func (r *GatewayAPIRouter) flow(cd *flaggerv1.Canary) (routeFlow, error) {
	if RouteKind(cd) != flaggerv1.GRPCRouteKind {
		return r.http, nil
	}
	if r.grpc == nil {
		return nil, syncerr.Invalid("spec.service.route.kind", "GRPCRoute %s", r.noGRPC)
	}
	return r.grpc, nil
}

// Reconcile creates the route, controlled by the Canary and owned by the
// target too (target.Owner), with all traffic on the primary, or brings an
// existing one back to the Canary's spec (and template); a route the Canary
// controls gets the target's owner reference when it lacks it (created by
// an older Serin, or by Flagger).
// The live weights and mirror are read back and kept, so drift correction
// never moves traffic; unlike Flagger, which rewrote weights to 100/0
// whenever anything else had drifted.
//
// An existing route without a controller is adopted as it is (its owners
// are left alone, so deleting the Canary does not delete it) unless the
// canary sets spec.service.route (see strictOwnership); a route controlled
// by another object is an ErrNotControlled error.
func (r *GatewayAPIRouter) Reconcile(ctx context.Context, cd *flaggerv1.Canary, target Target) error {
	if len(cd.Spec.Service.GatewayRefs) == 0 {
		return syncerr.Permanent(fmt.Errorf("spec.service.gatewayRefs: %w", ErrNoGatewayRefs))
	}
	if err := validOwner(target); err != nil {
		return err
	}
	f, err := r.flow(cd)
	if err != nil {
		return err
	}
	if err := f.reconcile(ctx, cd, target); err != nil {
		return err
	}
	// Once the live route is right, the routes of an earlier name or kind
	// go. Unlike Flagger, whose route name never changes.
	for _, other := range []routeFlow{r.http, r.grpc} {
		keep := ""
		if other == f {
			keep = RouteName(cd)
		}
		if other != nil {
			if err := other.prune(ctx, cd, keep); err != nil {
				return err
			}
		}
	}
	return nil
}

// GetRoutes reads the traffic split from the cached route. It returns a
// *RouteNotAcceptedError while a parent has not accepted the current
// generation (GRPCRoutes: or not resolved its references; see
// checkParents), and an error when no rule splits traffic between the
// primary and the canary.
func (r *GatewayAPIRouter) GetRoutes(ctx context.Context, cd *flaggerv1.Canary) (Routes, error) {
	f, err := r.flow(cd)
	if err != nil {
		return Routes{}, err
	}
	return f.getRoutes(ctx, cd)
}

// SetRoutes applies a traffic split to the existing route (Reconcile
// creates it), writing only when the desired route differs from the live
// one. A templated route is rendered from the template as it is now.
func (r *GatewayAPIRouter) SetRoutes(ctx context.Context, cd *flaggerv1.Canary, routes Routes) error {
	if routes.Primary < 0 || routes.Canary < 0 || routes.Baseline < 0 {
		return fmt.Errorf("invalid weights primary=%d canary=%d baseline=%d", routes.Primary, routes.Canary, routes.Baseline)
	}
	f, err := r.flow(cd)
	if err != nil {
		return err
	}
	return f.setRoutes(ctx, cd, routes)
}

// Finalize does nothing, as in Flagger: a route the router created goes
// with the Canary through its owner reference (once the target's is
// removed, see pkg/owners), and an adopted route is left as it is.
func (r *GatewayAPIRouter) Finalize(context.Context, *flaggerv1.Canary) error { return nil }

// RewriteOwners applies rw to the owner references of the route cd
// controls, writing it if that changes them; an adopted route is left
// alone.
func (r *GatewayAPIRouter) RewriteOwners(ctx context.Context, cd *flaggerv1.Canary, rw owners.Rewrite) error {
	f, err := r.flow(cd)
	if err != nil {
		return nil // no route of that kind can exist
	}
	return f.rewriteOwners(ctx, cd, rw)
}

// newHTTPFlow is the HTTPRoute flow over a store of either API version.
func newHTTPFlow(store routeStore[*gatewayv1.HTTPRoute]) routeFlow {
	return &kindRouter[*gatewayv1.HTTPRoute, gatewayv1.HTTPRouteSpec]{
		kind:  "HTTPRoute",
		store: store,
		newRoute: func(m metav1.ObjectMeta, s gatewayv1.HTTPRouteSpec) *gatewayv1.HTTPRoute {
			return &gatewayv1.HTTPRoute{ObjectMeta: m, Spec: s}
		},
		spec: func(r *gatewayv1.HTTPRoute) *gatewayv1.HTTPRouteSpec { return &r.Spec },
		state: func(r *gatewayv1.HTTPRoute) routeState {
			return routeState{Kind: "HTTPRoute", Name: r.Name + "." + r.Namespace, Generation: r.Generation,
				ParentRefs: r.Spec.ParentRefs, Parents: r.Status.Parents}
		},
		desired: func(cd *flaggerv1.Canary, tmpl *gatewayv1.HTTPRouteSpec, routes Routes) (gatewayv1.HTTPRouteSpec, error) {
			if tmpl != nil {
				return RenderHTTPRouteSpec(cd, tmpl, routes)
			}
			return DesiredHTTPRouteSpec(cd, routes)
		},
		routes: func(cd *flaggerv1.Canary, spec *gatewayv1.HTTPRouteSpec) (Routes, bool) {
			_, primary, canary := cd.GetServiceNames()
			return routesFromSpec(spec, primary, canary, BaselineServiceName(cd))
		},
		equal: specEqual,
	}
}

// newGRPCFlow is the GRPCRoute flow (gateway.networking.k8s.io/v1 only).
func newGRPCFlow(store routeStore[*gatewayv1.GRPCRoute]) routeFlow {
	return &kindRouter[*gatewayv1.GRPCRoute, gatewayv1.GRPCRouteSpec]{
		kind:  "GRPCRoute",
		store: store,
		newRoute: func(m metav1.ObjectMeta, s gatewayv1.GRPCRouteSpec) *gatewayv1.GRPCRoute {
			return &gatewayv1.GRPCRoute{ObjectMeta: m, Spec: s}
		},
		spec: func(r *gatewayv1.GRPCRoute) *gatewayv1.GRPCRouteSpec { return &r.Spec },
		state: func(r *gatewayv1.GRPCRoute) routeState {
			return routeState{Kind: "GRPCRoute", Name: r.Name + "." + r.Namespace, Generation: r.Generation,
				ParentRefs: r.Spec.ParentRefs, Parents: r.Status.Parents, Resolved: true}
		},
		desired: func(cd *flaggerv1.Canary, tmpl *gatewayv1.GRPCRouteSpec, routes Routes) (gatewayv1.GRPCRouteSpec, error) {
			if tmpl != nil {
				return RenderGRPCRouteSpec(cd, tmpl, routes)
			}
			return DesiredGRPCRouteSpec(cd, routes)
		},
		routes: func(cd *flaggerv1.Canary, spec *gatewayv1.GRPCRouteSpec) (Routes, bool) {
			_, primary, canary := cd.GetServiceNames()
			return routesFromGRPCSpec(spec, primary, canary, BaselineServiceName(cd))
		},
		equal: grpcSpecEqual,
	}
}
