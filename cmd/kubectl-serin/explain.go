package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/history"
)

func explainFlags(o *options) {
	o.nargs = 1
	o.outputFlag()
	o.fs.IntVar(&o.run, "run", 0, "the run to explain (default: the canary's current or last run)")
}

// runExplain prints the timeline of one run from the canary's history:
// tick by tick, the weight, each check with its value, threshold and
// verdict, the events, and how the run ended.
func runExplain(ctx context.Context, c *cli) int {
	name := c.opts.args[0]
	cd, run, err := c.historyRun(ctx, name, c.opts.run)
	if err != nil {
		fmt.Fprintf(c.errOut, "kubectl serin %s: %v\n", c.opts.name, err)
		return exitError
	}
	text, err := c.format(run, func() string { return renderRun(cd, run, c.color) })
	if err != nil {
		fmt.Fprintf(c.errOut, "kubectl serin explain: %v\n", err)
		return exitError
	}
	fmt.Fprint(c.out, text)
	return exitOK
}

// historyRun reads run n (0: the canary's current or last run) of a
// canary's history.
func (c *cli) historyRun(ctx context.Context, name string, n int) (*flaggerv1.Canary, history.Run, error) {
	cd, err := c.serin.FlaggerV1beta1().Canaries(c.namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, history.Run{}, err
	}
	cmName := cd.Status.History
	if cmName == "" {
		cmName = history.Name(cd.Name)
	}
	cm, err := c.kube.CoreV1().ConfigMaps(c.namespace).Get(ctx, cmName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, history.Run{}, fmt.Errorf("%s/%s has no history yet: no run has been analysed", c.namespace, name)
	}
	if err != nil {
		return nil, history.Run{}, err
	}
	runs, err := history.Parse(cm.Data)
	if err != nil {
		return nil, history.Run{}, err
	}
	if len(runs) == 0 {
		return nil, history.Run{}, fmt.Errorf("%s/%s has no history yet: no run has been analysed", c.namespace, name)
	}
	if n == 0 {
		n = cd.Status.Run
	}
	i := slices.IndexFunc(runs, func(r history.Run) bool { return r.Number == n })
	if i < 0 {
		var kept []string
		for _, r := range runs {
			kept = append(kept, fmt.Sprint(r.Number))
		}
		return nil, history.Run{}, fmt.Errorf("run %d is not in the history of %s/%s, which keeps runs %s",
			n, c.namespace, name, strings.Join(kept, ", "))
	}
	return cd, runs[i], nil
}

// errNoOutcome means a run has not ended yet.
var errNoOutcome = errors.New("the run has not ended")

// outcome says how a run ended, from its last tick: the phase and the
// event that says why.
func outcome(run history.Run) (flaggerv1.CanaryPhase, string, error) {
	if len(run.Entries) == 0 {
		return "", "", errNoOutcome
	}
	last := run.Entries[len(run.Entries)-1]
	switch last.Phase {
	case flaggerv1.CanaryPhaseSucceeded, flaggerv1.CanaryPhaseFailed:
	default:
		return last.Phase, "", errNoOutcome
	}
	// The event that explains a rollback is the first warning of the tick
	// that rolled back ("Rolling back ... failed checks threshold reached
	// 5", before "Canary failed! Scaling down"); a promotion ends with a
	// normal one ("Promotion completed!").
	for i := len(run.Entries) - 1; i >= 0; i-- {
		es := run.Entries[i].Events
		if last.Phase == flaggerv1.CanaryPhaseFailed {
			for _, e := range es {
				if e.Type == "Warning" {
					return last.Phase, e.Message, nil
				}
			}
			continue
		}
		if len(es) > 0 {
			return last.Phase, es[len(es)-1].Message, nil
		}
	}
	return last.Phase, "", nil
}

// renderRun renders a run's timeline.
func renderRun(cd *flaggerv1.Canary, run history.Run, color bool) string {
	var b strings.Builder
	revision := "-"
	if len(run.Entries) > 0 {
		revision = dash(run.Entries[0].Revision)
	}
	fmt.Fprintf(&b, "Run %d of %s/%s, revision %s\n", run.Number, cd.Namespace, cd.Name, revision)
	if len(run.Entries) > 0 && run.Entries[0].Dropped > 0 {
		fmt.Fprintf(&b, "(the first %d ticks of this run were dropped to keep the history small)\n", run.Entries[0].Dropped)
	}
	b.WriteString("\n")
	w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "TIME\tPHASE\tWEIGHT\tFAILED\tWHAT")
	for _, e := range run.Entries {
		head := fmt.Sprintf("%s\t%s\t%d\t%d", e.Time.UTC().Format(time.TimeOnly), paint(string(e.Phase), color), e.Weight, e.FailedChecks)
		lines := whatLines(e, color)
		for i, l := range lines {
			if i > 0 {
				head = "\t\t\t"
			}
			fmt.Fprintf(w, "%s\t%s\n", head, l)
		}
	}
	_ = w.Flush()
	phase, why, err := outcome(run)
	switch {
	case errors.Is(err, errNoOutcome):
		fmt.Fprintf(&b, "\nOutcome: still running (%s)\n", dash(string(phase)))
	case phase == flaggerv1.CanaryPhaseFailed:
		fmt.Fprintf(&b, "\nOutcome: %s: %s\n", paint("Failed", color), dash(why))
	default:
		fmt.Fprintf(&b, "\nOutcome: %s: %s\n", paint(string(phase), color), dash(why))
	}
	return b.String()
}

// whatLines are the lines of one tick: its checks, then its events.
func whatLines(e history.Entry, color bool) []string {
	var lines []string
	for _, ch := range e.Checks {
		var l string
		switch ch.Kind {
		case flaggerv1.MetricCheck:
			l = fmt.Sprintf("metric %s = %s (%s): %s", ch.Name, shortValue(ch.Value), dash(ch.Threshold), paintVerdict(string(ch.Verdict), color))
		default:
			l = fmt.Sprintf("%s webhook %s: %s", ch.Type, ch.Name, paintVerdict(string(ch.Verdict), color))
			if ch.Value != "" {
				l += " (" + ch.Value + ")"
			}
		}
		if ch.Message != "" && ch.Verdict != flaggerv1.CheckPass {
			l += ": " + ch.Message
		}
		lines = append(lines, l)
	}
	for _, ev := range e.Events {
		typ := ev.Type
		if color && typ == "Warning" {
			typ = red + typ + reset
		}
		lines = append(lines, fmt.Sprintf("%s %s", typ, ev.Message))
	}
	if len(lines) == 0 {
		lines = []string{"-"}
	}
	return lines
}

// shortValue prints a recorded value with 6 significant digits (the record
// keeps them all; -o json shows them): 60.00000000000001 reads 60.
func shortValue(v string) string {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return dash(v)
	}
	return strconv.FormatFloat(f, 'g', 6, 64)
}
