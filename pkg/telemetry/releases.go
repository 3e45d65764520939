package telemetry

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/serin-dev/serin/pkg/analysis"
	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	listers "github.com/serin-dev/serin/pkg/client/listers/flagger/v1beta1"
)

// Values of the analysis_status label.
const (
	// AnalysisCompleted labels a run that went through its analysis.
	AnalysisCompleted = "completed"
	// AnalysisSkipped labels a run promoted with skipAnalysis.
	AnalysisSkipped = "skipped"
)

// Releases holds Flagger's canary metrics. It is safe for concurrent use by
// the controller's workers.
type Releases struct {
	canaries  *canaryCollector
	duration  *prometheus.HistogramVec
	successes *prometheus.CounterVec
	failures  *prometheus.CounterVec
}

// NewReleases returns a Releases whose per-canary gauges read canaries at
// scrape time.
func NewReleases(canaries listers.CanaryLister) *Releases {
	runLabels := []string{"name", "namespace", "deployment_strategy", "analysis_status"}
	return &Releases{
		canaries: newCanaryCollector(canaries),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "flagger_canary_duration_seconds",
			Help:    "Seconds spent in one analysis step of a canary.",
			Buckets: prometheus.DefBuckets,
		}, []string{"name", "namespace"}),
		successes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flagger_canary_successes_total",
			Help: "Canary runs that ended promoted.",
		}, runLabels),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flagger_canary_failures_total",
			Help: "Canary runs that ended rolled back.",
		}, runLabels),
	}
}

// Collectors returns the metrics to register on the operator's registry.
func (r *Releases) Collectors() []prometheus.Collector {
	return []prometheus.Collector{r.canaries, r.duration, r.successes, r.failures}
}

// ObserveDuration records the time one analysis step of a canary took.
func (r *Releases) ObserveDuration(cd *flaggerv1.Canary, d time.Duration) {
	r.duration.WithLabelValues(cd.Spec.TargetRef.Name, cd.Namespace).Observe(d.Seconds())
}

// ObserveTransition counts the run that a status change ends, if any: call
// it once the new status is written, so that a retried step is not counted
// twice.
func (r *Releases) ObserveTransition(cd *flaggerv1.Canary, before, after flaggerv1.CanaryStatus) {
	o, ended := OutcomeOf(before, after)
	if !ended {
		return
	}
	counter := r.failures
	if o.Promoted {
		counter = r.successes
	}
	strategy := string(analysis.StrategyOf(cd.GetAnalysis()))
	counter.WithLabelValues(cd.Spec.TargetRef.Name, cd.Namespace, strategy, o.AnalysisStatus).Inc()
}

// Outcome is how a canary run ended.
type Outcome struct {
	// Promoted is true for a promotion, false for a rollback.
	Promoted bool
	// AnalysisStatus is AnalysisCompleted or AnalysisSkipped.
	AnalysisStatus string
}

// OutcomeOf reports whether the change from one status to the next ends a
// run, and how. A run ends when the phase becomes Succeeded or Failed. A
// promotion is skipped when it comes straight from Progressing (the
// skipAnalysis path) rather than through Finalising.
func OutcomeOf(before, after flaggerv1.CanaryStatus) (Outcome, bool) {
	if before.Phase == after.Phase {
		return Outcome{}, false
	}
	switch after.Phase {
	case flaggerv1.CanaryPhaseSucceeded:
		status := AnalysisCompleted
		if before.Phase != flaggerv1.CanaryPhaseFinalising {
			status = AnalysisSkipped
		}
		return Outcome{Promoted: true, AnalysisStatus: status}, true
	case flaggerv1.CanaryPhaseFailed:
		return Outcome{AnalysisStatus: AnalysisCompleted}, true
	}
	return Outcome{}, false
}
