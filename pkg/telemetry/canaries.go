package telemetry

import (
	"cmp"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/labels"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	listers "github.com/serin-dev/serin/pkg/client/listers/flagger/v1beta1"
)

// totalWeight is the weight of all the traffic of a route.
const totalWeight = 100

// Values of flagger_canary_status, as Flagger sets them.
const (
	// StatusProgressing is the value of a canary under analysis.
	StatusProgressing = 0
	// StatusOther is the value of every phase but Progressing and Failed.
	StatusOther = 1
	// StatusFailed is the value of a rolled-back canary.
	StatusFailed = 2
)

// canaryCollector computes the per-canary gauges from the lister at each
// scrape; it keeps no state.
//
// Unlike Flagger, whose gauges are set during the analysis and never
// deleted, the series of a deleted canary disappear with it, and a restart
// of the operator does not blank them until the next tick.
type canaryCollector struct {
	canaries listers.CanaryLister
	total    *prometheus.Desc
	status   *prometheus.Desc
	weight   *prometheus.Desc
}

var _ prometheus.Collector = (*canaryCollector)(nil)

func newCanaryCollector(canaries listers.CanaryLister) *canaryCollector {
	return &canaryCollector{
		canaries: canaries,
		total: prometheus.NewDesc("flagger_canary_total",
			"Number of Canary objects, by namespace.", []string{"namespace"}, nil),
		status: prometheus.NewDesc("flagger_canary_status",
			"Phase of the canary: 0 Progressing, 2 Failed, 1 any other phase.", []string{"name", "namespace"}, nil),
		weight: prometheus.NewDesc("flagger_canary_weight",
			"Traffic weight of the primary (<target>-primary) and of the canary (<target>).", []string{"workload", "namespace"}, nil),
	}
}

// Describe sends the descriptors of the three gauges.
func (c *canaryCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.total
	ch <- c.status
	ch <- c.weight
}

// Collect lists the canaries and sends their gauges.
func (c *canaryCollector) Collect(ch chan<- prometheus.Metric) {
	list, err := c.canaries.List(labels.Everything())
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.total, err)
		return
	}
	g := gaugesOf(list)
	send := func(desc *prometheus.Desc, samples []sample) {
		for _, s := range samples {
			ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, s.value, s.labels...)
		}
	}
	send(c.total, g.total)
	send(c.status, g.status)
	send(c.weight, g.weight)
}

// sample is one series of a gauge.
type sample struct {
	labels []string
	value  float64
}

// gauges are the samples of the three per-canary gauges.
type gauges struct {
	total, status, weight []sample
}

// gaugesOf computes the gauges of a list of canaries. The name and workload
// labels are the target's name, as in Flagger; when two canaries target the
// same workload, which the operator refuses to run, the first by name wins
// so that the scrape stays valid.
func gaugesOf(canaries []*flaggerv1.Canary) gauges {
	sorted := slices.Clone(canaries)
	slices.SortFunc(sorted, func(a, b *flaggerv1.Canary) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	var g gauges
	seen := map[[2]string]bool{}
	for i, cd := range sorted {
		if i == 0 || cd.Namespace != sorted[i-1].Namespace {
			g.total = append(g.total, sample{labels: []string{cd.Namespace}})
		}
		g.total[len(g.total)-1].value++
		target := [2]string{cd.Spec.TargetRef.Name, cd.Namespace}
		if seen[target] {
			continue
		}
		seen[target] = true
		g.status = append(g.status, sample{labels: []string{target[0], target[1]}, value: StatusValue(cd.Status.Phase)})
		if routed(cd.Status.Phase) {
			canary := float64(cd.Status.CanaryWeight)
			g.weight = append(g.weight,
				sample{labels: []string{target[0] + "-primary", cd.Namespace}, value: totalWeight - canary},
				sample{labels: []string{target[0], cd.Namespace}, value: canary})
		}
	}
	return g
}

// StatusValue is the flagger_canary_status of a phase.
func StatusValue(phase flaggerv1.CanaryPhase) float64 {
	switch phase {
	case flaggerv1.CanaryPhaseProgressing:
		return StatusProgressing
	case flaggerv1.CanaryPhaseFailed:
		return StatusFailed
	default:
		return StatusOther
	}
}

// routed reports whether a canary's route exists, so that its weights mean
// something; Flagger sets them only once it has read the route.
func routed(phase flaggerv1.CanaryPhase) bool {
	return phase != "" && phase != flaggerv1.CanaryPhaseInitializing
}
