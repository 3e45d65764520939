package crash

import (
	"context"
	"net/http"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// baselineName is the judge's baseline Deployment, and its Service's name
// in the route.
const baselineName = "podinfo-baseline"

// judgeTemplates are the judge's count templates, one query per arm: the
// cumulative bad events ("errors") and requests ("requests") of the arm's
// Deployment, as armCounters answers them.
func judgeTemplates(ns, address string) []*flaggerv1.MetricTemplate {
	template := func(name, query string) *flaggerv1.MetricTemplate {
		return &flaggerv1.MetricTemplate{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: flaggerv1.MetricTemplateSpec{
				Provider: flaggerv1.MetricTemplateProvider{Type: "prometheus", Address: address},
				Query:    query,
			},
		}
	}
	return []*flaggerv1.MetricTemplate{
		template("errors", `sum(requests_total{namespace="{{ namespace }}",deployment="{{ workload }}",code=~"5.."})`),
		template("requests", `sum(requests_total{namespace="{{ namespace }}",deployment="{{ workload }}"})`),
	}
}

// withJudge turns the seed Canary into a judged one: a baseline, the
// judge's defaults but earlyPromotion, and the errors compared with the
// baseline's next to the tutorial's fixed error-rate check (which the
// judge's scenarios answer 0, so that only the judge can fail them). The
// ladder is 10, 20, 30: the judge's first tick with traffic is its origin
// (cumulative counters need two samples), so a judge that decides at its
// first chance does so at 20, before maxWeight.
func withJudge(early bool) func(cd *flaggerv1.Canary) {
	return func(cd *flaggerv1.Canary) {
		cd.Spec.Analysis.StepWeight, cd.Spec.Analysis.MaxWeight = 10, 30
		cd.Spec.Analysis.Judge = &flaggerv1.CanaryJudge{Baseline: true, EarlyPromotion: early}
		cd.Spec.Analysis.Metrics = append(cd.Spec.Analysis.Metrics, flaggerv1.CanaryMetric{
			Name: "errors", Interval: "1m",
			TemplateRef: &flaggerv1.CrossNamespaceObjectReference{Name: "errors"},
			Compare: &flaggerv1.MetricComparison{
				Kind:             flaggerv1.CountComparison,
				TotalTemplateRef: &flaggerv1.CrossNamespaceObjectReference{Name: "requests"},
			},
		})
	}
}

// judgeScenarios are the judge's releases (withJudge). The counters make
// every verdict come at the judge's first chance.
var judgeScenarios = []*scenario{
	{
		// A/A: the canary fails as many requests as the baseline; the
		// judge never fails it, and the analysis runs to maxWeight.
		name:        "judge-aa",
		canary:      withJudge(false),
		badFraction: judgeErrors,
		release:     push(imageV1),
		want:        succeeded, wantPrimary: imageV1,
	},
	{
		// The same with earlyPromotion: the judge's pass promotes before
		// maxWeight.
		name:        "judge-aa-early",
		canary:      withJudge(true),
		badFraction: judgeErrors,
		release:     push(imageV1),
		want:        succeeded, wantPrimary: imageV1,
		early: true,
	},
	{
		// Three times the baseline's errors: the judge rolls back at its
		// first decision, before the last step.
		name:        "judge-rollback",
		canary:      withJudge(false),
		badFraction: judgeErrors,
		release:     push(imageWorse),
		want:        failed, wantPrimary: imageV0,
		early: true,
	},
	{
		// A new revision once the first has traffic (10%, or the step after
		// when a resumed tick took it at once): a new run, with the
		// baseline's pods started afresh and the judge's state reset.
		name:        "judge-revision",
		canary:      withJudge(false),
		badFraction: judgeErrors,
		release:     push(imageV1),
		step: func(ctx context.Context, r *run, v view) (bool, error) {
			if r.marked(imageV2) || v.target != imageV1 || v.canaryWeight == 0 {
				return false, nil
			}
			r.mark(imageV2)
			return true, setImage(ctx, r, imageV2)
		},
		want: succeeded, wantPrimary: imageV2,
	},
	{
		// The Canary deleted with revertOnDeletion during the analysis
		// tick at 10%, from its load-test hook (so that the deletion comes
		// at the same point of every run, not at whichever quiet moment
		// the driver finds): the tick in flight takes its step, then the
		// finalizer gives the baseline's share back to the primary and
		// removes the baseline.
		name: "judge-deletion",
		canary: func(cd *flaggerv1.Canary) {
			withJudge(false)(cd)
			cd.Spec.RevertOnDeletion = true
		},
		badFraction: judgeErrors,
		release:     push(imageV1),
		hook: func(r *run, name string, v view) int {
			if name != "load-test" || v.canaryWeight == 0 || r.marked("delete") {
				return http.StatusOK
			}
			r.mark("delete")
			if err := r.env.flagger.FlaggerV1beta1().Canaries(r.ns).Delete(context.Background(), canaryName, metav1.DeleteOptions{}); err != nil {
				return http.StatusInternalServerError
			}
			// Long enough for the operator's informer to see the deletion
			// before the hook answers.
			time.Sleep(200 * time.Millisecond)
			return http.StatusOK
		},
		want: deleted,
	},
}
