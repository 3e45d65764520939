package controller

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/analysis"
	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/judge"
	"github.com/serin-dev/serin/pkg/metrics"
)

// CompareMetric runs the judge's tick for a compared metric: it asks the
// metric's template for the baseline and the canary arms ({{ arm }},
// {{ workload }}), all at one evaluation time, folds the answers into the
// stored state and decides (see analysis.Checks).
func (k *checks) CompareMetric(ctx context.Context, metric flaggerv1.CanaryMetric, index int, state string, final bool) (analysis.Comparison, error) {
	a := k.cd.GetAnalysis()
	at, start := evaluationTime(), time.Now()
	rec := flaggerv1.CheckResult{Kind: flaggerv1.MetricCheck, Name: metric.Name, Type: "judge/" + string(metric.Compare.Kind),
		EvaluatedAt: metav1.NewTime(at)}
	defer func() {
		rec.DurationMilliseconds = time.Since(start).Milliseconds()
		k.records.add(rec)
	}()
	fail := func(err error) (analysis.Comparison, error) {
		rec.Verdict, rec.Message = flaggerv1.CheckError, firstLine(err.Error())
		return analysis.Comparison{}, err
	}
	if metric.TemplateRef == nil {
		return fail(fmt.Errorf("spec.analysis.metrics[%d].templateRef: a compared metric needs a MetricTemplate", index))
	}
	var c analysis.Comparison
	switch metric.Compare.Kind {
	case flaggerv1.CountComparison:
		cfg, err := judge.CountConfigFor(a.Judge, metric, index)
		if err != nil {
			return fail(err)
		}
		sample, err := k.countSample(ctx, metric, at)
		if err != nil {
			return fail(err)
		}
		st, err := judge.DecodeCountState(cfg, state)
		if err != nil {
			k.log.WithError(err).Warnf("judge %s: starting its test over", metric.Name)
			st = judge.CountState{}
		}
		next, d := cfg.Observe(st, sample)
		encoded, err := judge.EncodeCountState(cfg, next)
		if err != nil {
			return fail(err)
		}
		c = analysis.Comparison{State: encoded, Decision: d}
		rec.Threshold = "canary rate ≤ " + formatRatio(cfg.WithDefaults().ToleratedRatio) + "× baseline"
		if s := d.Counts; s != nil {
			rec.Value = fmt.Sprintf("canary %s vs baseline %s", percent(s.Canary), percent(s.Baseline))
		}
	case flaggerv1.ContinuousComparison:
		cfg, err := judge.RankConfigFor(a.Judge, metric, index)
		if err != nil {
			return fail(err)
		}
		series, err := judge.DecodeSeries(state)
		if err != nil {
			k.log.WithError(err).Warnf("judge %s: starting its series over", metric.Name)
			series = judge.Series{}
		}
		b, err := k.armValue(ctx, metric, metrics.ArmBaseline, at)
		if err != nil {
			return fail(err)
		}
		v, err := k.armValue(ctx, metric, metrics.ArmCanary, at)
		if err != nil {
			return fail(err)
		}
		series = series.Append(b, v)
		d := judge.Decision{Verdict: judge.Continue, Reason: judge.ReasonNotEnoughEvidence,
			Message: fmt.Sprintf("%d baseline and %d canary values; compared on the last step", len(series.Baseline), len(series.Canary))}
		if final {
			d = cfg.Compare(series.Baseline, series.Canary)
		}
		c = analysis.Comparison{State: judge.EncodeSeries(series), Decision: d}
		rec.Value = fmt.Sprintf("canary %s vs baseline %s", strconv.FormatFloat(v, 'g', 6, 64), strconv.FormatFloat(b, 'g', 6, 64))
		rec.Threshold = "shift ≤ " + formatRatio(cfg.ToleratedShift) + " of the baseline's median"
	default:
		return fail(fmt.Errorf("spec.analysis.metrics[%d].compare.kind: %q is neither count nor continuous", index, metric.Compare.Kind))
	}
	rec.Verdict, rec.Message = checkVerdict(c.Decision.Verdict), firstLine(c.Decision.Message)
	return c, nil
}

// countSample asks the bad-event and request counters of both arms.
// A counter with no series yet (no request has reached the arm) is 0.
func (k *checks) countSample(ctx context.Context, metric flaggerv1.CanaryMetric, at time.Time) (judge.Sample, error) {
	total := metric
	total.Name = metric.Name + " total"
	total.TemplateRef = metric.Compare.TotalTemplateRef
	var s judge.Sample
	for _, arm := range []struct {
		name     string
		counters *judge.Counters
	}{{metrics.ArmBaseline, &s.Baseline}, {metrics.ArmCanary, &s.Canary}} {
		bad, err := k.armCounter(ctx, metric, arm.name, at)
		if err != nil {
			return s, err
		}
		requests, err := k.armCounter(ctx, total, arm.name, at)
		if err != nil {
			return s, err
		}
		*arm.counters = judge.Counters{Requests: requests, Bad: bad}
	}
	return s, nil
}

// armCounter asks a cumulative counter of one arm; no data is 0.
func (k *checks) armCounter(ctx context.Context, metric flaggerv1.CanaryMetric, arm string, at time.Time) (float64, error) {
	v, err := k.armValue(ctx, metric, arm, at)
	if math.IsNaN(v) && err == nil {
		return 0, nil
	}
	return v, err
}

// armValue asks a metric's template for one arm; no data is NaN, which the
// judge leaves out.
func (k *checks) armValue(ctx context.Context, metric flaggerv1.CanaryMetric, arm string, at time.Time) (float64, error) {
	r, err := k.fromTemplate(metric, metrics.NewModel(k.cd, metric).ForArm(arm))
	if err != nil {
		return 0, err
	}
	v, err := r.provider.RunQuery(ctx, r.query, at)
	switch {
	case errors.Is(err, metrics.ErrNoValues):
		return math.NaN(), nil
	case err != nil:
		k.metrics.observeProviderError(r.providerType)
		return 0, fmt.Errorf("Metric query failed for %s (%s): %v", metric.Name, arm, err)
	}
	return v, nil
}

// checkVerdict is the record's verdict of a judge's decision.
func checkVerdict(v judge.Verdict) flaggerv1.CheckVerdict {
	switch v {
	case judge.Pass:
		return flaggerv1.CheckPass
	case judge.Fail:
		return flaggerv1.CheckFail
	case judge.Inconclusive:
		return flaggerv1.CheckInconclusive
	}
	return flaggerv1.CheckContinue
}

// percent is an arm's bad-event rate, with its counts.
func percent(a judge.Arm) string {
	return fmt.Sprintf("%s%% (%.0f of %.0f)", strconv.FormatFloat(100*a.Rate, 'g', 3, 64), a.Bad, a.Requests)
}

func formatRatio(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
