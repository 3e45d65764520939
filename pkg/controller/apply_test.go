package controller

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/serin-dev/serin/pkg/analysis"
	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/canary"
	"github.com/serin-dev/serin/pkg/router"
	"github.com/serin-dev/serin/pkg/syncerr"
)

// fakeWorkload records the writes the applier asks for and fails the one
// named in fail. Methods the applier does not call are left to the nil
// embedded interface.
type fakeWorkload struct {
	workloadWriter
	calls []string
	fail  map[string]error
}

func (w *fakeWorkload) record(call string) error {
	w.calls = append(w.calls, call)
	return w.fail[call]
}

func (w *fakeWorkload) GetMetadata(context.Context, *flaggerv1.Canary) (canary.Metadata, error) {
	return canary.Metadata{Selector: canary.Selector{Key: "app", Value: "podinfo"}}, w.record("GetMetadata")
}

func (w *fakeWorkload) EnsurePrimary(context.Context, *flaggerv1.Canary) (bool, error) {
	return true, w.record("EnsurePrimary")
}

func (w *fakeWorkload) ReconcilePrimaryHPA(_ context.Context, _ *flaggerv1.Canary, update bool) error {
	return w.record(fmt.Sprintf("ReconcilePrimaryHPA(%t)", update))
}

func (w *fakeWorkload) ScaleToZero(context.Context, *flaggerv1.Canary) error {
	return w.record("ScaleToZero")
}

func (w *fakeWorkload) ScaleFromZero(context.Context, *flaggerv1.Canary) error {
	return w.record("ScaleFromZero")
}

func (w *fakeWorkload) Promote(_ context.Context, _ *flaggerv1.Canary, revision string) error {
	return w.record("Promote(" + revision + ")")
}

func (w *fakeWorkload) Finalize(context.Context, *flaggerv1.Canary) error {
	return w.record("Finalize")
}

// fakeServices records the Services' writes.
type fakeServices struct {
	router.ServiceRouter
	calls []string
}

func (s *fakeServices) Initialize(_ context.Context, _ *flaggerv1.Canary, target router.Target) error {
	s.calls = append(s.calls, "Initialize("+target.SelectorValue+")")
	return nil
}

// fakeScalingWorkload is a fakeWorkload that can pause the target's
// autoscaler, as pkg/canary's can.
type fakeScalingWorkload struct{ *fakeWorkload }

func (w *fakeScalingWorkload) PauseTargetScaler(context.Context, *flaggerv1.Canary) error {
	return w.record("PauseTargetScaler")
}

func (w *fakeScalingWorkload) ResumeTargetScaler(context.Context, *flaggerv1.Canary) error {
	return w.record("ResumeTargetScaler")
}

func TestApply(t *testing.T) {
	noGateway := syncerr.Permanent(errors.New("spec.service.gatewayRefs: at least one Gateway is required"))
	tests := []struct {
		name     string
		actions  []analysis.Action
		fail     map[string]error
		workload []string
		services []string
		err      string
		// scalers gives the workload PauseTargetScaler and
		// ResumeTargetScaler (targetScalers).
		scalers bool
	}{{
		name:     "the primary side is created, Services first",
		actions:  []analysis.Action{analysis.EnsurePrimary{}},
		workload: []string{"GetMetadata", "EnsurePrimary", "ReconcilePrimaryHPA(false)"},
		services: []string{"Initialize(podinfo)"},
	}, {
		name:     "actions run in order",
		actions:  []analysis.Action{analysis.ScaleTargetFromZero{}, analysis.PromoteToPrimary{Revision: "r2"}, analysis.ScaleTargetToZero{}},
		workload: []string{"ScaleFromZero", "Promote(r2)", "ScaleToZero"},
	}, {
		name:     "the first failure stops the rest, and the event says which action in words",
		actions:  []analysis.Action{analysis.PromoteToPrimary{Revision: "r2"}, analysis.ScaleTargetToZero{}},
		fail:     map[string]error{"Promote(r2)": errors.New("the target no longer runs r2")},
		workload: []string{"Promote(r2)"},
		err:      "copy the analysed revision to the primary: the target no longer runs r2",
	}, {
		name:     "a permanent error leads with its field, unprefixed",
		actions:  []analysis.Action{analysis.RestoreTarget{}},
		fail:     map[string]error{"Finalize": noGateway},
		workload: []string{"Finalize"},
		err:      noGateway.Error(),
	}, {
		name:    "a workload without target scalers has nothing to pause",
		actions: []analysis.Action{analysis.PauseTargetAutoscaler{}, analysis.ResumeTargetAutoscaler{}},
	}, {
		name:     "the target's autoscaler is paused and resumed by a workload that can",
		actions:  []analysis.Action{analysis.PauseTargetAutoscaler{}, analysis.ResumeTargetAutoscaler{}},
		scalers:  true,
		workload: []string{"PauseTargetScaler", "ResumeTargetScaler"},
	}, {
		name:     "a failed pause stops the tick",
		actions:  []analysis.Action{analysis.PauseTargetAutoscaler{}, analysis.ScaleTargetToZero{}},
		scalers:  true,
		fail:     map[string]error{"PauseTargetScaler": errors.New("conflict")},
		workload: []string{"PauseTargetScaler"},
		err:      "pause the target's autoscaler: conflict",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &fakeWorkload{fail: tt.fail}
			s := &fakeServices{}
			var workload workloadWriter = w
			if tt.scalers {
				workload = &fakeScalingWorkload{w}
			}
			a := &applier{workload: workload, services: s, cd: &flaggerv1.Canary{}}
			_, err := a.apply(context.Background(), tt.actions)
			if tt.err == "" {
				require.NoError(t, err)
			} else {
				require.EqualError(t, err, tt.err)
			}
			assert.Equal(t, tt.workload, w.calls)
			assert.Equal(t, tt.services, s.calls)
		})
	}
}
