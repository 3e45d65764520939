package main

import (
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHistogramQuantile(t *testing.T) {
	text := []byte(`# TYPE serin_analysis_lateness_seconds histogram
serin_analysis_lateness_seconds_bucket{le="0.1"} 50
serin_analysis_lateness_seconds_bucket{le="1"} 90
serin_analysis_lateness_seconds_bucket{le="+Inf"} 100
serin_analysis_lateness_seconds_sum 70
serin_analysis_lateness_seconds_count 100
`)
	h := parseHistogram(text, latenessMetric)
	require.Len(t, h.bounds, 3)
	assert.InDelta(t, 0.1, h.quantile(0.5), 1e-9)
	assert.InDelta(t, 0.55, h.quantile(0.7), 1e-9, "linear inside the bucket (0.1, 1]")
	assert.InDelta(t, 1, h.quantile(0.99), 1e-9, "the +Inf bucket answers its lower bound")

	before := histogram{bounds: h.bounds, counts: []float64{50, 50, 50}}
	assert.InDelta(t, 50, h.sub(before).total(), 1e-9)
	assert.True(t, math.IsNaN(histogram{}.quantile(0.5)))
}

func TestPercentile(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i)*time.Second)
	}
	assert.Equal(t, 50*time.Second, percentile(ds, 50))
	assert.Equal(t, 99*time.Second, percentile(ds, 99))
	assert.Equal(t, time.Duration(0), percentile(nil, 50))
}

func TestCountRequests(t *testing.T) {
	log := `{"auditID":"a","stage":"ResponseComplete","verb":"update","requestURI":"/x","user":{"username":"op"},"objectRef":{"resource":"httproutes"},"requestReceivedTimestamp":"2026-01-01T00:00:01.000000Z"}
{"auditID":"b","stage":"ResponseComplete","verb":"patch","requestURI":"/x","user":{"username":"op"},"objectRef":{"resource":"canaries","subresource":"status"},"requestReceivedTimestamp":"2026-01-01T00:00:02.000000Z"}
{"auditID":"c","stage":"ResponseStarted","verb":"watch","requestURI":"/w","user":{"username":"op"},"objectRef":{"resource":"services"},"requestReceivedTimestamp":"2026-01-01T00:00:03.000000Z"}
{"auditID":"c","stage":"ResponseComplete","verb":"watch","requestURI":"/w","user":{"username":"op"},"objectRef":{"resource":"services"},"requestReceivedTimestamp":"2026-01-01T00:00:03.000000Z"}
{"auditID":"d","stage":"ResponseComplete","verb":"get","requestURI":"/api","user":{"username":"op"},"requestReceivedTimestamp":"2026-01-01T00:00:04.000000Z"}
{"auditID":"e","stage":"ResponseComplete","verb":"update","requestURI":"/x","user":{"username":"someone-else"},"objectRef":{"resource":"httproutes"},"requestReceivedTimestamp":"2026-01-01T00:00:01.000000Z"}
`
	path := filepath.Join(t.TempDir(), "audit.log")
	require.NoError(t, os.WriteFile(path, []byte(log), 0o644))
	at := func(s int) time.Time { return time.Date(2026, 1, 1, 0, 0, s, 0, time.UTC) }
	counts, err := countRequests(path, "op", []window{{at(0), at(3)}, {at(3), at(10)}})
	require.NoError(t, err)
	assert.Equal(t, requests{"update httproutes": 1, "patch canaries/status": 1}, counts[0])
	assert.Equal(t, requests{"watch services": 1, "get /api": 1}, counts[1])
	w, r := split(counts[1])
	assert.Equal(t, []int{0, 2}, []int{w, r})
}

func TestParseRequestTotal(t *testing.T) {
	text := []byte(`# TYPE apiserver_request_total counter
apiserver_request_total{code="200",component="apiserver",dry_run="",group="flagger.app",resource="canaries",scope="resource",subresource="status",verb="PATCH",version="v1beta1"} 7
apiserver_request_total{code="409",component="apiserver",dry_run="",group="flagger.app",resource="canaries",scope="resource",subresource="status",verb="PATCH",version="v1beta1"} 1
apiserver_request_total{code="201",component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="",verb="POST",version="v1"} 3
`)
	got := parseRequestTotal(text)
	assert.Equal(t, requests{"patch canaries/status": 8, "post pods": 3}, got)
	assert.Equal(t, requests{"post pods": 2}, got.sub(requests{"patch canaries/status": 8, "post pods": 1}))
}

func TestParseSample(t *testing.T) {
	text := []byte("# HELP serin_events_pending Events waiting.\n# TYPE serin_events_pending gauge\n" +
		"serin_events_pending_total 9\nserin_events_pending 42\nserin_events_dropped_total 3e+00\n")
	v, ok := parseSample(text, eventsPendingMetric)
	assert.True(t, ok)
	assert.Equal(t, 42.0, v, "not the metric whose name it prefixes")
	v, ok = parseSample(text, eventsDroppedMetric)
	assert.True(t, ok)
	assert.Equal(t, 3.0, v)
	_, ok = parseSample(text, "serin_missing")
	assert.False(t, ok)
}
