package router

import (
	"errors"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// DesiredGRPCRouteSpec builds the spec of the GRPCRoute for cd carrying the
// given traffic split, in the shape of DesiredHTTPRouteSpec: the weighted
// rule (service matches intersected with the A/B conditions, to the primary,
// the canary and maybe the baseline), then with A/B conditions a fallback
// rule to the primary. It is pure and deterministic.
//
// What a GRPCRoute cannot express is refused with one *UnsupportedError per
// field, as for HTTPRoutes: matches on an HTTP method, query parameters or
// a uri that is not a gRPC path (see mapGRPCMatches); service.rewrite and
// service.corsPolicy (no such filters); service.timeout and backendTimeout
// (GRPCRoute rules have no timeouts); analysis.sessionAffinity (cookies are
// a browser's: gRPC clients keep none, and GRPCRoute's sessionPersistence
// is experimental-channel only).
func DesiredGRPCRouteSpec(cd *flaggerv1.Canary, routes Routes) (gatewayv1.GRPCRouteSpec, error) {
	svc := &cd.Spec.Service
	_, primary, canary := cd.GetServiceNames()

	svcMatches, errs := mapGRPCMatches("spec.service.match", svc.Match, false)
	filters, ferrs := grpcRuleFilters(svc)
	errs = append(append(errs, ferrs...), grpcRefusals(cd)...)

	analysis := cd.GetAnalysis()
	weightedMatches, ab := svcMatches, false
	if analysis != nil && len(analysis.Match) > 0 {
		abMatches, aerrs := mapGRPCMatches("spec.analysis.match", analysis.Match, true)
		errs = append(errs, aerrs...)
		if len(abMatches) > 0 {
			weightedMatches, ab = mergeGRPCMatches(abMatches, svcMatches), true
		}
	}
	weighted := gatewayv1.GRPCRouteRule{
		Matches:     copyGRPCMatches(weightedMatches),
		Filters:     copyGRPCFilters(filters),
		BackendRefs: grpcSplit(cd, svc.Port, routes, 1),
	}
	if routes.Mirrored {
		weighted.Filters = append(weighted.Filters, grpcMirrorFilter(canary, svc.Port, analysis))
	}
	rules := []gatewayv1.GRPCRouteRule{weighted}
	if ab {
		rules = append(rules, gatewayv1.GRPCRouteRule{
			Matches:     copyGRPCMatches(svcMatches),
			Filters:     copyGRPCFilters(filters),
			BackendRefs: []gatewayv1.GRPCBackendRef{grpcBackend(primary, svc.Port, 100)},
		})
	}

	spec := gatewayv1.GRPCRouteSpec{Rules: rules}
	for i := range svc.GatewayRefs {
		spec.ParentRefs = append(spec.ParentRefs, *svc.GatewayRefs[i].DeepCopy())
	}
	for _, h := range svc.Hosts {
		spec.Hostnames = append(spec.Hostnames, gatewayv1.Hostname(h))
	}
	return spec, errors.Join(errs...)
}

// grpcRefusals reports the Canary fields a GRPCRoute has no place for,
// whether the route is generated or rendered from a template.
func grpcRefusals(cd *flaggerv1.Canary) []error {
	var errs []error
	if a := cd.GetAnalysis(); a != nil && a.SessionAffinity != nil {
		errs = append(errs, &UnsupportedError{Field: "spec.analysis.sessionAffinity",
			Reason: "not supported with a GRPCRoute: gRPC clients keep no cookies, and GRPCRoute sessionPersistence is experimental-channel only"})
	}
	return errs
}

// grpcRuleFilters maps the service fields a GRPCRoute rule can carry:
// header modifiers and always-on mirrors.
func grpcRuleFilters(svc *flaggerv1.CanaryService) ([]gatewayv1.GRPCRouteFilter, []error) {
	var out []gatewayv1.GRPCRouteFilter
	var errs []error
	if svc.Headers != nil {
		if f := headerFilter(svc.Headers.Request); f != nil {
			out = append(out, gatewayv1.GRPCRouteFilter{Type: gatewayv1.GRPCRouteFilterRequestHeaderModifier, RequestHeaderModifier: f})
		}
		if f := headerFilter(svc.Headers.Response); f != nil {
			out = append(out, gatewayv1.GRPCRouteFilter{Type: gatewayv1.GRPCRouteFilterResponseHeaderModifier, ResponseHeaderModifier: f})
		}
	}
	for i := range svc.Mirror {
		out = append(out, gatewayv1.GRPCRouteFilter{Type: gatewayv1.GRPCRouteFilterRequestMirror, RequestMirror: svc.Mirror[i].DeepCopy()})
	}
	if svc.Rewrite != nil && (svc.Rewrite.URI != "" || svc.Rewrite.Authority != "") {
		errs = append(errs, &UnsupportedError{Field: "spec.service.rewrite", Reason: "a GRPCRoute has no URL rewrite filter"})
	}
	if svc.CorsPolicy != nil {
		errs = append(errs, &UnsupportedError{Field: "spec.service.corsPolicy", Reason: "a GRPCRoute has no CORS filter"})
	}
	if svc.Timeout != "" {
		errs = append(errs, &UnsupportedError{Field: "spec.service.timeout", Reason: "GRPCRoute rules have no timeouts"})
	}
	if svc.BackendTimeout != "" {
		errs = append(errs, &UnsupportedError{Field: "spec.service.backendTimeout", Reason: "GRPCRoute rules have no timeouts"})
	}
	return out, errs
}

// grpcSplit is the weighted primary, canary and maybe baseline references,
// each weight multiplied by scale (see expandBackends).
func grpcSplit(cd *flaggerv1.Canary, port int32, routes Routes, scale int) []gatewayv1.GRPCBackendRef {
	_, primary, canary := cd.GetServiceNames()
	refs := []gatewayv1.GRPCBackendRef{grpcBackend(primary, port, scale*routes.Primary), grpcBackend(canary, port, scale*routes.Canary)}
	if withBaseline(cd, routes) {
		refs = append(refs, grpcBackend(BaselineServiceName(cd), port, scale*routes.Baseline))
	}
	return refs
}

func grpcBackend(name string, port int32, weight int) gatewayv1.GRPCBackendRef {
	return gatewayv1.GRPCBackendRef{BackendRef: gatewayv1.BackendRef{
		BackendObjectReference: serviceRef(name, port),
		Weight:                 ptrTo(int32(weight)),
	}}
}

func grpcMirrorFilter(canary string, port int32, analysis *flaggerv1.CanaryAnalysis) gatewayv1.GRPCRouteFilter {
	percent := 0
	if analysis != nil {
		percent = analysis.MirrorWeight
	}
	f := mirrorFilter(canary, port, percent)
	return gatewayv1.GRPCRouteFilter{Type: gatewayv1.GRPCRouteFilterRequestMirror, RequestMirror: f.RequestMirror}
}

func copyGRPCFilters(in []gatewayv1.GRPCRouteFilter) []gatewayv1.GRPCRouteFilter {
	if in == nil {
		return nil
	}
	out := make([]gatewayv1.GRPCRouteFilter, len(in))
	for i := range in {
		in[i].DeepCopyInto(&out[i])
	}
	return out
}
