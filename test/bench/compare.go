package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// variant is one run of a comparison: an operator and its flags.
type variant struct {
	label    string
	operator string
	flags    []string
}

// compareVariants are the runs of -compare, in order. Serin comes last: it
// is what the ratios divide by.
func compareVariants() []variant {
	return []variant{
		{label: "Flagger, defaults", operator: operatorFlagger},
		{label: "Flagger, Serin's limits", operator: operatorFlagger, flags: serinLimits},
		{label: "Serin", operator: operatorSerin},
	}
}

// column is what one variant measured, or why it stopped.
type column struct {
	label    string
	measured bool
	figures  figures
	err      error
}

// figures are the numbers a comparison sets side by side.
type figures struct {
	idleRate         float64 // the operator's API requests per second while idle
	perRelease       float64 // the operator's API requests per canary in the rollout
	gapMedian        time.Duration
	gapP99           time.Duration
	allReleases      time.Duration
	init             time.Duration
	cpu              time.Duration // the operator's, over init, idle and rollout
	peakRSS          uint64
	eventsPerRelease float64
	// done holds the phases that ran to their end; the figures of the
	// others are not measurements.
	done map[string]bool
}

// runCompare runs every variant on a fresh control plane, one after the
// other, printing each run's report to out as it ends, then the table of
// ratios. It returns everything it printed, and the errors of the runs that
// failed; a failed run still has its column.
func runCompare(ctx context.Context, cfg config, out io.Writer) (string, error) {
	if cfg.serinBinary == "" {
		// Serin runs last: build it first, so that a tree that does not
		// build fails now rather than after the Flagger runs, and later
		// edits to the tree do not end up in the comparison.
		dir, err := os.MkdirTemp("", "serin-bench-compare-")
		if err != nil {
			return "", err
		}
		defer os.RemoveAll(dir)
		if cfg.serinBinary, err = buildOperator(ctx, dir); err != nil {
			return "", err
		}
	}
	var report strings.Builder
	var cols []column
	var errs []error
	for _, v := range compareVariants() {
		c := cfg
		c.compare, c.operator, c.opFlags = false, v.operator, v.flags
		if v.operator != operatorSerin {
			c.profileDir = ""
		}
		c.logf("bench: compare: %s", v.label)
		res, err := run(ctx, c)
		col := column{label: v.label, err: err}
		if res != nil {
			text := res.markdown()
			fmt.Fprint(out, text)
			report.WriteString(text)
			col.measured, col.figures = true, figuresOf(res)
		}
		if err != nil {
			c.logf("bench: compare: %s: %v", v.label, err)
			errs = append(errs, fmt.Errorf("%s: %w", v.label, err))
		}
		cols = append(cols, col)
		if ctx.Err() != nil {
			break
		}
	}
	table := compareTable(cfg, cols)
	fmt.Fprint(out, table)
	report.WriteString(table)
	return report.String(), errors.Join(errs...)
}

// figuresOf takes the compared numbers out of a run's result.
func figuresOf(r *result) figures {
	n := float64(r.cfg.n)
	op := r.cfg.operator
	f := figures{
		perRelease:       float64(r.rolloutRequests.total()) / n,
		gapMedian:        percentile(r.gaps, 50),
		gapP99:           percentile(r.gaps, 99),
		allReleases:      r.rolloutWindow.duration(),
		init:             r.initTime,
		cpu:              r.initUsage[op].cpu + r.idleUsage[op].cpu + r.rolloutUsage[op].cpu,
		peakRSS:          max(r.initUsage[op].peakRSS, r.idleUsage[op].peakRSS, r.rolloutUsage[op].peakRSS),
		eventsPerRelease: float64(r.eventsDelivered) / n,
		done:             r.done,
	}
	if d := r.idleWindow.duration(); d > 0 {
		f.idleRate = float64(r.idleRequests.total()) / d.Seconds()
	}
	return f
}

// compareRow is one line of the comparison: a name, the number, its format
// and the phases it needs to have run to their end.
type compareRow struct {
	name   string
	value  func(figures) float64
	format string
	needs  []string
}

var compareRows = []compareRow{
	{"idle API requests/s", func(f figures) float64 { return f.idleRate }, "%.2f", []string{phaseIdle}},
	{"API requests per release", func(f figures) float64 { return f.perRelease }, "%.1f", []string{phaseRollout}},
	{"step gap median", func(f figures) float64 { return f.gapMedian.Seconds() }, "%.1f s", []string{phaseRollout}},
	{"step gap p99", func(f figures) float64 { return f.gapP99.Seconds() }, "%.1f s", []string{phaseRollout}},
	{"all releases (first new revision → last Succeeded)", func(f figures) float64 { return f.allReleases.Seconds() }, "%.1f s", []string{phaseRollout}},
	{"init (last Canary created → last Initialized)", func(f figures) float64 { return f.init.Seconds() }, "%.1f s", []string{phaseInit}},
	{"operator CPU, init + idle + rollout", func(f figures) float64 { return f.cpu.Seconds() }, "%.1f s", []string{phaseInit, phaseIdle, phaseRollout}},
	// A peak is a peak however far the run got: a cut-short run's is a
	// lower bound, shown as such.
	{"operator peak RSS", func(f figures) float64 { return float64(f.peakRSS >> 20) }, "%.0f MiB", nil},
	{"Events delivered per release", func(f figures) float64 { return f.eventsPerRelease }, "%.1f", []string{phaseEvents}},
}

// allPhases are the phases of a whole run.
var allPhases = []string{phaseInit, phaseIdle, phaseRollout, phaseEvents}

// has reports whether the phases a row needs ran to their end.
func (f figures) has(phases []string) bool {
	for _, p := range phases {
		if !f.done[p] {
			return false
		}
	}
	return true
}

// compareTable renders the figures of every column and, for every column
// but the last, its ratio to the last (Serin).
func compareTable(cfg config, cols []column) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n### Flagger 1.44.0 and Serin side by side: N = %d (%s workloads; interval %s, stepWeight %d, maxWeight %d)\n\n",
		cfg.n, cfg.workloads, cfg.interval, cfg.stepWeight, cfg.maxWeight)
	if len(cols) == 0 {
		return b.String()
	}
	ref := cols[len(cols)-1]
	b.WriteString("| |")
	for _, c := range cols {
		b.WriteString(" " + c.label + " |")
	}
	for _, c := range cols[:len(cols)-1] {
		fmt.Fprintf(&b, " %s ÷ %s |", c.label, ref.label)
	}
	b.WriteString("\n|---|" + strings.Repeat("---|", 2*len(cols)-1) + "\n")
	for _, row := range compareRows {
		b.WriteString("| " + row.name + " |")
		for _, c := range cols {
			b.WriteString(" " + cell(c, row) + " |")
		}
		for _, c := range cols[:len(cols)-1] {
			r := "–"
			// A lower bound (a cut-short run's peak) has no ratio to a
			// whole run's figure.
			bounds := len(row.needs) == 0 && c.figures.has(allPhases) != ref.figures.has(allPhases)
			if measured(c, row) && measured(ref, row) && !bounds {
				r = ratio(row.value(c.figures), row.value(ref.figures))
			}
			b.WriteString(" " + r + " |")
		}
		b.WriteString("\n")
	}
	for _, c := range cols {
		if c.err != nil {
			fmt.Fprintf(&b, "\n%s: the run stopped early (%v); its figures are partial.\n", c.label, c.err)
		}
	}
	return b.String()
}

// measured reports whether a column has a measurement for a row.
func measured(c column, row compareRow) bool {
	return c.measured && c.figures.has(row.needs)
}

// cell renders a column's figure, "–" where its run did not measure it, and
// "≥" before a peak of a run cut short.
func cell(c column, row compareRow) string {
	if !measured(c, row) {
		return "–"
	}
	v := fmt.Sprintf(row.format, row.value(c.figures))
	if len(row.needs) == 0 && !c.figures.has(allPhases) {
		v = "≥ " + v
	}
	return v
}

// ratio renders a / b: "∞" when only b is zero, "1×" when both are.
func ratio(a, b float64) string {
	switch {
	case b == 0 && a == 0:
		return "1×"
	case b == 0:
		return "∞"
	}
	r := a / b
	switch {
	case r >= 10:
		return fmt.Sprintf("%.0f×", r)
	case r >= 0.1:
		return fmt.Sprintf("%.1f×", r)
	default:
		return fmt.Sprintf("%.2f×", r)
	}
}
