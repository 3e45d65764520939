package router

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// routesFromSpec reads the traffic split of a live HTTPRoute (see
// routesFromRules) and whether any rule mirrors to the canary.
func routesFromSpec(spec *gatewayv1.HTTPRouteSpec, primary, canary, baseline string) (routes Routes, found bool) {
	rules := make([][]gatewayv1.BackendRef, len(spec.Rules))
	for i, rule := range spec.Rules {
		for _, b := range rule.BackendRefs {
			rules[i] = append(rules[i], b.BackendRef)
		}
	}
	routes, found = routesFromRules(rules, primary, canary, baseline)
	for _, rule := range spec.Rules {
		for _, f := range rule.Filters {
			if f.Type == gatewayv1.HTTPRouteFilterRequestMirror && f.RequestMirror != nil &&
				isLocalService(&f.RequestMirror.BackendRef, canary) {
				routes.Mirrored = true
			}
		}
	}
	return routes, found
}

// routesFromRules reads the weights of the last rule that holds both the
// primary and the canary backend (the A/B fallback rule has the primary
// alone and is skipped), and maybe the baseline. Other backends may share
// the rule (a templated route keeps them, see expandBackends): the
// router's three weights are then the template weight W of the apex times
// each, so they are divided by W = their sum / 100; a rule where that sum
// is 0 carries none of the split and is skipped too.
func routesFromRules(rules [][]gatewayv1.BackendRef, primary, canary, baseline string) (routes Routes, found bool) {
	for _, refs := range rules {
		p, pok := backendWeight(refs, primary)
		c, cok := backendWeight(refs, canary)
		if !pok || !cok {
			continue
		}
		b, bok := backendWeight(refs, baseline)
		ours := 2
		if bok {
			ours++
		}
		if len(refs) == ours {
			routes.Primary, routes.Canary, routes.Baseline, found = p, c, b, true
			continue
		}
		if w := (p + c + b) / 100; w > 0 {
			routes.Primary, routes.Canary, routes.Baseline, found = p/w, c/w, b/w, true
		}
	}
	return routes, found
}

func backendWeight(refs []gatewayv1.BackendRef, name string) (int, bool) {
	for i := range refs {
		if isLocalService(&refs[i].BackendObjectReference, name) {
			if refs[i].Weight == nil {
				return 1, true // the CRD default
			}
			return int(*refs[i].Weight), true
		}
	}
	return 0, false
}

func isLocalService(ref *gatewayv1.BackendObjectReference, name string) bool {
	return string(ref.Name) == name && ref.Namespace == nil &&
		(ref.Group == nil || *ref.Group == "") &&
		(ref.Kind == nil || *ref.Kind == "Service")
}

// routeState is what the readiness gate reads of a live route of any kind.
type routeState struct {
	// Kind and Name (name.namespace) name the route in errors.
	Kind, Name string
	Generation int64
	ParentRefs []gatewayv1.ParentReference
	Parents    []gatewayv1.RouteParentStatus
	// Resolved makes the gate wait for ResolvedRefs too (see checkParents).
	Resolved bool
}

// checkParents is the parent readiness gate: it fails while a parent has
// not accepted the route's current generation, so that weights read from
// the spec are not taken as being served. With Resolved set (GRPCRoutes),
// the parent must also report ResolvedRefs: Traefik, as the API requires,
// keeps the weight of a reference it cannot resolve and answers UNAVAILABLE
// for that share, so a step onto an unresolved canary would fail its calls
// instead of measuring it.
//
// For each parentRef with status entries, at least one entry's conditions
// must be True and computed for the current generation. Unlike Flagger, the
// gate tolerates real implementations: parents without a status entry,
// entries without the condition and conditions without an
// observedGeneration (Linkerd's policy controller never sets it) do not
// block, and parentRefs are compared with their defaults applied.
func checkParents(route routeState) error {
	types := []gatewayv1.RouteConditionType{gatewayv1.RouteConditionAccepted}
	if route.Resolved {
		types = append(types, gatewayv1.RouteConditionResolvedRefs)
	}
	for i := range route.ParentRefs {
		want := route.ParentRefs[i].DeepCopy()
		defaultParentRef(want)
		for _, typ := range types {
			if err := checkCondition(route, want, string(typ)); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkCondition applies the gate to one condition type of one parent.
func checkCondition(route routeState, want *gatewayv1.ParentReference, typ string) error {
	var failed *metav1.Condition
	for j := range route.Parents {
		got := route.Parents[j].ParentRef.DeepCopy()
		defaultParentRef(got)
		if !equality.Semantic.DeepEqual(want, got) {
			continue
		}
		cond := meta.FindStatusCondition(route.Parents[j].Conditions, typ)
		switch {
		case cond == nil:
			continue
		case cond.Status == metav1.ConditionTrue && (cond.ObservedGeneration == 0 || cond.ObservedGeneration >= route.Generation):
			return nil
		case failed == nil:
			failed = cond
		}
	}
	if failed == nil {
		return nil
	}
	return &RouteNotAcceptedError{
		Kind:               route.Kind,
		Route:              route.Name,
		Parent:             parentName(want),
		Condition:          typ,
		Status:             failed.Status,
		Reason:             failed.Reason,
		ObservedGeneration: failed.ObservedGeneration,
		Generation:         route.Generation,
	}
}

func parentName(p *gatewayv1.ParentReference) string {
	name := string(p.Name)
	if p.Namespace != nil {
		name = string(*p.Namespace) + "/" + name
	}
	if p.Kind != nil && *p.Kind != "Gateway" {
		name = fmt.Sprintf("%s %s", *p.Kind, name)
	}
	return name
}
