package crash

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// The judge's baseline is never left behind (issue 14): it takes weight
// only while an analysis runs, and its Deployment is gone once a release
// has ended. These are checked beside the invariants of issue 12, on the
// same replay of versions.

// checkBaseline checks the route at version rv against the canary's phase
// at that version: weight to the baseline only while the canary is
// Progressing or WaitingPromotion. It also keeps the largest canary weight
// the route gave, for the scenarios that must end early.
func (r *recorder) checkBaseline(rv uint64) {
	if r.route == nil {
		r.lastBaselineBad = ""
		return
	}
	r.maxCanary = max(r.maxCanary, canaryWeightOf(r.route))
	msg := ""
	if w := baselineWeightOf(r.route); w > 0 {
		switch {
		case r.cd == nil:
			msg = fmt.Sprintf("%d%% to the baseline with no Canary", w)
		case r.cd.Status.Phase != flaggerv1.CanaryPhaseProgressing && r.cd.Status.Phase != flaggerv1.CanaryPhaseWaitingPromotion:
			msg = fmt.Sprintf("%d%% to the baseline while the canary is %s", w, r.cd.Status.Phase)
		}
	}
	if msg != "" && msg != r.lastBaselineBad {
		r.baselineBad = append(r.baselineBad, fmt.Sprintf("rv %d: %s (route %s)", rv, msg, shape(r.route)))
	}
	r.lastBaselineBad = msg
}

// baselineLeft describes the baseline Deployment a finished release left
// behind, or returns "". A Canary deleted without a finalizer leaves its
// baseline to the garbage collector, which this tier does not run: a
// Deployment whose controller is the deleted Canary is what it would
// remove.
func (r *recorder) baselineLeft() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	dep, ok := r.deps[baselineName]
	if !ok {
		return ""
	}
	if owner := metav1.GetControllerOf(dep); r.canaryGone && owner != nil && owner.Kind == "Canary" && owner.UID == r.canaryUID {
		return ""
	}
	replicas := int32(1)
	if dep.Spec.Replicas != nil {
		replicas = *dep.Spec.Replicas
	}
	return fmt.Sprintf("the baseline Deployment %s is left behind (replicas=%d, ready=%d)", baselineName, replicas, dep.Status.ReadyReplicas)
}

// baselineWeightOf is the largest weight any rule gives the baseline.
func baselineWeightOf(route *gatewayv1.HTTPRoute) int {
	w := 0
	for _, rule := range route.Spec.Rules {
		for _, ref := range rule.BackendRefs {
			if backends[string(ref.Name)] == baselineName {
				w = max(w, weightOf(ref))
			}
		}
	}
	return w
}

// baselineViolations returns the baseline's violations of a run: weight
// outside an analysis, and for a finished run the Deployment left behind.
func (r *recorder) baselineViolations(finished bool) []string {
	r.mu.Lock()
	out := make([]string, 0, len(r.baselineBad))
	for _, b := range r.baselineBad {
		out = append(out, "baseline weight outside an analysis: "+b)
	}
	r.mu.Unlock()
	if finished {
		if left := r.baselineLeft(); left != "" {
			out = append(out, left)
		}
	}
	return out
}

// isBaselineViolation tells the baseline's violations apart in the table.
func isBaselineViolation(v string) bool {
	return strings.HasPrefix(v, "baseline weight") || strings.HasPrefix(v, "the baseline Deployment")
}
