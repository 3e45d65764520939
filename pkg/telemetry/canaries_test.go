package telemetry

import (
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/labels"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	listers "github.com/serin-dev/serin/pkg/client/listers/flagger/v1beta1"
)

func TestCanaryGauges(t *testing.T) {
	lister, _ := newLister(t,
		newCanary("test", "podinfo", withPhase(flaggerv1.CanaryPhaseProgressing, 30)),
		newCanary("test", "backend", withTarget("backend"), withPhase(flaggerv1.CanaryPhaseFailed, 0)),
		newCanary("test", "frontend", withTarget("frontend"), withPhase(flaggerv1.CanaryPhaseSucceeded, 0)),
		newCanary("prod", "podinfo", withPhase(flaggerv1.CanaryPhaseWaitingPromotion, 50)),
		newCanary("prod", "new", withTarget("new")),
	)

	want := `
# HELP flagger_canary_status Phase of the canary: 0 Progressing, 2 Failed, 1 any other phase.
# TYPE flagger_canary_status gauge
flagger_canary_status{name="backend",namespace="test"} 2
flagger_canary_status{name="frontend",namespace="test"} 1
flagger_canary_status{name="new",namespace="prod"} 1
flagger_canary_status{name="podinfo",namespace="prod"} 1
flagger_canary_status{name="podinfo",namespace="test"} 0
# HELP flagger_canary_total Number of Canary objects, by namespace.
# TYPE flagger_canary_total gauge
flagger_canary_total{namespace="prod"} 2
flagger_canary_total{namespace="test"} 3
# HELP flagger_canary_weight Traffic weight of the primary (<target>-primary) and of the canary (<target>).
# TYPE flagger_canary_weight gauge
flagger_canary_weight{namespace="prod",workload="podinfo"} 50
flagger_canary_weight{namespace="prod",workload="podinfo-primary"} 50
flagger_canary_weight{namespace="test",workload="backend"} 0
flagger_canary_weight{namespace="test",workload="backend-primary"} 100
flagger_canary_weight{namespace="test",workload="frontend"} 0
flagger_canary_weight{namespace="test",workload="frontend-primary"} 100
flagger_canary_weight{namespace="test",workload="podinfo"} 30
flagger_canary_weight{namespace="test",workload="podinfo-primary"} 70
`
	assert.NoError(t, testutil.CollectAndCompare(newCanaryCollector(lister), strings.NewReader(want)))
}

// TestGaugesFollowTheLister checks that nothing is kept between scrapes: a
// canary's series change with it and vanish when it is deleted.
func TestGaugesFollowTheLister(t *testing.T) {
	cd := newCanary("test", "podinfo", withPhase(flaggerv1.CanaryPhaseProgressing, 10))
	lister, idx := newLister(t, cd)
	c := newCanaryCollector(lister)
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(c))

	weight := func() float64 {
		t.Helper()
		return gaugeValue(t, reg, "flagger_canary_weight", "workload", "podinfo")
	}
	assert.Equal(t, 10.0, weight())

	next := cd.DeepCopy()
	next.Status.CanaryWeight = 20
	require.NoError(t, idx.Update(next))
	assert.Equal(t, 20.0, weight())

	require.NoError(t, idx.Delete(next))
	n, err := testutil.GatherAndCount(reg)
	require.NoError(t, err)
	assert.Zero(t, n)
}

func TestStatusValue(t *testing.T) {
	want := map[flaggerv1.CanaryPhase]float64{
		"":                                    1,
		flaggerv1.CanaryPhaseInitializing:     1,
		flaggerv1.CanaryPhaseInitialized:      1,
		flaggerv1.CanaryPhaseWaiting:          1,
		flaggerv1.CanaryPhaseProgressing:      0,
		flaggerv1.CanaryPhaseWaitingPromotion: 1,
		flaggerv1.CanaryPhasePromoting:        1,
		flaggerv1.CanaryPhaseFinalising:       1,
		flaggerv1.CanaryPhaseSucceeded:        1,
		flaggerv1.CanaryPhaseFailed:           2,
		flaggerv1.CanaryPhaseTerminating:      1,
		flaggerv1.CanaryPhaseTerminated:       1,
	}
	for phase, v := range want {
		assert.Equal(t, v, StatusValue(phase), "phase %q", phase)
	}
}

func TestGaugesWithoutRouteHaveNoWeight(t *testing.T) {
	g := gaugesOf([]*flaggerv1.Canary{
		newCanary("test", "a", withTarget("a")),
		newCanary("test", "b", withTarget("b"), withPhase(flaggerv1.CanaryPhaseInitializing, 0)),
	})
	assert.Len(t, g.status, 2)
	assert.Empty(t, g.weight)
}

func TestDuplicateTargetsKeepTheScrapeValid(t *testing.T) {
	lister, _ := newLister(t,
		newCanary("test", "b", withPhase(flaggerv1.CanaryPhaseFailed, 0)),
		newCanary("test", "a", withPhase(flaggerv1.CanaryPhaseProgressing, 40)),
	)
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(newCanaryCollector(lister)))

	assert.Equal(t, 0.0, gaugeValue(t, reg, "flagger_canary_status", "name", "podinfo"), "canary a wins")
	assert.Equal(t, 2.0, gaugeValue(t, reg, "flagger_canary_total", "namespace", "test"))
}

func TestListErrorFailsTheScrape(t *testing.T) {
	reg := prometheus.NewRegistry()
	require.NoError(t, reg.Register(newCanaryCollector(failingLister{})))
	_, err := reg.Gather()
	assert.ErrorContains(t, err, "cache unavailable")
}

type failingLister struct{ listers.CanaryLister }

func (failingLister) List(labels.Selector) ([]*flaggerv1.Canary, error) {
	return nil, errors.New("cache unavailable")
}

// gaugeValue returns the value of the series of a gauge whose label has a
// value.
func gaugeValue(t *testing.T, g prometheus.Gatherer, name, label, value string) float64 {
	t.Helper()
	families, err := g.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	t.Fatalf("no %s{%s=%q}", name, label, value)
	return 0
}
