package events

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"
)

// dropLogInterval spaces the logs of dropped events: when the queue is
// full, events are dropped by the thousand, and one line per event would
// add to the overload.
const dropLogInterval = 10 * time.Second

// metrics are the Recorder's Prometheus metrics.
type metrics struct {
	dropped prometheus.Counter
	posted  *prometheus.CounterVec
	pending prometheus.GaugeFunc
}

func newMetrics(pending func() float64) *metrics {
	m := &metrics{
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "serin_events_dropped_total",
			Help: "Kubernetes Events never posted: recorded while the pending limit was reached, or still pending when the operator stopped.",
		}),
		posted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "serin_events_posted_total",
			Help: "Kubernetes Events written, by result: created, patched (a repeat counted on its Event) or failed (rejected, or out of retries).",
		}, []string{"result"}),
		pending: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "serin_events_pending",
			Help: "Kubernetes Events recorded and not yet posted.",
		}, pending),
	}
	for _, result := range []string{resultCreated, resultPatched, resultFailed} {
		m.posted.WithLabelValues(result) // a series from the start, for rate()
	}
	return m
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.dropped, m.posted, m.pending}
}

// drop counts dropped events, and logs them with the count since the last
// log at most once per dropLogInterval.
func (r *Recorder) drop(n int) {
	r.metrics.dropped.Add(float64(n))
	r.unlogged.Add(int64(n))
	now := r.cfg.Clock.Now().UnixNano()
	last := r.lastDropLog.Load()
	if now-last < int64(dropLogInterval) || !r.lastDropLog.CompareAndSwap(last, now) {
		return
	}
	r.logDrops()
}

// abandoned counts the events a lane held when the drain timed out.
func (r *Recorder) abandoned(n int) {
	if n == 0 {
		return
	}
	r.metrics.dropped.Add(float64(n))
	r.unlogged.Add(int64(n))
	r.pending.Add(-int64(n))
}

// flushDropLog logs the drops not logged yet, at shutdown.
func (r *Recorder) flushDropLog() {
	if r.unlogged.Load() > 0 {
		r.logDrops()
	}
}

func (r *Recorder) logDrops() {
	r.log.WithFields(logrus.Fields{
		"dropped":    r.unlogged.Swap(0),
		"pending":    r.pending.Load(),
		"maxPending": r.cfg.MaxPending,
	}).Warn("Events dropped: too many pending, or still pending at shutdown")
}
