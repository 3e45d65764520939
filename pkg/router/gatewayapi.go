package router

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/owners"
	"github.com/serin-dev/serin/pkg/syncerr"
)

// GatewayAPIRouter splits a canary's traffic with a Gateway API HTTPRoute
// named after the apex Service, in the Canary's namespace, whose backends
// are the primary and canary Services. One implementation serves both
// gatewayapi:v1 and gatewayapi:v1beta1; build it with New.
//
// Unlike Flagger's v1beta1 router, the v1beta1 flavour is not a reduced
// copy: timeouts, CORS and the acceptance gate work the same in both,
// since both API versions serve the same route type.
type GatewayAPIRouter struct {
	routes routeClient
}

var _ Interface = (*GatewayAPIRouter)(nil)

// Reconcile creates the HTTPRoute, controlled by the Canary and owned by
// the target too (target.Owner), with all traffic on the primary, or brings
// an existing one back to the Canary's spec; a route the Canary controls
// gets the target's owner reference when it lacks it (created by an older
// Serin, or by Flagger).
// The live weights and mirror are read back and kept, so drift correction
// never moves traffic; unlike Flagger, which rewrote weights to 100/0
// whenever anything else had drifted.
//
// An existing route without a controller is adopted as it is (its owners
// are left alone, so deleting the Canary does not delete it); a route
// controlled by another object is an ErrNotControlled error.
func (r *GatewayAPIRouter) Reconcile(ctx context.Context, cd *flaggerv1.Canary, target Target) error {
	if len(cd.Spec.Service.GatewayRefs) == 0 {
		return syncerr.Permanent(fmt.Errorf("spec.service.gatewayRefs: %w", ErrNoGatewayRefs))
	}
	if err := validOwner(target); err != nil {
		return err
	}
	apex, primary, canary := cd.GetServiceNames()
	live, err := r.routes.get(cd.Namespace, apex)
	if apierrors.IsNotFound(err) {
		return r.create(ctx, cd, apex, target.Owner)
	}
	if err != nil {
		return fmt.Errorf("HTTPRoute %s.%s get error: %w", apex, cd.Namespace, err)
	}
	routes, found := routesFromSpec(&live.Spec, primary, canary, BaselineServiceName(cd))
	if !found {
		// A rule that lost its primary or canary backend (another writer)
		// is rebuilt at the weight the status records, so that a run in
		// progress keeps its weight instead of falling back to 0.
		w := min(max(cd.Status.CanaryWeight, 0), 100)
		routes = Routes{Primary: 100 - w, Canary: w}
	}
	refs := live.OwnerReferences
	if metav1.IsControlledBy(live, cd) {
		refs = owners.AddTarget(target.Owner)(refs)
	}
	return r.apply(ctx, cd, live, routes, refs)
}

// GetRoutes reads the traffic split from the cached route. It returns a
// *RouteNotAcceptedError while a parent has not accepted the current
// generation (see checkAccepted), and an error when no rule splits
// traffic between the primary and the canary.
func (r *GatewayAPIRouter) GetRoutes(_ context.Context, cd *flaggerv1.Canary) (Routes, error) {
	apex, primary, canary := cd.GetServiceNames()
	live, err := r.routes.get(cd.Namespace, apex)
	if err != nil {
		return Routes{}, fmt.Errorf("HTTPRoute %s.%s get error: %w", apex, cd.Namespace, err)
	}
	if err := checkAccepted(live); err != nil {
		return Routes{}, err
	}
	routes, found := routesFromSpec(&live.Spec, primary, canary, BaselineServiceName(cd))
	if !found {
		return Routes{}, fmt.Errorf("HTTPRoute %s.%s has no rule with backends %s and %s", apex, cd.Namespace, primary, canary)
	}
	return routes, nil
}

// SetRoutes applies a traffic split to the existing route (Reconcile
// creates it), writing only when the desired route differs from the live
// one.
func (r *GatewayAPIRouter) SetRoutes(ctx context.Context, cd *flaggerv1.Canary, routes Routes) error {
	if routes.Primary < 0 || routes.Canary < 0 || routes.Baseline < 0 {
		return fmt.Errorf("invalid weights primary=%d canary=%d baseline=%d", routes.Primary, routes.Canary, routes.Baseline)
	}
	apex, _, _ := cd.GetServiceNames()
	live, err := r.routes.get(cd.Namespace, apex)
	if err != nil {
		return fmt.Errorf("HTTPRoute %s.%s get error: %w", apex, cd.Namespace, err)
	}
	if err := r.apply(ctx, cd, live, routes, live.OwnerReferences); err != nil {
		return fmt.Errorf("%w while setting weights", err)
	}
	return nil
}

// Finalize does nothing, as in Flagger: a route the router created goes
// with the Canary through its owner reference (once the target's is
// removed, see pkg/owners), and an adopted route is left as it is.
func (r *GatewayAPIRouter) Finalize(context.Context, *flaggerv1.Canary) error { return nil }

func (r *GatewayAPIRouter) create(ctx context.Context, cd *flaggerv1.Canary, name string, target metav1.OwnerReference) error {
	spec, err := DesiredHTTPRouteSpec(cd, Routes{Primary: 100})
	if err != nil {
		return fmt.Errorf("HTTPRoute %s.%s not created: %w", name, cd.Namespace, err)
	}
	labels, annotations := desiredRouteMetadata(cd)
	route := &gatewayv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{
			Name:            name,
			Namespace:       cd.Namespace,
			Labels:          labels,
			Annotations:     annotations,
			OwnerReferences: owners.Of(cd, target),
		},
		Spec: spec,
	}
	if err := r.routes.create(ctx, route); err != nil {
		return fmt.Errorf("HTTPRoute %s.%s create error: %w", name, cd.Namespace, err)
	}
	return nil
}

// apply makes live match the Canary with the given split and owner
// references, updating it only when the spec or the metadata differs.
func (r *GatewayAPIRouter) apply(ctx context.Context, cd *flaggerv1.Canary, live *gatewayv1.HTTPRoute, routes Routes,
	refs []metav1.OwnerReference) error {
	if owner := metav1.GetControllerOf(live); owner != nil && owner.UID != cd.UID {
		return fmt.Errorf("HTTPRoute %s.%s: %w %s %s", live.Name, live.Namespace, ErrNotControlled, owner.Kind, owner.Name)
	}
	spec, err := DesiredHTTPRouteSpec(cd, routes)
	if err != nil {
		return fmt.Errorf("HTTPRoute %s.%s not updated: %w", live.Name, live.Namespace, err)
	}
	labels, annotations := desiredRouteMetadata(cd)
	labels = mergeMetadata(live.Labels, labels)
	annotations = mergeMetadata(live.Annotations, annotations)
	if specEqual(&live.Spec, &spec) &&
		equality.Semantic.DeepEqual(live.Labels, labels) &&
		equality.Semantic.DeepEqual(live.Annotations, annotations) &&
		equality.Semantic.DeepEqual(live.OwnerReferences, refs) {
		return nil
	}
	route := live.DeepCopy()
	route.Spec = spec
	route.Labels = labels
	route.Annotations = annotations
	route.OwnerReferences = refs
	if err := r.routes.update(ctx, route); err != nil {
		return fmt.Errorf("HTTPRoute %s.%s update error: %w", live.Name, live.Namespace, err)
	}
	return nil
}
