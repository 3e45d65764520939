package judge_test

import (
	"errors"
	"fmt"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/judge"
)

// One tick of a compared count metric as the controller would run it,
// resumable from the status alone: the config from the spec, the state
// from status.judge[].state, the new state written back with the verdict.
// A state the operator cannot use (another format version, judge settings
// changed mid-run, a corrupt text) starts the metric's test over.
func ExampleDecodeCountState() {
	analysis := &flaggerv1.CanaryAnalysis{
		StepWeight: 10, MaxWeight: 50,
		Judge: &flaggerv1.CanaryJudge{Baseline: true, MinRequests: 500},
		Metrics: []flaggerv1.CanaryMetric{{
			Name:        "errors",
			TemplateRef: &flaggerv1.CrossNamespaceObjectReference{Name: "errors"},
			Compare: &flaggerv1.MetricComparison{Kind: flaggerv1.CountComparison,
				TotalTemplateRef: &flaggerv1.CrossNamespaceObjectReference{Name: "requests"}},
		}},
	}
	if err := judge.ValidateJudge(analysis); err != nil {
		fmt.Println(err)
		return
	}
	c, _ := judge.CountConfigFor(analysis.Judge, analysis.Metrics[0], 0)

	stored := "" // status.judge[0].state: a new run
	for _, s := range []judge.Sample{
		{},
		{Baseline: judge.Counters{Requests: 600, Bad: 6}, Canary: judge.Counters{Requests: 600, Bad: 6}},
	} {
		st, err := judge.DecodeCountState(c, stored)
		if err != nil {
			// ErrStateVersion, ErrStateConfig or ErrStateCorrupt: start
			// over (and say so in an event), never judge on it.
			st = judge.CountState{}
		}
		st, d := c.Observe(st, s)
		stored, _ = judge.EncodeCountState(c, st)
		fmt.Println(d.Verdict, d.Reason, len(stored) < 1024)
	}
	_, err := judge.DecodeCountState(judge.CountConfig{ToleratedRatio: 2}, stored)
	fmt.Println(errors.Is(err, judge.ErrStateConfig))
	// Output:
	// Inconclusive NotEnoughTraffic true
	// Continue NotEnoughEvidence true
	// true
}
