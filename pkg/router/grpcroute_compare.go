package router

import (
	"k8s.io/apimachinery/pkg/api/equality"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// grpcSpecEqual is specEqual for GRPCRoutes: the specs route the same way
// once the API server's defaults are filled in (parentRef group and kind,
// backendRef group, kind and weight, method and header match types, mirror
// fraction denominator). Empty and nil lists are equal.
func grpcSpecEqual(a, b *gatewayv1.GRPCRouteSpec) bool {
	return equality.Semantic.DeepEqual(normalizeGRPCSpec(a), normalizeGRPCSpec(b))
}

func normalizeGRPCSpec(s *gatewayv1.GRPCRouteSpec) *gatewayv1.GRPCRouteSpec {
	out := s.DeepCopy()
	for i := range out.ParentRefs {
		defaultParentRef(&out.ParentRefs[i])
	}
	for i := range out.Rules {
		r := &out.Rules[i]
		for j := range r.Matches {
			m := &r.Matches[j]
			if m.Method != nil && m.Method.Type == nil {
				m.Method.Type = ptrTo(gatewayv1.GRPCMethodMatchExact)
			}
			for k := range m.Headers {
				if m.Headers[k].Type == nil {
					m.Headers[k].Type = ptrTo(gatewayv1.GRPCHeaderMatchExact)
				}
			}
		}
		normalizeGRPCFilters(r.Filters)
		for j := range r.BackendRefs {
			b := &r.BackendRefs[j]
			defaultBackendRef(&b.BackendObjectReference)
			if b.Weight == nil {
				b.Weight = ptrTo(int32(1))
			}
			normalizeGRPCFilters(b.Filters)
		}
	}
	return out
}

func normalizeGRPCFilters(filters []gatewayv1.GRPCRouteFilter) {
	for i := range filters {
		if m := filters[i].RequestMirror; m != nil {
			defaultBackendRef(&m.BackendRef)
			if m.Fraction != nil && m.Fraction.Denominator == nil {
				m.Fraction.Denominator = ptrTo(int32(100))
			}
		}
	}
}

// routesFromGRPCSpec reads the traffic split of a live GRPCRoute, as
// routesFromSpec does for HTTPRoutes.
func routesFromGRPCSpec(spec *gatewayv1.GRPCRouteSpec, primary, canary, baseline string) (Routes, bool) {
	rules := make([][]gatewayv1.BackendRef, len(spec.Rules))
	for i, rule := range spec.Rules {
		for _, b := range rule.BackendRefs {
			rules[i] = append(rules[i], b.BackendRef)
		}
	}
	routes, found := routesFromRules(rules, primary, canary, baseline)
	for _, rule := range spec.Rules {
		for _, f := range rule.Filters {
			if f.Type == gatewayv1.GRPCRouteFilterRequestMirror && f.RequestMirror != nil &&
				isLocalService(&f.RequestMirror.BackendRef, canary) {
				routes.Mirrored = true
			}
		}
	}
	return routes, found
}
