package router

import (
	"errors"
	"strings"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// DesiredHTTPRouteSpec builds the spec of the HTTPRoute for cd carrying the
// given traffic split. It is pure and deterministic: the same Canary and
// routes always give the same spec, whatever the order of its maps.
//
// The spec is always well-formed. A non-nil error joins one
// *UnsupportedError per part of the Canary that was left out (see
// mapMatches); the router refuses to write such a spec, since leaving a
// condition out would change who gets the canary.
//
// Shape, in rule order:
//   - with session affinity, the cookie rules built from cd.Status (see
//     sessionRules): users holding the run's canary (or primary) cookie
//     stick to that backend, and after a run the previous cookie is expired;
//   - the weighted rule: the mapped service.match (intersected with the A/B
//     conditions, if any) to the primary and canary backends at the given
//     weights, then the baseline backend when there is one (see
//     withBaseline), mirroring to the canary when routes.Mirrored is set;
//   - with A/B conditions, a fallback rule sending the rest to the primary.
//
// Every rule carries the service filters and timeouts.
func DesiredHTTPRouteSpec(cd *flaggerv1.Canary, routes Routes) (gatewayv1.HTTPRouteSpec, error) {
	svc := &cd.Spec.Service
	_, primary, canary := cd.GetServiceNames()

	svcMatches, errs := mapMatches("spec.service.match", svc.Match, false)
	if len(svcMatches) == 0 {
		svcMatches = []gatewayv1.HTTPRouteMatch{defaultMatch()}
	}
	filters, ferrs := ruleFilters(svc)
	timeouts, terrs := ruleTimeouts(svc)
	errs = append(append(errs, ferrs...), terrs...)

	rule := func(matches []gatewayv1.HTTPRouteMatch, backends ...gatewayv1.HTTPBackendRef) gatewayv1.HTTPRouteRule {
		r := gatewayv1.HTTPRouteRule{Matches: matches, BackendRefs: backends, Timeouts: timeouts.DeepCopy()}
		for i := range filters {
			r.Filters = append(r.Filters, *filters[i].DeepCopy())
		}
		return r
	}

	analysis := cd.GetAnalysis()
	weightedMatches, ab := svcMatches, false
	if analysis != nil && len(analysis.Match) > 0 {
		abMatches, aerrs := mapMatches("spec.analysis.match", analysis.Match, true)
		errs = append(errs, aerrs...)
		if len(abMatches) > 0 {
			weightedMatches, ab = mergeMatches(abMatches, svcMatches), true
		}
	}
	weightedRefs := []gatewayv1.HTTPBackendRef{backend(primary, svc.Port, routes.Primary), backend(canary, svc.Port, routes.Canary)}
	if withBaseline(cd, routes) {
		weightedRefs = append(weightedRefs, backend(BaselineServiceName(cd), svc.Port, routes.Baseline))
	}
	weighted := rule(copyMatches(weightedMatches), weightedRefs...)
	if routes.Mirrored {
		// Unlike Flagger, which mirrors only when analysis.iterations > 0
		// (so a weighted canary's mirror stage never saw its mirror and
		// stalled), the mirror is added whenever the caller asks for it.
		mirrorWeight := 0
		if analysis != nil {
			mirrorWeight = analysis.MirrorWeight
		}
		weighted.Filters = append(weighted.Filters, mirrorFilter(canary, svc.Port, mirrorWeight))
	}

	rules, serrs := sessionRules(cd, svcMatches, &weighted, rule)
	errs = append(errs, serrs...)
	rules = append(rules, weighted)
	if ab {
		rules = append(rules, rule(copyMatches(svcMatches), backend(primary, svc.Port, 100)))
	}

	spec := gatewayv1.HTTPRouteSpec{Rules: rules}
	for i := range svc.GatewayRefs {
		spec.ParentRefs = append(spec.ParentRefs, *svc.GatewayRefs[i].DeepCopy())
	}
	for _, h := range svc.Hosts {
		spec.Hostnames = append(spec.Hostnames, gatewayv1.Hostname(h))
	}
	return spec, errors.Join(errs...)
}

// backend is a weighted reference to a Service of the route's namespace.
func backend(name string, port int32, weight int) gatewayv1.HTTPBackendRef {
	return gatewayv1.HTTPBackendRef{BackendRef: gatewayv1.BackendRef{
		BackendObjectReference: serviceRef(name, port),
		Weight:                 ptrTo(int32(weight)),
	}}
}

func copyMatches(in []gatewayv1.HTTPRouteMatch) []gatewayv1.HTTPRouteMatch {
	out := make([]gatewayv1.HTTPRouteMatch, len(in))
	for i := range in {
		in[i].DeepCopyInto(&out[i])
	}
	return out
}

// desiredRouteMetadata returns the labels and annotations the route must
// carry: service.apex metadata, minus Flux's toolkit.fluxcd.io annotations
// (the route is not Flux's to reconcile).
func desiredRouteMetadata(cd *flaggerv1.Canary) (labels, annotations map[string]string) {
	apex := cd.Spec.Service.Apex
	if apex == nil {
		return nil, nil
	}
	for k, v := range apex.Labels {
		if labels == nil {
			labels = map[string]string{}
		}
		labels[k] = v
	}
	for k, v := range apex.Annotations {
		if strings.Contains(k, "toolkit.fluxcd.io") {
			continue
		}
		if annotations == nil {
			annotations = map[string]string{}
		}
		annotations[k] = v
	}
	return labels, annotations
}
