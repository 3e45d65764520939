package main

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// result is what one run measured.
type result struct {
	cfg   config
	nodes int

	initWindow, idleWindow, rolloutWindow       window
	initTime                                    time.Duration
	initUsage, idleUsage, rolloutUsage          map[string]usage
	initRequests, idleRequests, rolloutRequests requests
	// apiserverRollout counts every client's requests during the rollout.
	apiserverRollout requests

	rolloutTimes []time.Duration
	failed       int
	gaps         []time.Duration
	stages       []stage
	onboardTime  time.Duration
	lateness     histogram
	// eventsPosted is when the operator had posted every event, counted
	// from the last release; eventsDropped is how many it dropped.
	eventsPosted  time.Duration
	eventsDropped float64
	// eventsDelivered counts the occurrences of Canary Events the API
	// server received from the rollout's start until the operator had
	// delivered them (see canaryEvents), or until -events-wait after the
	// last release for an operator that does not say what it still holds:
	// then eventsCut is set.
	eventsDelivered int
	eventsCut       bool

	// done holds the phases that ran to their end (phaseInit, phaseIdle,
	// phaseRollout, phaseEvents): a run cut short measured only those, and
	// the comparison shows "–" for the rest.
	done map[string]bool
}

// phaseEvents is the wait for the rollout's Events, after the rollout.
const phaseEvents = "events"

// finished reports whether a phase ran to its end.
func (r *result) finished(phase string) bool { return r.done[phase] }

func (r *result) finish(phase string) {
	if r.done == nil {
		r.done = map[string]bool{}
	}
	r.done[phase] = true
}

// summaryHeader is the header of the one-line-per-run table in RESULTS.md.
const summaryHeader = "| N | workloads | init (all Initialized) | idle API req/s | API req per canary per rollout (writes / reads) | step gap median / p99 | lateness p99 | rollout, all N (per canary: median / slowest) | operator CPU s init / idle / rollout | operator peak RSS |\n" +
	"|---|---|---|---|---|---|---|---|---|---|\n"

// markdown renders the summary row and the details of a run.
func (r *result) markdown() string {
	var b strings.Builder
	c := r.cfg
	metric := "no metrics"
	if c.prometheus {
		metric = "1 Prometheus metric"
	}
	flags := c.operator + " with its default flags"
	if len(c.opFlags) > 0 {
		flags = c.operator + " with flags " + strings.Join(c.opFlags, " ")
	}
	if c.memoryLimit > 0 {
		flags += fmt.Sprintf(", in a memory cgroup of %d MiB", c.memoryLimit>>20)
	}
	fmt.Fprintf(&b, "\n### N = %d (%s workloads, %d nodes; interval %s, stepWeight %d, maxWeight %d, %s; %s)\n\n",
		c.n, c.workloads, r.nodes, c.interval, c.stepWeight, c.maxWeight, metric, flags)
	if c.onboard > 0 {
		fmt.Fprintf(&b, "%d more canaries were created 2 s into the rollout; they were all Initialized %s s after.\n\n",
			c.onboard, seconds(r.onboardTime))
	}
	b.WriteString(summaryHeader)
	b.WriteString(r.summaryRow())
	switch {
	case r.eventsPosted > 0 && c.operator == operatorSerin:
		fmt.Fprintf(&b, "\nEvents: all posted %s s after the last release; %.0f dropped.\n", seconds(r.eventsPosted), r.eventsDropped)
	case r.eventsCut:
		fmt.Fprintf(&b, "\nEvents: still arriving %s after the last release, when the bench stopped waiting (-events-wait); counted what had arrived by then.\n", r.cfg.eventsWait)
	case r.eventsPosted > 0:
		fmt.Fprintf(&b, "\nEvents: the last delivered about %s s after the last release (to the bench's 5 s poll; the operator does not count what it drops).\n", seconds(r.eventsPosted))
	}
	if r.eventsDelivered > 0 {
		fmt.Fprintf(&b, "\nEvents delivered during the rollout: %d occurrences on Canaries, %.1f per release.\n",
			r.eventsDelivered, float64(r.eventsDelivered)/float64(c.n))
	}
	if len(r.stages) > 0 && len(r.stages[0].times) > 0 {
		b.WriteString("\nWhere each release's time went, per canary:\n\n")
		b.WriteString(r.stageTable())
	}
	b.WriteString("\nOperator API requests by verb and resource, from the audit log:\n\n")
	b.WriteString(r.requestTable())
	b.WriteString("\nCPU seconds and peak RSS per process and phase:\n\n")
	b.WriteString(r.usageTable())
	if len(r.apiserverRollout) > 0 {
		b.WriteString("\nAll clients' requests to kube-apiserver during the rollout (apiserver_request_total), the most frequent:\n\n")
		b.WriteString(r.apiserverTable(12))
	}
	if r.failed > 0 {
		fmt.Fprintf(&b, "\n**%d canaries Failed.**\n", r.failed)
	}
	return b.String()
}

func (r *result) summaryRow() string {
	n := float64(r.cfg.n)
	w, rd := split(r.rolloutRequests)
	op := r.cfg.operator
	serin := func(u map[string]usage) string { return seconds(u[op].cpu) }
	peak := max(r.initUsage[op].peakRSS, r.idleUsage[op].peakRSS, r.rolloutUsage[op].peakRSS)
	return fmt.Sprintf("| %d | %s | %s | %s | %.1f (%.1f / %.1f) | %s / %s s (%d gaps) | %s s | %s (%s / %s) | %s / %s / %s | %s |\n",
		r.cfg.n, r.cfg.workloads, seconds(r.initTime), perSecond(r.idleRequests.total(), r.idleWindow.duration()),
		float64(r.rolloutRequests.total())/n, float64(w)/n, float64(rd)/n,
		seconds(percentile(r.gaps, 50)), seconds(percentile(r.gaps, 99)), len(r.gaps), quantile(r.lateness, 0.99),
		seconds(r.rolloutWindow.duration()), seconds(percentile(r.rolloutTimes, 50)), seconds(percentile(r.rolloutTimes, 100)),
		serin(r.initUsage), serin(r.idleUsage), serin(r.rolloutUsage), mib(peak))
}

// stageTable lists the legs of a release with their spread over the
// canaries.
func (r *result) stageTable() string {
	var b strings.Builder
	b.WriteString("| leg | ideal | median | p90 | slowest |\n|---|---|---|---|---|\n")
	for _, s := range r.stages {
		fmt.Fprintf(&b, "| %s | %s | %s s | %s s | %s s |\n", s.name, s.ideal,
			seconds(percentile(s.times, 50)), seconds(percentile(s.times, 90)), seconds(percentile(s.times, 100)))
	}
	return b.String()
}

// requestTable lists every request kind: per canary during init, per
// second while idle, per canary during the rollout.
func (r *result) requestTable() string {
	var b strings.Builder
	b.WriteString("| request | init, per canary | idle, per second | rollout, per canary |\n|---|---|---|---|\n")
	keys := map[string]bool{}
	for _, reqs := range []requests{r.initRequests, r.idleRequests, r.rolloutRequests} {
		for k := range reqs {
			keys[k] = true
		}
	}
	n := float64(r.cfg.n)
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		fmt.Fprintf(&b, "| %s | %.2f | %s | %.2f |\n", k, float64(r.initRequests[k])/n,
			perSecond(r.idleRequests[k], r.idleWindow.duration()), float64(r.rolloutRequests[k])/n)
	}
	fmt.Fprintf(&b, "| **total** | %.2f | %s | %.2f |\n", float64(r.initRequests.total())/n,
		perSecond(r.idleRequests.total(), r.idleWindow.duration()), float64(r.rolloutRequests.total())/n)
	return b.String()
}

func (r *result) usageTable() string {
	var b strings.Builder
	b.WriteString("| process | init CPU s | idle CPU s | rollout CPU s | peak RSS |\n|---|---|---|---|---|\n")
	names := slices.Sorted(maps.Keys(r.initUsage))
	for _, name := range names {
		peak := max(r.initUsage[name].peakRSS, r.idleUsage[name].peakRSS, r.rolloutUsage[name].peakRSS)
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", name, seconds(r.initUsage[name].cpu),
			seconds(r.idleUsage[name].cpu), seconds(r.rolloutUsage[name].cpu), mib(peak))
	}
	fmt.Fprintf(&b, "\nPhases: init %s, idle %s, rollout %s (wall clock).\n",
		seconds(r.initWindow.duration()), seconds(r.idleWindow.duration()), seconds(r.rolloutWindow.duration()))
	return b.String()
}

// apiserverTable lists the top request kinds of all clients, per second.
func (r *result) apiserverTable(top int) string {
	var b strings.Builder
	b.WriteString("| request | per second |\n|---|---|\n")
	keys := slices.SortedFunc(maps.Keys(r.apiserverRollout), func(x, y string) int {
		return r.apiserverRollout[y] - r.apiserverRollout[x]
	})
	d := r.rolloutWindow.duration()
	for _, k := range keys[:min(top, len(keys))] {
		fmt.Fprintf(&b, "| %s | %s |\n", k, perSecond(r.apiserverRollout[k], d))
	}
	fmt.Fprintf(&b, "| **all** | %s |\n", perSecond(r.apiserverRollout.total(), d))
	return b.String()
}

// split counts writes and reads.
func split(reqs requests) (writes, reads int) {
	for k, n := range reqs {
		switch verb, _, _ := strings.Cut(k, " "); verb {
		case "get", "list", "watch":
			reads += n
		default:
			writes += n
		}
	}
	return writes, reads
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.1f", d.Seconds()) }

func perSecond(n int, d time.Duration) string {
	if d <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", float64(n)/d.Seconds())
}

func quantile(h histogram, q float64) string {
	v := h.quantile(q)
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.2f", v)
}

func mib(b uint64) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%d MiB", b>>20)
}
