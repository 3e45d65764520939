package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/history"
	"github.com/serin-dev/serin/pkg/metrics"
)

func replayFlags(o *options) {
	o.nargs = 1
	o.outputFlag()
	o.fs.IntVar(&o.run, "run", 0, "the run to replay (default: the canary's current or last run)")
	o.fs.Func("set", "change a threshold for the replay, METRIC.min=V or METRIC.max=V (repeatable)", func(s string) error {
		if _, _, _, err := parseSet(s); err != nil {
			return err
		}
		o.sets = append(o.sets, s)
		return nil
	})
	o.fs.StringVar(&o.metricsURL, "metrics-url", "", "ask this Prometheus instead of the recorded address "+
		"(e.g. http://localhost:9090 through kubectl port-forward)")
}

// parseSet reads a --set: the metric, the bound (min or max) and the value.
func parseSet(s string) (metric, bound string, v float64, err error) {
	key, value, ok := strings.Cut(s, "=")
	dot := strings.LastIndex(key, ".")
	if !ok || dot <= 0 {
		return "", "", 0, fmt.Errorf("--set %q: want METRIC.min=V or METRIC.max=V", s)
	}
	metric, bound = key[:dot], key[dot+1:]
	if bound != "min" && bound != "max" {
		return "", "", 0, fmt.Errorf("--set %q: the bound is min or max, not %q", s, bound)
	}
	if v, err = strconv.ParseFloat(value, 64); err != nil || math.IsNaN(v) {
		return "", "", 0, fmt.Errorf("--set %q: %q is not a number", s, value)
	}
	return metric, bound, v, nil
}

// replayed is one metric check asked again.
type replayed struct {
	Time            time.Time `json:"time"`
	Metric          string    `json:"metric"`
	Threshold       string    `json:"threshold"`
	RecordedValue   string    `json:"recordedValue"`
	RecordedVerdict string    `json:"recordedVerdict"`
	Value           string    `json:"value"`
	Verdict         string    `json:"verdict"`
	Error           string    `json:"error,omitempty"`
}

// replay is what `replay` prints.
type replay struct {
	Run    int        `json:"run"`
	Checks []replayed `json:"checks"`
	// FailedTicks counts the ticks with a failed check, replayed, against
	// the threshold of failed checks.
	FailedTicks int `json:"failedTicks"`
	Threshold   int `json:"threshold"`
	// RolledBack says whether the replayed checks reach the threshold.
	RolledBack bool `json:"rolledBack"`
	// Differences counts the checks whose verdict changed.
	Differences int `json:"differences"`
}

// runReplay asks the recorded queries of a run again at their recorded
// times, and judges the answers with the canary's thresholds as they are
// now, changed by --set: "would this release have failed with max 2?".
// Exit 0: the replayed run stays under the threshold of failed checks;
// 1: it reaches it (it would roll back); 3: the replay could not run.
func runReplay(ctx context.Context, c *cli) int {
	cd, run, err := c.historyRun(ctx, c.opts.args[0], c.opts.run)
	if err == nil {
		err = applySets(cd, c.opts.sets)
	}
	if err != nil {
		fmt.Fprintf(c.errOut, "kubectl serin replay: %v\n", err)
		return exitError
	}
	r, err := c.replayRun(ctx, cd, run)
	if err != nil {
		fmt.Fprintf(c.errOut, "kubectl serin replay: %v\n", err)
		return exitError
	}
	text, err := c.format(r, func() string { return renderReplay(r, c.color) })
	if err != nil {
		fmt.Fprintf(c.errOut, "kubectl serin replay: %v\n", err)
		return exitError
	}
	fmt.Fprint(c.out, text)
	if r.RolledBack {
		return exitFailed
	}
	return exitOK
}

// applySets changes the thresholds of cd's metrics as --set asks.
func applySets(cd *flaggerv1.Canary, sets []string) error {
	a := cd.GetAnalysis()
	for _, s := range sets {
		name, bound, v, err := parseSet(s)
		if err != nil {
			return err
		}
		found := false
		for i := range a.Metrics {
			m := &a.Metrics[i]
			if m.Name != name {
				continue
			}
			found = true
			if m.ThresholdRange == nil {
				// The legacy threshold becomes the range it stands for.
				m.ThresholdRange = legacyRange(*m)
			}
			if bound == "min" {
				m.ThresholdRange.Min = &v
			} else {
				m.ThresholdRange.Max = &v
			}
		}
		if !found {
			return fmt.Errorf("--set %q: %s/%s has no metric %q", s, cd.Namespace, cd.Name, name)
		}
	}
	return nil
}

// legacyRange is the range the deprecated threshold field stands for: a
// minimum for the success rate, a maximum otherwise (see metrics.Check).
func legacyRange(m flaggerv1.CanaryMetric) *flaggerv1.CanaryThresholdRange {
	v := m.Threshold
	if metrics.KindOf(m) == metrics.KindRequestSuccessRate {
		return &flaggerv1.CanaryThresholdRange{Min: &v}
	}
	return &flaggerv1.CanaryThresholdRange{Max: &v}
}

// replayRun asks each recorded metric query again.
func (c *cli) replayRun(ctx context.Context, cd *flaggerv1.Canary, run history.Run) (replay, error) {
	r := replay{Run: run.Number, Threshold: cd.GetAnalysisThreshold()}
	specs := map[string]flaggerv1.CanaryMetric{}
	for _, m := range cd.GetAnalysis().Metrics {
		specs[m.Name] = m
	}
	providers := map[string]metrics.Provider{}
	for _, e := range run.Entries {
		tickFailed := false
		for _, ch := range e.Checks {
			if ch.Kind != flaggerv1.MetricCheck || ch.Query == "" {
				continue
			}
			spec, ok := specs[ch.Name]
			if !ok {
				return r, fmt.Errorf("run %d checked metric %q, which the canary no longer has", run.Number, ch.Name)
			}
			rp := replayed{Time: ch.EvaluatedAt.Time, Metric: ch.Name, Threshold: metrics.ThresholdText(spec),
				RecordedValue: ch.Value, RecordedVerdict: string(ch.Verdict)}
			p, err := c.replayProvider(providers, ch)
			if err != nil {
				return r, err
			}
			value, err := p.RunQuery(ctx, ch.Query, ch.EvaluatedAt.Time)
			switch {
			case errors.Is(err, metrics.ErrNoValues):
				rp.Verdict = string(flaggerv1.CheckNoData)
			case err != nil:
				// The query ran when it was recorded: an error now is most
				// likely a Prometheus this machine cannot reach.
				return r, fmt.Errorf("metric %s at %s: %w (is %s reachable from here? "+
					"try kubectl port-forward and --metrics-url http://localhost:9090)",
					ch.Name, ch.EvaluatedAt.UTC().Format(time.RFC3339), err, c.replayAddress(ch))
			default:
				rp.Value = strconv.FormatFloat(value, 'g', -1, 64)
				rp.Verdict = string(flaggerv1.CheckPass)
				if ok, _ := metrics.Check(cd, spec, value); !ok {
					rp.Verdict = string(flaggerv1.CheckFail)
				}
			}
			if rp.Verdict != string(flaggerv1.CheckPass) {
				tickFailed = true
			}
			if rp.Verdict != rp.RecordedVerdict {
				r.Differences++
			}
			r.Checks = append(r.Checks, rp)
		}
		if tickFailed {
			r.FailedTicks++
		}
	}
	r.RolledBack = r.FailedTicks >= r.Threshold && r.FailedTicks > 0
	return r, nil
}

// replayAddress is the Prometheus a record was asked of, or --metrics-url.
func (c *cli) replayAddress(ch flaggerv1.CheckResult) string {
	if c.opts.metricsURL != "" {
		return c.opts.metricsURL
	}
	return ch.Address
}

// replayProvider is the provider of replayAddress.
func (c *cli) replayProvider(cache map[string]metrics.Provider, ch flaggerv1.CheckResult) (metrics.Provider, error) {
	address := c.replayAddress(ch)
	if ch.Type != "" && ch.Type != metrics.TypePrometheus {
		return nil, fmt.Errorf("metric %s was asked of a %s provider; replay asks Prometheus only", ch.Name, ch.Type)
	}
	if p, ok := cache[address]; ok {
		return p, nil
	}
	p, err := metrics.NewProvider(metrics.ProviderConfig{Type: metrics.TypePrometheus, Address: address, Timeout: 10 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("metric %s: %w", ch.Name, err)
	}
	cache[address] = p
	return p, nil
}

// renderReplay renders a replay as a table and a verdict.
func renderReplay(r replay, color bool) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "TIME\tMETRIC\tRECORDED\tREPLAYED\tTHRESHOLD\t")
	for _, ch := range r.Checks {
		mark := "same"
		if ch.Verdict != ch.RecordedVerdict {
			mark = paintVerdict("DIFFERENT", color)
		}
		replayedText := shortValue(ch.Value) + " " + paintVerdict(ch.Verdict, color)
		if ch.Error != "" {
			replayedText += " (" + ch.Error + ")"
		}
		fmt.Fprintf(w, "%s\t%s\t%s %s\t%s\t%s\t%s\n", ch.Time.UTC().Format(time.TimeOnly), ch.Metric,
			shortValue(ch.RecordedValue), paintVerdict(ch.RecordedVerdict, color), replayedText, ch.Threshold, mark)
	}
	_ = w.Flush()
	verdict := "would stay under the threshold"
	if r.RolledBack {
		verdict = "would roll back"
	}
	fmt.Fprintf(&b, "\nRun %d replayed: %d of %d checks differ; %d ticks with a failed check, threshold %d: %s.\n",
		r.Run, r.Differences, len(r.Checks), r.FailedTicks, r.Threshold, verdict)
	b.WriteString("(Only the ticks the run took are replayed: a run that rolled back early cannot tell how its later steps would have gone.)\n")
	return b.String()
}
