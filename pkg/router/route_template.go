package router

import (
	"errors"
	"fmt"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// maxBackendWeight is the largest backendRef weight the CRDs accept.
const maxBackendWeight = 1000000

// RenderHTTPRouteSpec renders the live HTTPRoute of a templated canary
// (spec.service.route.templateRef) carrying the given split. The
// template's rules are kept in order with their matches, filters, timeouts,
// names and other backends; in each rule that references the apex Service,
// that reference becomes the weighted primary, canary (and baseline)
// references (see expandBackends). parentRefs come from gatewayRefs, never
// from the template (which should attach nowhere); hostnames from the
// template, or from service.hosts when it has none.
//
// With A/B conditions, each such rule is split in two, as in the generated
// route: a copy whose matches are intersected with the conditions carries
// the split, and the rule itself sends the apex's share to the primary.
// With a mirror, the copy carrying the split mirrors to the canary.
//
// The template owns the route's shape: the service fields that would also
// shape it (match, headers, rewrite, mirror, corsPolicy, timeouts) and
// session affinity are refused with an *UnsupportedError, and so is a
// template without a reference to the apex Service.
func RenderHTTPRouteSpec(cd *flaggerv1.Canary, tmpl *gatewayv1.HTTPRouteSpec, routes Routes) (gatewayv1.HTTPRouteSpec, error) {
	errs := templateConflicts(cd)
	if a := cd.GetAnalysis(); a != nil && a.SessionAffinity != nil {
		errs = append(errs, &UnsupportedError{Field: "spec.analysis.sessionAffinity", Reason: "not supported with spec.service.route.templateRef"})
	}
	_, _, canary := cd.GetServiceNames()
	var abMatches []gatewayv1.HTTPRouteMatch
	if a := cd.GetAnalysis(); a != nil && len(a.Match) > 0 {
		var aerrs []error
		abMatches, aerrs = mapMatches("spec.analysis.match", a.Match, true)
		errs = append(errs, aerrs...)
	}

	spec := gatewayv1.HTTPRouteSpec{CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: gatewayRefs(cd)},
		Hostnames: templateHostnames(cd, tmpl.Hostnames)}
	found := false
	for i := range tmpl.Rules {
		rule := &tmpl.Rules[i]
		split, ok, err := expandBackends(cd, rule.BackendRefs, httpRef, routes, false)
		if err != nil {
			errs = append(errs, err)
		}
		if !ok {
			spec.Rules = append(spec.Rules, *rule.DeepCopy())
			continue
		}
		found = true
		weighted := *rule.DeepCopy()
		weighted.BackendRefs = split
		if routes.Mirrored {
			weighted.Filters = append(weighted.Filters, mirrorFilter(canary, cd.Spec.Service.Port, mirrorWeight(cd)))
		}
		if len(abMatches) == 0 {
			spec.Rules = append(spec.Rules, weighted)
			continue
		}
		weighted.Matches = mergeMatches(abMatches, copyMatches(rule.Matches))
		weighted.Name = abRuleName(rule.Name)
		fallback := *rule.DeepCopy()
		fallback.BackendRefs, _, _ = expandBackends(cd, rule.BackendRefs, httpRef, routes, true)
		spec.Rules = append(spec.Rules, weighted, fallback)
	}
	if !found {
		errs = append(errs, noApexError(cd, "HTTPRoute"))
	}
	return spec, errors.Join(errs...)
}

// RenderGRPCRouteSpec is RenderHTTPRouteSpec for GRPCRoutes; what a
// GRPCRoute cannot express is refused as in DesiredGRPCRouteSpec.
func RenderGRPCRouteSpec(cd *flaggerv1.Canary, tmpl *gatewayv1.GRPCRouteSpec, routes Routes) (gatewayv1.GRPCRouteSpec, error) {
	errs := append(templateConflicts(cd), grpcRefusals(cd)...)
	_, _, canary := cd.GetServiceNames()
	var abMatches []gatewayv1.GRPCRouteMatch
	if a := cd.GetAnalysis(); a != nil && len(a.Match) > 0 {
		var aerrs []error
		abMatches, aerrs = mapGRPCMatches("spec.analysis.match", a.Match, true)
		errs = append(errs, aerrs...)
	}

	spec := gatewayv1.GRPCRouteSpec{CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: gatewayRefs(cd)},
		Hostnames: templateHostnames(cd, tmpl.Hostnames)}
	found := false
	for i := range tmpl.Rules {
		rule := &tmpl.Rules[i]
		split, ok, err := expandBackends(cd, rule.BackendRefs, grpcRef, routes, false)
		if err != nil {
			errs = append(errs, err)
		}
		if !ok {
			spec.Rules = append(spec.Rules, *rule.DeepCopy())
			continue
		}
		found = true
		weighted := *rule.DeepCopy()
		weighted.BackendRefs = split
		if routes.Mirrored {
			weighted.Filters = append(weighted.Filters, grpcMirrorFilter(canary, cd.Spec.Service.Port, cd.GetAnalysis()))
		}
		if len(abMatches) == 0 {
			spec.Rules = append(spec.Rules, weighted)
			continue
		}
		weighted.Matches = mergeGRPCMatches(abMatches, rule.Matches)
		weighted.Name = abRuleName(rule.Name)
		fallback := *rule.DeepCopy()
		fallback.BackendRefs, _, _ = expandBackends(cd, rule.BackendRefs, grpcRef, routes, true)
		spec.Rules = append(spec.Rules, weighted, fallback)
	}
	if !found {
		errs = append(errs, noApexError(cd, "GRPCRoute"))
	}
	return spec, errors.Join(errs...)
}

// refAccess reaches the BackendRef inside an HTTP or gRPC backend
// reference, and deep-copies one (with its filters), so that the rendered
// route shares nothing with the cached template.
type refAccess[T any] struct {
	ref   func(*T) *gatewayv1.BackendRef
	clone func(*T) T
}

var (
	httpRef = refAccess[gatewayv1.HTTPBackendRef]{
		ref:   func(r *gatewayv1.HTTPBackendRef) *gatewayv1.BackendRef { return &r.BackendRef },
		clone: func(r *gatewayv1.HTTPBackendRef) gatewayv1.HTTPBackendRef { return *r.DeepCopy() },
	}
	grpcRef = refAccess[gatewayv1.GRPCBackendRef]{
		ref:   func(r *gatewayv1.GRPCBackendRef) *gatewayv1.BackendRef { return &r.BackendRef },
		clone: func(r *gatewayv1.GRPCBackendRef) gatewayv1.GRPCBackendRef { return *r.DeepCopy() },
	}
)

// expandBackends replaces each reference to the apex Service in a
// template rule by the primary, canary and maybe baseline references (the
// primary alone for an A/B fallback rule), on the apex reference's port
// (the service port when it has none) and with its backend filters. ok is
// false when the rule has no apex reference; refs are then copied as they
// are.
//
// Weights are relative within a rule. When the apex is the rule's only
// backend, the references carry the split as it is. When the rule has
// other backends, so that the apex gets a share W of it, every other weight
// is multiplied by 100 and the split's by W, which keeps the template's
// proportions exactly (routesFromRules divides by W again).
func expandBackends[T any](cd *flaggerv1.Canary, refs []T, acc refAccess[T], routes Routes, fallback bool) ([]T, bool, error) {
	ref := acc.ref
	apex, primary, canary := cd.GetServiceNames()
	apexes := 0
	for i := range refs {
		if isLocalService(&ref(&refs[i]).BackendObjectReference, apex) {
			apexes++
		}
	}
	if apexes == 0 {
		out := make([]T, len(refs))
		for i := range refs {
			out[i] = acc.clone(&refs[i])
		}
		return out, false, nil
	}
	scale := 1
	if apexes < len(refs) {
		scale = 100
	}
	var out []T
	var err error
	add := func(src *T, name string, port *gatewayv1.PortNumber, weight int) {
		if weight > maxBackendWeight && err == nil {
			err = &UnsupportedError{Field: "spec.service.route.templateRef",
				Reason: fmt.Sprintf("backend weights above %d cannot be scaled to carry the split", maxBackendWeight/100)}
		}
		t := acc.clone(src)
		b := ref(&t)
		b.Name, b.Port, b.Weight = gatewayv1.ObjectName(name), port, ptrTo(int32(min(weight, maxBackendWeight)))
		b.Group, b.Kind, b.Namespace = ptrTo(gatewayv1.Group("")), ptrTo(gatewayv1.Kind("Service")), nil
		out = append(out, t)
	}
	for i := range refs {
		src := &refs[i]
		b := ref(src)
		w := 1
		if b.Weight != nil {
			w = int(*b.Weight)
		}
		if !isLocalService(&b.BackendObjectReference, apex) {
			t := acc.clone(src)
			if scale > 1 {
				ref(&t).Weight = ptrTo(int32(min(w*scale, maxBackendWeight)))
			}
			out = append(out, t)
			continue
		}
		factor := 1
		if scale > 1 {
			factor = w
		}
		port := b.Port
		if port == nil {
			port = ptrTo(cd.Spec.Service.Port)
		}
		if fallback {
			add(src, primary, port, factor*100)
			continue
		}
		add(src, primary, port, factor*routes.Primary)
		add(src, canary, port, factor*routes.Canary)
		if withBaseline(cd, routes) {
			add(src, BaselineServiceName(cd), port, factor*routes.Baseline)
		}
	}
	return out, true, err
}

// templateConflicts refuses the service fields that would shape a route
// whose shape the template owns.
func templateConflicts(cd *flaggerv1.Canary) []error {
	svc := &cd.Spec.Service
	set := []struct {
		field string
		set   bool
	}{
		{"spec.service.match", len(svc.Match) > 0},
		{"spec.service.headers", svc.Headers != nil},
		{"spec.service.rewrite", svc.Rewrite != nil},
		{"spec.service.mirror", len(svc.Mirror) > 0},
		{"spec.service.corsPolicy", svc.CorsPolicy != nil},
		{"spec.service.timeout", svc.Timeout != ""},
		{"spec.service.backendTimeout", svc.BackendTimeout != ""},
	}
	var errs []error
	for _, s := range set {
		if s.set {
			errs = append(errs, &UnsupportedError{Field: s.field,
				Reason: "set it in the route template (spec.service.route.templateRef), which owns the route's rules"})
		}
	}
	return errs
}

func gatewayRefs(cd *flaggerv1.Canary) []gatewayv1.ParentReference {
	var out []gatewayv1.ParentReference
	for i := range cd.Spec.Service.GatewayRefs {
		out = append(out, *cd.Spec.Service.GatewayRefs[i].DeepCopy())
	}
	return out
}

func templateHostnames(cd *flaggerv1.Canary, tmpl []gatewayv1.Hostname) []gatewayv1.Hostname {
	if len(tmpl) > 0 {
		return append([]gatewayv1.Hostname(nil), tmpl...)
	}
	var out []gatewayv1.Hostname
	for _, h := range cd.Spec.Service.Hosts {
		out = append(out, gatewayv1.Hostname(h))
	}
	return out
}

// abRuleName names the A/B copy of a named rule: rule names are unique
// within a route, and the template's name stays on the rule that serves
// everyone else.
func abRuleName(name *gatewayv1.SectionName) *gatewayv1.SectionName {
	if name == nil {
		return nil
	}
	return ptrTo(*name + "-canary")
}

func mirrorWeight(cd *flaggerv1.Canary) int {
	if a := cd.GetAnalysis(); a != nil {
		return a.MirrorWeight
	}
	return 0
}

func noApexError(cd *flaggerv1.Canary, kind string) error {
	apex, _, _ := cd.GetServiceNames()
	return &UnsupportedError{Field: "spec.service.route.templateRef",
		Reason: fmt.Sprintf("%s %s has no backendRef to the Service %s, so no rule would carry the canary", kind, RouteTemplate(cd), apex)}
}
