package router

import (
	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// BaselineServiceName is the Service of a canary's baseline arm (see
// analysis.judge.baseline): "<apex>-baseline", on the service port, in the
// canary's namespace.
func BaselineServiceName(cd *flaggerv1.Canary) string {
	apex, _, _ := cd.GetServiceNames()
	return apex + "-baseline"
}

// withBaseline reports whether the weighted rule carries the baseline
// backend: while it has weight, and all along for a canary whose analysis
// runs a judge baseline. Keeping the reference at weight 0 between runs
// keeps the shape of the route the same when a run starts or ends (a
// weight change, not a new backend list), so the parents' acceptance of a
// new generation is the only change; the price is that the baseline Service
// must exist for as long as judge.baseline is set, or the route's
// references do not resolve (ResolvedRefs=False, BackendNotFound).
func withBaseline(cd *flaggerv1.Canary, routes Routes) bool {
	if routes.Baseline > 0 {
		return true
	}
	a := cd.GetAnalysis()
	return a != nil && a.Judge != nil && a.Judge.Baseline
}
