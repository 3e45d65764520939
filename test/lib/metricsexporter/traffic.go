package metricsexporter

import (
	"math"
	"time"
)

// Traffic is the simulated load on one workload.
type Traffic struct {
	// RPS is the request rate in requests per second.
	RPS float64
	// ErrorRatio is the share of requests answered with a 500, from 0 to 1.
	ErrorRatio float64
	// Latency is the duration of every request. All observations fall into the histogram
	// bucket whose bound is the first at or above it, so histogram_quantile reports a value
	// within that bucket: a p99 of 200ms comes back as 248.5ms from the (100, 250] bucket.
	Latency time.Duration
}

// bucketBounds are the upper bounds in milliseconds of Istio's default request duration
// buckets; the +Inf bucket is implied.
var bucketBounds = []float64{0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000,
	30000, 60000, 300000, 600000, 1800000, 3600000}

// counters are the cumulative series of one workload. They are floats, which the text format
// allows, so that a fractional number of requests per scrape is not lost to rounding.
type counters struct {
	ok, errors float64
	// buckets[i] counts requests at or below bucketBounds[i]; count doubles as +Inf.
	buckets   []float64
	sumMillis float64
	count     float64
	// app is podinfo's own histogram (seconds), for the successful requests and the 500s.
	app [2]histogram
}

// workload is one simulated workload: its current traffic and what it has served so far.
type workload struct {
	traffic Traffic
	// last is when the counters were last advanced.
	last time.Time
	counters
}

func newWorkload(t Traffic, now time.Time) *workload {
	return &workload{traffic: t, last: now, counters: counters{
		buckets: make([]float64, len(bucketBounds)),
		app:     [2]histogram{newHistogram(appBucketBounds), newHistogram(appBucketBounds)},
	}}
}

// advance adds the requests that the current traffic served between the last advance and now.
func (w *workload) advance(now time.Time) {
	elapsed := now.Sub(w.last).Seconds()
	if elapsed <= 0 {
		return
	}
	w.last = now
	t := w.traffic
	n := math.Max(t.RPS, 0) * elapsed
	if n == 0 {
		return
	}
	ratio := min(max(t.ErrorRatio, 0), 1)
	w.errors += n * ratio
	w.ok += n * (1 - ratio)
	millis := float64(t.Latency) / float64(time.Millisecond)
	for i, bound := range bucketBounds {
		if millis <= bound {
			w.buckets[i] += n
		}
	}
	w.sumMillis += n * millis
	w.count += n
	seconds := t.Latency.Seconds()
	w.app[0].observe(appBucketBounds, n*(1-ratio), seconds)
	w.app[1].observe(appBucketBounds, n*ratio, seconds)
}
