package controller

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/tools/cache"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/router"
)

// Drift repair. An idle canary (Initialized, Succeeded, Failed) is synced
// only when an informer event wakes it, so that a fleet of idle canaries
// costs no API request; its sync then re-creates or corrects what the
// canary manages (analysis: EnsurePrimary, ReconcileRouting). So every
// object an idle sync repairs wakes its canary when someone else deletes or
// changes it:
//
//   - the primary Deployment or DaemonSet: their handlers (wakeForDeployment,
//     by controller reference);
//   - the apex, -primary and -canary Services: serviceUpdated and
//     serviceDeleted, found by name (serviceIndex);
//   - the route (HTTPRoute or GRPCRoute): the route informers, by
//     controller reference (enqueueOwner) and by name (routeIndex), which
//     also wakes a canary whose route template changed or whose route name
//     a foreign route no longer holds;
//   - the primary HorizontalPodAutoscaler: its deletion only, since an idle
//     sync re-creates a missing copy but leaves an existing one alone
//     (autoscaling changes ship with a release), and the HPA controller
//     writes every HPA's status every 15 seconds; the primary KEDA
//     ScaledObject likewise (KEDA writes their status too);
//
// Unlike Flagger, which re-reads and re-applies them on every interval of
// every canary, drift is repaired when it happens, not up to an interval
// later, and an idle canary costs nothing in between.

// serviceIndex indexes canaries by "<namespace>/<name>" of each Service
// they manage (apex, -primary, -canary). Services are found by name, as the
// router finds them, rather than by owner reference: an apex Service that
// the user created is adopted, not owned.
const serviceIndex = "service"

func indexByService(obj any) ([]string, error) {
	cd, ok := obj.(*flaggerv1.Canary)
	if !ok {
		return nil, nil
	}
	apex, primary, canary := cd.GetServiceNames()
	return []string{cd.Namespace + "/" + apex, cd.Namespace + "/" + primary, cd.Namespace + "/" + canary}, nil
}

// serviceUpdated wakes the canary of a Service whose spec or metadata
// changed: a selector reset by hand sends the apex's traffic elsewhere. A
// status-only update does not wake it.
func (c *Controller) serviceUpdated(oldObj, newObj any) {
	old, okOld := oldObj.(*corev1.Service)
	cur, okCur := newObj.(*corev1.Service)
	if !okOld || !okCur {
		return
	}
	if equality.Semantic.DeepEqual(old.Spec, cur.Spec) && equality.Semantic.DeepEqual(old.Labels, cur.Labels) &&
		equality.Semantic.DeepEqual(old.Annotations, cur.Annotations) &&
		equality.Semantic.DeepEqual(old.OwnerReferences, cur.OwnerReferences) {
		return
	}
	c.enqueueByService(cur.Namespace, cur.Name)
}

// serviceDeleted wakes the canary of a deleted Service.
func (c *Controller) serviceDeleted(obj any) {
	if key, ok := c.keyOf(obj); ok {
		c.enqueueByService(key.Namespace, key.Name)
	}
}

// enqueueByService wakes the canaries that manage the Service
// namespace/name.
func (c *Controller) enqueueByService(namespace, name string) {
	objs, err := c.canaryIndexer.ByIndex(serviceIndex, namespace+"/"+name)
	if err != nil {
		c.log.WithError(err).Warn("Cannot look up canaries by service")
		return
	}
	for _, obj := range objs {
		c.enqueue(obj)
	}
}

// routeIndex indexes canaries by "<namespace>/<kind>/<name>" of their live
// route and of their route template (spec.service.route), so that a route
// event finds the canaries it concerns without a scan: a template edited in
// Git reaches the live route when the canary next reconciles its routing,
// with no polling, and a canary refused because a foreign route held its
// route name is woken when that route goes.
const routeIndex = "route"

func indexByRoute(obj any) ([]string, error) {
	cd, ok := obj.(*flaggerv1.Canary)
	if !ok {
		return nil, nil
	}
	kind := string(router.RouteKind(cd))
	keys := []string{routeKey(cd.Namespace, kind, router.RouteName(cd))}
	if t := router.RouteTemplate(cd); t != "" {
		keys = append(keys, routeKey(cd.Namespace, kind, t))
	}
	return keys, nil
}

func routeKey(namespace, kind, name string) string {
	return namespace + "/" + kind + "/" + name
}

// routeEvent wakes the canary that controls a route, and the canaries that
// name it as their live route or their template.
func (c *Controller) routeEvent(obj any) {
	c.enqueueOwner(obj)
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	var kind flaggerv1.RouteKind
	switch obj.(type) {
	case *gatewayv1.HTTPRoute, *gatewayv1beta1.HTTPRoute:
		kind = flaggerv1.HTTPRouteKind
	case *gatewayv1.GRPCRoute:
		kind = flaggerv1.GRPCRouteKind
	default:
		return
	}
	o, err := meta.Accessor(obj)
	if err != nil {
		return
	}
	objs, err := c.canaryIndexer.ByIndex(routeIndex, routeKey(o.GetNamespace(), string(kind), o.GetName()))
	if err != nil {
		c.log.WithError(err).Warn("Cannot look up canaries by route")
		return
	}
	for _, cd := range objs {
		c.enqueue(cd)
	}
}
