package main

import (
	"bufio"
	"bytes"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// latenessMetric is the operator's histogram of how late analysis steps ran.
const latenessMetric = "serin_analysis_lateness_seconds"

// Metrics of the operator's event recorder.
const (
	eventsPendingMetric = "serin_events_pending"
	eventsDroppedMetric = "serin_events_dropped_total"
)

// parseSample reads the value of an unlabelled gauge or counter from the
// text exposition format.
func parseSample(text []byte, name string) (float64, bool) {
	sc := bufio.NewScanner(bytes.NewReader(text))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), name+" ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
		return v, err == nil
	}
	return 0, false
}

// histogram is a cumulative Prometheus histogram: upper bounds and counts.
type histogram struct {
	bounds []float64
	counts []float64
}

// parseHistogram reads the buckets of an unlabelled histogram from the
// text exposition format.
func parseHistogram(text []byte, name string) histogram {
	var h histogram
	sc := bufio.NewScanner(bytes.NewReader(text))
	prefix := name + `_bucket{le="`
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), prefix)
		if !ok {
			continue
		}
		le, value, ok := strings.Cut(rest, `"} `)
		if !ok {
			continue
		}
		bound, err1 := strconv.ParseFloat(le, 64)
		count, err2 := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err1 == nil && err2 == nil {
			h.bounds = append(h.bounds, bound)
			h.counts = append(h.counts, count)
		}
	}
	return h
}

// sub returns the observations of h that o did not have yet.
func (h histogram) sub(o histogram) histogram {
	d := histogram{bounds: h.bounds, counts: slices.Clone(h.counts)}
	if len(o.counts) == len(h.counts) {
		for i := range d.counts {
			d.counts[i] -= o.counts[i]
		}
	}
	return d
}

func (h histogram) total() float64 {
	if len(h.counts) == 0 {
		return 0
	}
	return h.counts[len(h.counts)-1]
}

// quantile estimates the q-quantile as PromQL's histogram_quantile does:
// linear interpolation inside the bucket, the highest finite bound for the
// +Inf bucket.
func (h histogram) quantile(q float64) float64 {
	total := h.total()
	if total == 0 {
		return math.NaN()
	}
	rank := q * total
	lower, below := 0.0, 0.0
	for i, bound := range h.bounds {
		if h.counts[i] >= rank {
			if math.IsInf(bound, 1) {
				return lower
			}
			return lower + (bound-lower)*(rank-below)/(h.counts[i]-below)
		}
		lower, below = bound, h.counts[i]
	}
	return lower
}

// percentile returns the p-th percentile (nearest rank) of ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}
