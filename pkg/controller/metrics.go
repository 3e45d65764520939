package controller

import (
	"time"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"

	"github.com/prometheus/client_golang/prometheus"
)

// syncMetrics are the controller's own metrics about its loop.
type syncMetrics struct {
	duration       *prometheus.HistogramVec
	lateness       prometheus.Histogram
	webhookErrors  *prometheus.CounterVec
	providerErrors *prometheus.CounterVec
	metricValues   *prometheus.GaugeVec
}

func newSyncMetrics() *syncMetrics {
	return &syncMetrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "serin_sync_duration_seconds",
			Help:    "Time taken by one sync of a canary, by result.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 9),
		}, []string{"result"}),
		lateness: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "serin_analysis_lateness_seconds",
			Help:    "How late an analysis step ran after it was due.",
			Buckets: []float64{0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60},
		}),
		webhookErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "serin_webhook_errors_total",
			Help: "Webhook calls that did not answer 200-202, by hook type.",
		}, []string{"type"}),
		providerErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "serin_metrics_provider_errors_total",
			Help: "Metric queries that failed (not counting empty results), by provider type.",
		}, []string{"provider"}),
		// Flagger's name and labels, so that existing dashboards keep working;
		// name is the target's name, as in Flagger.
		metricValues: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "flagger_canary_metric_analysis",
			Help: "Last value of each analysis metric.",
		}, []string{"name", "namespace", "metric"}),
	}
}

// Collectors returns the metrics to register on the operator's registry.
func (c *Controller) Collectors() []prometheus.Collector {
	m := c.metrics
	return append([]prometheus.Collector{m.duration, m.lateness, m.webhookErrors, m.providerErrors, m.metricValues},
		c.queueMet.collectors()...)
}

func (m *syncMetrics) observeSync(d time.Duration, err error) {
	result := "success"
	if err != nil {
		result = "error"
	}
	m.duration.WithLabelValues(result).Observe(d.Seconds())
}

func (m *syncMetrics) observeLateness(d time.Duration) {
	m.lateness.Observe(d.Seconds())
}

func (m *syncMetrics) observeWebhookError(hookType string) {
	if hookType == "" {
		hookType = string(flaggerv1.RolloutHook)
	}
	m.webhookErrors.WithLabelValues(hookType).Inc()
}

func (m *syncMetrics) observeProviderError(provider string) {
	m.providerErrors.WithLabelValues(provider).Inc()
}

func (m *syncMetrics) observeMetricValue(cd *flaggerv1.Canary, metric string, value float64) {
	m.metricValues.WithLabelValues(cd.Spec.TargetRef.Name, cd.Namespace, metric).Set(value)
}
