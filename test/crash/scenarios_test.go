package crash

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/serin-dev/serin/pkg/analysis"
	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// outcome is how a release ends: a final phase, or the Canary gone.
type outcome string

const (
	initialized outcome = "Initialized"
	succeeded   outcome = "Succeeded"
	failed      outcome = "Failed"
	deleted     outcome = "Deleted"
)

// scenario is one release, scripted: the Canary, how the world behaves,
// what starts the release and how it must end.
type scenario struct {
	name string
	// canary adjusts the seed Canary.
	canary func(cd *flaggerv1.Canary)
	// broken marks the templates a Deployment cannot run.
	broken func(deployment, image string) bool
	// errorRate is what the metrics say of the target's image.
	errorRate func(image string) float64
	// badFraction is the share of an arm's requests that fail, by the
	// image its Deployment runs, in the judge's per-arm counters.
	badFraction func(image string) float64
	// early: the release ends before the route gives the canary the
	// analysis' maxWeight (a judge that decides at its first chance).
	early bool
	// hook answers a webhook call (200 when nil).
	hook func(r *run, name string, v view) int
	// bootstrap makes the Canary's creation the release: its writes are
	// the ones counted.
	bootstrap bool
	// release starts the release once the canary is Initialized.
	release func(ctx context.Context, r *run) error
	// step changes the world when the run is quiet, and says whether it
	// did.
	step func(ctx context.Context, r *run, v view) (bool, error)
	// want is how the release ends; wantPrimary the primary's image then.
	want        outcome
	wantPrimary string
	// skipAnalysis: the primary may run a template no metric was asked
	// about (the user said so).
	skipAnalysis bool
	// scaledObject creates the target's KEDA ScaledObject (keda_test.go).
	scaledObject bool
	// shortRun picks the writes the short run interrupts, instead of the
	// middle and the last one.
	shortRun func(write string) bool
	// verify checks the cluster once the release ended.
	verify func(ctx context.Context, r *run) []string
	// daemonSet: the target is a DaemonSet, not a Deployment.
	daemonSet bool
}

// push returns a release that sets the target's image.
func push(image string) func(context.Context, *run) error {
	return func(ctx context.Context, r *run) error { return setImage(ctx, r, image) }
}

// errorsOf is the error rate of the image that answers errors.
func errorsOf(image string) float64 {
	if image == imageErrors {
		return 50
	}
	return 0
}

// scenarios are the releases of issue 12, those of the judge (issue 14),
// and those of a target scaled by KEDA and of a DaemonSet target (issue
// 18), each interrupted at every write.
var scenarios = slices.Concat(releaseScenarios, judgeScenarios, kedaScenarios, daemonSetScenarios)

// daemonSetScenarios release a DaemonSet: every write its kind makes (the
// primary DaemonSet's creation and promotion, the scale-to-zero node
// selector added and removed, the revert on deletion) is interrupted.
var daemonSetScenarios = []*scenario{
	{
		name: "daemonset-initialization", daemonSet: true, bootstrap: true,
		want: initialized, wantPrimary: imageV0,
	},
	{
		name: "daemonset-promotion", daemonSet: true,
		release: push(imageV1),
		want:    succeeded, wantPrimary: imageV1,
	},
	{
		name: "daemonset-rollback", daemonSet: true,
		errorRate: errorsOf,
		release:   push(imageErrors),
		want:      failed, wantPrimary: imageV0,
	},
	{
		// No progress deadline of its own: the canary's, from its status'
		// lastTransitionTime.
		name: "daemonset-progress-deadline", daemonSet: true,
		broken:  func(_, image string) bool { return image == imageCrashes },
		release: push(imageCrashes),
		want:    failed, wantPrimary: imageV0,
	},
	{
		name: "daemonset-revert-on-deletion", daemonSet: true,
		canary: func(cd *flaggerv1.Canary) { cd.Spec.RevertOnDeletion = true },
		release: func(ctx context.Context, r *run) error {
			return r.env.flagger.FlaggerV1beta1().Canaries(r.ns).Delete(ctx, canaryName, metav1.DeleteOptions{})
		},
		want: deleted,
	},
}

// releaseScenarios are the releases of issue 12.
var releaseScenarios = []*scenario{
	{
		name:      "initialization",
		bootstrap: true,
		want:      initialized, wantPrimary: imageV0,
	},
	{
		name:    "promotion",
		release: push(imageV1),
		want:    succeeded, wantPrimary: imageV1,
	},
	{
		name:      "rollback-metrics",
		errorRate: errorsOf,
		release:   push(imageErrors),
		want:      failed, wantPrimary: imageV0,
	},
	{
		name: "rollback-webhook",
		// A rollback gate, opened once the canary has 50%, stays open (as
		// the load tester's gates do).
		hook: func(r *run, name string, v view) int {
			if name != string(flaggerv1.RollbackHook) {
				return http.StatusOK
			}
			if v.canaryWeight >= 50 {
				r.mark("rollback")
			}
			if r.marked("rollback") {
				return http.StatusOK
			}
			return http.StatusForbidden
		},
		release: push(imageV1),
		want:    failed, wantPrimary: imageV0,
	},
	{
		name:   "skip-analysis",
		canary: func(cd *flaggerv1.Canary) { cd.Spec.SkipAnalysis = true },
		// The metrics would fail it: skipAnalysis must not ask them.
		errorRate:    errorsOf,
		release:      push(imageV1),
		want:         succeeded,
		wantPrimary:  imageV1,
		skipAnalysis: true,
	},
	{
		name: "blue-green",
		canary: func(cd *flaggerv1.Canary) {
			cd.Spec.Analysis.StepWeight, cd.Spec.Analysis.MaxWeight, cd.Spec.Analysis.Iterations = 0, 0, 2
		},
		release: push(imageV1),
		want:    succeeded, wantPrimary: imageV1,
	},
	{
		name: "ab-testing",
		canary: func(cd *flaggerv1.Canary) {
			cd.Spec.Analysis.StepWeight, cd.Spec.Analysis.MaxWeight, cd.Spec.Analysis.Iterations = 0, 0, 2
			cd.Spec.Analysis.Match = []flaggerv1.HTTPMatchRequest{{
				Headers: map[string]flaggerv1.StringMatch{"x-canary": {Exact: "insider"}},
			}}
		},
		release: push(imageV1),
		want:    succeeded, wantPrimary: imageV1,
	},
	{
		name: "mirroring",
		canary: func(cd *flaggerv1.Canary) {
			cd.Spec.Analysis.Mirror, cd.Spec.Analysis.MirrorWeight = true, 50
		},
		release: push(imageV1),
		want:    succeeded, wantPrimary: imageV1,
	},
	{
		name: "failed-promotion",
		// The target runs it; the primary's rolling update cannot (as in
		// TestProgressDeadlinePrimary, where a quota leaves no room).
		broken: func(deployment, image string) bool {
			return deployment == primaryName && image == imageQuota
		},
		release: push(imageQuota),
		want:    failed, wantPrimary: imageQuota,
	},
	{
		name:    "progress-deadline",
		broken:  func(_, image string) bool { return image == imageCrashes },
		release: push(imageCrashes),
		want:    failed, wantPrimary: imageV0,
	},
	{
		name:   "revert-on-deletion",
		canary: func(cd *flaggerv1.Canary) { cd.Spec.RevertOnDeletion = true },
		release: func(ctx context.Context, r *run) error {
			return r.env.flagger.FlaggerV1beta1().Canaries(r.ns).Delete(ctx, canaryName, metav1.DeleteOptions{})
		},
		want: deleted,
	},
	{
		name:    "revision-mid-analysis",
		release: push(imageV1),
		// The next revision arrives while the first is at 25%.
		step: func(ctx context.Context, r *run, v view) (bool, error) {
			if r.marked(imageV2) || v.target != imageV1 || v.canaryWeight != 25 {
				return false, nil
			}
			r.mark(imageV2)
			return true, setImage(ctx, r, imageV2)
		},
		want: succeeded, wantPrimary: imageV2,
	},
	{
		name:    "abort-request",
		release: push(imageV1),
		// kubectl serin abort while the canary is at 25%: the rollback and
		// the request's acknowledgement are one step.
		step: func(ctx context.Context, r *run, v view) (bool, error) {
			if r.marked("abort") || v.target != imageV1 || v.canaryWeight != 25 {
				return false, nil
			}
			r.mark("abort")
			patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q,%q:"abort-1"}}}`,
				analysis.RequestAnnotation, analysis.RequestAbort, analysis.RequestIDAnnotation)
			written, err := r.env.flagger.FlaggerV1beta1().Canaries(r.ns).Patch(ctx, canaryName, types.MergePatchType,
				[]byte(patch), metav1.PatchOptions{})
			if err == nil {
				r.act.wrote("canaries", resourceVersion(written))
			}
			return true, err
		},
		want: failed, wantPrimary: imageV0,
	},
	{
		name: "revision-at-promotion",
		// The next revision arrives while the confirm-promotion gate of the
		// first is being asked: during the tick that promotes (item 2).
		hook: func(r *run, name string, v view) int {
			if name == string(flaggerv1.ConfirmPromotionHook) && v.target == imageV1 && !r.marked(imageV2) {
				r.mark(imageV2)
				if err := setImage(context.Background(), r, imageV2); err != nil {
					return http.StatusInternalServerError
				}
				// Long enough for the operator's informer to see the push
				// before the gate answers.
				time.Sleep(200 * time.Millisecond)
			}
			return http.StatusOK
		},
		release: push(imageV1),
		want:    succeeded, wantPrimary: imageV2,
	},
}

// hooksOf returns the extra webhooks a scenario's script answers.
func (s *scenario) hooksOf() []flaggerv1.HookType {
	switch s.name {
	case "rollback-webhook":
		return []flaggerv1.HookType{flaggerv1.RollbackHook}
	case "revision-at-promotion":
		return []flaggerv1.HookType{flaggerv1.ConfirmPromotionHook}
	}
	return nil
}
