package metricsexporter

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeClock is a clock that moves only when told to.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) step(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newFakeExporter(t *testing.T) (*Exporter, *fakeClock) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	e := newExporter(clock.now)
	t.Cleanup(e.Close)
	return e, clock
}

// scrape fetches /metrics, checks that it parses as the text format with the expected metric
// types, and returns its samples.
func scrape(t *testing.T, e *Exporter) model.Vector {
	t.Helper()
	resp, err := http.Get(e.URL() + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, expfmt.TypeTextPlain, expfmt.ResponseFormat(resp.Header).FormatType())

	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	require.Contains(t, families, requestsTotal)
	require.Contains(t, families, requestDuration)
	assert.Equal(t, "COUNTER", families[requestsTotal].GetType().String())
	assert.Equal(t, "HISTOGRAM", families[requestDuration].GetType().String())

	var samples model.Vector
	for _, f := range families {
		s, err := expfmt.ExtractSamples(&expfmt.DecodeOptions{Timestamp: model.Now()}, f)
		require.NoError(t, err)
		samples = append(samples, s...)
	}
	return samples
}

// value returns the one sample named name whose labels include the given name/value pairs.
func value(t *testing.T, samples model.Vector, name string, labelPairs ...string) float64 {
	t.Helper()
	want := model.LabelSet{model.MetricNameLabel: model.LabelValue(name)}
	for i := 0; i+1 < len(labelPairs); i += 2 {
		want[model.LabelName(labelPairs[i])] = model.LabelValue(labelPairs[i+1])
	}
	var found []float64
	for _, s := range samples {
		if matches(s.Metric, want) {
			found = append(found, float64(s.Value))
		}
	}
	require.Len(t, found, 1, "samples matching %v", want)
	return found[0]
}

func matches(m model.Metric, want model.LabelSet) bool {
	for k, v := range want {
		if m[k] != v {
			return false
		}
	}
	return true
}

func TestCountersFollowTraffic(t *testing.T) {
	e, clock := newFakeExporter(t)
	e.Set("test", "podinfo", Traffic{RPS: 10, ErrorRatio: 0.25, Latency: 200 * time.Millisecond})
	clock.step(30 * time.Second)

	s := scrape(t, e)
	series := []string{"reporter", "source", "destination_workload_namespace", "test", "destination_workload", "podinfo"}
	assert.InDelta(t, 225, value(t, s, requestsTotal, append(series, "response_code", "200")...), 1e-9)
	assert.InDelta(t, 75, value(t, s, requestsTotal, append(series, "response_code", "500")...), 1e-9)
	assert.InDelta(t, 0, value(t, s, requestDuration+"_bucket", append(series, "le", "100")...), 1e-9)
	assert.InDelta(t, 300, value(t, s, requestDuration+"_bucket", append(series, "le", "250")...), 1e-9)
	// Parsers (Prometheus's too) normalise le to the shortest float form.
	assert.InDelta(t, 300, value(t, s, requestDuration+"_bucket", append(series, "le", "3.6e+06")...), 1e-9)
	assert.InDelta(t, 300, value(t, s, requestDuration+"_bucket", append(series, "le", "+Inf")...), 1e-9)
	assert.InDelta(t, 300*200, value(t, s, requestDuration+"_sum", series...), 1e-6)
	assert.InDelta(t, 300, value(t, s, requestDuration+"_count", series...), 1e-9)
}

func TestSetKeepsWhatWasServed(t *testing.T) {
	e, clock := newFakeExporter(t)
	e.Set("test", "podinfo", Traffic{RPS: 10, ErrorRatio: 0.5, Latency: 5 * time.Millisecond})
	clock.step(10 * time.Second)
	e.Set("test", "podinfo", Traffic{RPS: 20, Latency: 600 * time.Millisecond})
	clock.step(10 * time.Second)

	s := scrape(t, e)
	assert.InDelta(t, 50+200, value(t, s, requestsTotal, "response_code", "200"), 1e-9)
	assert.InDelta(t, 50, value(t, s, requestsTotal, "response_code", "500"), 1e-9, "errors stop growing")
	assert.InDelta(t, 100, value(t, s, requestDuration+"_bucket", "le", "5"), 1e-9)
	assert.InDelta(t, 100, value(t, s, requestDuration+"_bucket", "le", "500"), 1e-9)
	assert.InDelta(t, 300, value(t, s, requestDuration+"_bucket", "le", "1000"), 1e-9)
	assert.InDelta(t, 100*5+200*600, value(t, s, requestDuration+"_sum"), 1e-6)

	e.Set("test", "podinfo", Traffic{})
	clock.step(time.Minute)
	assert.InDelta(t, 300, value(t, scrape(t, e), requestDuration+"_count"), 1e-9, "no traffic, no requests")
}

func TestWorkloadsAreSeparate(t *testing.T) {
	e, clock := newFakeExporter(t)
	e.Set("test", "podinfo", Traffic{RPS: 1, ErrorRatio: 1, Latency: time.Second})
	e.Set("test", "podinfo-primary", Traffic{RPS: 2, Latency: 20 * time.Millisecond})
	e.Set("other", "podinfo", Traffic{RPS: 3, ErrorRatio: 2}) // out-of-range ratios are clamped
	clock.step(10 * time.Second)

	s := scrape(t, e)
	canary := []string{"destination_workload_namespace", "test", "destination_workload", "podinfo"}
	primary := []string{"destination_workload_namespace", "test", "destination_workload", "podinfo-primary"}
	other := []string{"destination_workload_namespace", "other", "destination_workload", "podinfo"}
	assert.InDelta(t, 0, value(t, s, requestsTotal, append(canary, "response_code", "200")...), 1e-9)
	assert.InDelta(t, 10, value(t, s, requestsTotal, append(canary, "response_code", "500")...), 1e-9)
	assert.InDelta(t, 20, value(t, s, requestsTotal, append(primary, "response_code", "200")...), 1e-9)
	assert.InDelta(t, 0, value(t, s, requestsTotal, append(primary, "response_code", "500")...), 1e-9)
	assert.InDelta(t, 30, value(t, s, requestsTotal, append(other, "response_code", "500")...), 1e-9)
	assert.InDelta(t, 20, value(t, s, requestDuration+"_bucket", append(primary, "le", "25")...), 1e-9)
	assert.InDelta(t, 0, value(t, s, requestDuration+"_bucket", append(primary, "le", "10")...), 1e-9)
}

func TestCountersGrowWithRealTime(t *testing.T) {
	e := New()
	t.Cleanup(e.Close)
	assert.Regexp(t, `^127\.0\.0\.1:\d+$`, e.Addr())
	assert.Equal(t, "http://"+e.Addr(), e.URL())

	e.Set("test", "podinfo", Traffic{RPS: 1000, ErrorRatio: 0.1, Latency: 10 * time.Millisecond})
	first := value(t, scrape(t, e), requestDuration+"_count")
	time.Sleep(50 * time.Millisecond)
	second := scrape(t, e)
	total := value(t, second, requestDuration+"_count")
	assert.Greater(t, total-first, 40.0, "50 ms at 1000 req/s")
	errors := value(t, second, requestsTotal, "response_code", "500")
	assert.InDelta(t, 0.1, errors/total, 1e-9)
}

func TestNoWorkloads(t *testing.T) {
	e, _ := newFakeExporter(t)
	resp, err := http.Get(e.URL() + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	for _, f := range families {
		assert.Empty(t, f.GetMetric(), f.GetName())
	}
}
