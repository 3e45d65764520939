package router

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// routesFromSpec reads the traffic split of a live route: the weights of
// the last rule whose backends are the primary and the canary, and maybe
// the baseline (the A/B fallback rule has one backend and is skipped), and
// whether any rule mirrors to the canary. found is false when no rule
// splits traffic.
func routesFromSpec(spec *gatewayv1.HTTPRouteSpec, primary, canary, baseline string) (routes Routes, found bool) {
	for _, rule := range spec.Rules {
		if w, ok := splitWeights(rule.BackendRefs, primary, canary, baseline); ok {
			routes.Primary, routes.Canary, routes.Baseline, found = w.Primary, w.Canary, w.Baseline, true
		}
		for _, f := range rule.Filters {
			if f.Type == gatewayv1.HTTPRouteFilterRequestMirror && f.RequestMirror != nil &&
				isLocalService(&f.RequestMirror.BackendRef, canary) {
				routes.Mirrored = true
			}
		}
	}
	return routes, found
}

// splitWeights reads the weights of a rule whose backends are exactly the
// primary and the canary, or those two and the baseline.
func splitWeights(refs []gatewayv1.HTTPBackendRef, primary, canary, baseline string) (Routes, bool) {
	if len(refs) != 2 && len(refs) != 3 {
		return Routes{}, false
	}
	p, pok := backendWeight(refs, primary)
	c, cok := backendWeight(refs, canary)
	if !pok || !cok {
		return Routes{}, false
	}
	b, bok := backendWeight(refs, baseline)
	if len(refs) == 3 && !bok {
		return Routes{}, false
	}
	return Routes{Primary: p, Canary: c, Baseline: b}, true
}

func backendWeight(refs []gatewayv1.HTTPBackendRef, name string) (int, bool) {
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

// checkAccepted is the parent readiness gate: it fails while a parent has
// not accepted the route's current generation, so that weights read from
// the spec are not taken as being served.
//
// For each parentRef with status entries, at least one entry's Accepted
// condition must be True and computed for the current generation. Unlike
// Flagger, the gate tolerates real implementations: parents without a
// status entry, entries without an Accepted condition and conditions
// without an observedGeneration (Linkerd's policy controller never sets it)
// do not block, and parentRefs are compared with their defaults applied.
func checkAccepted(route *gatewayv1.HTTPRoute) error {
	for i := range route.Spec.ParentRefs {
		want := route.Spec.ParentRefs[i].DeepCopy()
		defaultParentRef(want)
		var failed *metav1.Condition
		accepted := false
		for j := range route.Status.Parents {
			got := route.Status.Parents[j].ParentRef.DeepCopy()
			defaultParentRef(got)
			if !equality.Semantic.DeepEqual(want, got) {
				continue
			}
			cond := meta.FindStatusCondition(route.Status.Parents[j].Conditions, string(gatewayv1.RouteConditionAccepted))
			switch {
			case cond == nil:
				continue
			case cond.Status == metav1.ConditionTrue && (cond.ObservedGeneration == 0 || cond.ObservedGeneration >= route.Generation):
				accepted = true
			case failed == nil:
				failed = cond
			}
		}
		if !accepted && failed != nil {
			return &RouteNotAcceptedError{
				Route:              route.Name + "." + route.Namespace,
				Parent:             parentName(want),
				Status:             failed.Status,
				Reason:             failed.Reason,
				ObservedGeneration: failed.ObservedGeneration,
				Generation:         route.Generation,
			}
		}
	}
	return nil
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
