package prometheus

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/serin-dev/serin/pkg/metrics"
	"github.com/serin-dev/serin/test/lib/metricsexporter"
)

// TestSeedTemplatesOnSimulatedTraffic runs the tutorial's error-rate and latency templates,
// through Serin's Prometheus provider, against a real Prometheus scraping simulated traffic.
func TestSeedTemplatesOnSimulatedTraffic(t *testing.T) {
	queries := readSeedQueries(t)
	require.Contains(t, queries, "error-rate")
	require.Contains(t, queries, "latency")

	exp := metricsexporter.New()
	t.Cleanup(exp.Close)
	// Equal rates, so that a query that also matched the primary would report 30%, not 60%.
	exp.Set("test", "podinfo", metricsexporter.Traffic{RPS: 20, ErrorRatio: 0.6, Latency: 200 * time.Millisecond})
	exp.Set("test", "podinfo-primary", metricsexporter.Traffic{RPS: 20, Latency: 20 * time.Millisecond})

	srv := StartForTest(t, Options{ScrapeTargets: []string{exp.Addr()}})
	provider, err := metrics.NewProvider(metrics.ProviderConfig{Type: metrics.TypePrometheus, Address: srv.URL()})
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	start := time.Now()
	_, err = srv.WaitForSeries(ctx, `istio_requests_total{destination_workload="podinfo"}`)
	require.NoError(t, err)
	t.Logf("first series after %s", time.Since(start).Round(time.Millisecond))

	rendered := map[string]string{}
	for name, q := range queries {
		for _, target := range []string{"podinfo", "podinfo-primary"} {
			rendered[name+"/"+target] = renderQuery(t, q, target)
		}
	}
	query := func(c require.TestingT, name, target string) float64 {
		v, err := provider.RunQuery(t.Context(), rendered[name+"/"+target], time.Time{})
		require.NoError(c, err)
		return v
	}
	// rate() needs a second scrape after the first.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.InDelta(c, 60, query(c, "error-rate", "podinfo"), 10)
	}, 10*time.Second, 250*time.Millisecond)
	// All observations of 200 ms are in the (100, 250] ms bucket, those of 20 ms in (10, 25];
	// histogram_quantile interpolates within the bucket (to 248.5 and 24.85 ms).
	assertInBucket(t, query(t, "latency", "podinfo"), 0.100, 0.250)
	assert.InDelta(t, 0, query(t, "error-rate", "podinfo-primary"), 1)
	assertInBucket(t, query(t, "latency", "podinfo-primary"), 0.010, 0.025)

	exp.Set("test", "podinfo", metricsexporter.Traffic{RPS: 20, Latency: 200 * time.Millisecond})
	fixed := time.Now()
	// The 500s leave the 30 s window one scrape at a time.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Less(c, query(c, "error-rate", "podinfo"), 10.0)
	}, 40*time.Second, 500*time.Millisecond)
	t.Logf("error rate below 10%% %s after the fix", time.Since(fixed).Round(time.Millisecond))

	require.NoError(t, srv.Stop())
	if !keepDir() {
		assert.NoDirExists(t, srv.Dir)
	}
}

// assertInBucket checks that a latency in seconds is in the histogram bucket (lower, upper].
func assertInBucket(t *testing.T, seconds, lower, upper float64) {
	t.Helper()
	assert.Greater(t, seconds, lower)
	assert.LessOrEqual(t, seconds, upper)
}
