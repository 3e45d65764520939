package router

import (
	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// H2CAppProtocol is the appProtocol of the backend Services of a GRPCRoute
// canary: cleartext HTTP/2, the standard value (KEP-3726) that tells a
// Gateway to speak HTTP/2 to the pods without TLS, which gRPC needs.
const H2CAppProtocol = "kubernetes.io/h2c"

// RouteKind returns the kind of the route a canary's traffic goes through:
// spec.service.route.kind, HTTPRoute by default.
func RouteKind(cd *flaggerv1.Canary) flaggerv1.RouteKind {
	if r := cd.Spec.Service.Route; r != nil && r.Kind != "" {
		return r.Kind
	}
	return flaggerv1.HTTPRouteKind
}

// RouteName returns the name of the live route: spec.service.route.name,
// the apex Service name by default (Flagger's only choice).
func RouteName(cd *flaggerv1.Canary) string {
	if r := cd.Spec.Service.Route; r != nil && r.Name != "" {
		return r.Name
	}
	apex, _, _ := cd.GetServiceNames()
	return apex
}

// RouteTemplate returns the name of the route template, "" without one.
func RouteTemplate(cd *flaggerv1.Canary) string {
	if r := cd.Spec.Service.Route; r != nil && r.TemplateRef != nil {
		return r.TemplateRef.Name
	}
	return ""
}

// strictOwnership reports whether an existing route at the live name must
// already be controlled by the canary. Flagger adopts (and overwrites) a
// route named after the service, and a Flagger manifest keeps that; unlike
// Flagger, a canary that sets spec.service.route (Serin only) never
// overwrites a route it does not control (flagger#1889: clashes with
// existing routes).
func strictOwnership(cd *flaggerv1.Canary) bool {
	return cd.Spec.Service.Route != nil
}

// servicePortAppProtocol is the appProtocol of the generated Services'
// port: spec.service.appProtocol, else kubernetes.io/h2c for a GRPCRoute
// canary (a Gateway would otherwise speak HTTP/1.1 to a gRPC server).
func servicePortAppProtocol(cd *flaggerv1.Canary) *string {
	if p := cd.Spec.Service.AppProtocol; p != nil {
		return ptrTo(*p)
	}
	if RouteKind(cd) == flaggerv1.GRPCRouteKind {
		return ptrTo(H2CAppProtocol)
	}
	return nil
}
