package router

import (
	"k8s.io/apimachinery/pkg/api/equality"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// specEqual reports whether two route specs route the same way once the
// API server's defaults are filled in on both (parentRef group and kind,
// backendRef group, kind and weight, match path and match types, mirror
// fraction denominator, CORS maxAge). Empty and nil lists are equal.
func specEqual(a, b *gatewayv1.HTTPRouteSpec) bool {
	return equality.Semantic.DeepEqual(normalizeSpec(a), normalizeSpec(b))
}

// normalizeSpec returns a copy of s with the CRD defaults applied.
func normalizeSpec(s *gatewayv1.HTTPRouteSpec) *gatewayv1.HTTPRouteSpec {
	out := s.DeepCopy()
	for i := range out.ParentRefs {
		defaultParentRef(&out.ParentRefs[i])
	}
	if len(out.Rules) == 0 {
		out.Rules = []gatewayv1.HTTPRouteRule{{}}
	}
	for i := range out.Rules {
		normalizeRule(&out.Rules[i])
	}
	return out
}

func defaultParentRef(p *gatewayv1.ParentReference) {
	if p.Group == nil {
		p.Group = ptrTo(gatewayv1.Group(gatewayv1.GroupName))
	}
	if p.Kind == nil {
		p.Kind = ptrTo(gatewayv1.Kind("Gateway"))
	}
}

func normalizeRule(r *gatewayv1.HTTPRouteRule) {
	if len(r.Matches) == 0 {
		r.Matches = []gatewayv1.HTTPRouteMatch{defaultMatch()}
	}
	for i := range r.Matches {
		m := &r.Matches[i]
		if m.Path == nil {
			m.Path = &gatewayv1.HTTPPathMatch{}
		}
		if m.Path.Type == nil {
			m.Path.Type = ptrTo(gatewayv1.PathMatchPathPrefix)
		}
		if m.Path.Value == nil {
			m.Path.Value = ptrTo("/")
		}
		for j := range m.Headers {
			if m.Headers[j].Type == nil {
				m.Headers[j].Type = ptrTo(gatewayv1.HeaderMatchExact)
			}
		}
		for j := range m.QueryParams {
			if m.QueryParams[j].Type == nil {
				m.QueryParams[j].Type = ptrTo(gatewayv1.QueryParamMatchExact)
			}
		}
	}
	normalizeFilters(r.Filters)
	for i := range r.BackendRefs {
		b := &r.BackendRefs[i]
		defaultBackendRef(&b.BackendObjectReference)
		if b.Weight == nil {
			b.Weight = ptrTo(int32(1))
		}
		normalizeFilters(b.Filters)
	}
}

func normalizeFilters(filters []gatewayv1.HTTPRouteFilter) {
	for i := range filters {
		f := &filters[i]
		if m := f.RequestMirror; m != nil {
			defaultBackendRef(&m.BackendRef)
			if m.Fraction != nil && m.Fraction.Denominator == nil {
				m.Fraction.Denominator = ptrTo(int32(100))
			}
		}
		if c := f.CORS; c != nil && c.MaxAge == 0 {
			c.MaxAge = 5
		}
	}
}

func defaultBackendRef(b *gatewayv1.BackendObjectReference) {
	if b.Group == nil {
		b.Group = ptrTo(gatewayv1.Group(""))
	}
	if b.Kind == nil {
		b.Kind = ptrTo(gatewayv1.Kind("Service"))
	}
}

// mergeMetadata returns the desired labels or annotations plus every live
// key the desired set does not name. Gateway controllers (the AWS one, for
// example) annotate routes; removing their keys started an endless update
// loop in Flagger (#1732). Unlike Flagger, labels are merged the same way,
// so a controller that labels routes cannot start that loop either; the
// price is that a key dropped from service.apex stays on the route.
func mergeMetadata(live, desired map[string]string) map[string]string {
	if len(live) == 0 && len(desired) == 0 {
		return nil
	}
	out := make(map[string]string, len(live)+len(desired))
	for k, v := range live {
		out[k] = v
	}
	for k, v := range desired {
		out[k] = v
	}
	return out
}
