package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRatio(t *testing.T) {
	tests := []struct {
		a, b float64
		want string
	}{
		{a: 154, b: 28, want: "5.5×"},
		{a: 102, b: 0.03, want: "3400×"},
		{a: 961, b: 81, want: "12×"},
		{a: 3.7, b: 10.4, want: "0.4×"},
		{a: 0.5, b: 10, want: "0.05×"},
		{a: 0, b: 0, want: "1×"},
		{a: 102, b: 0, want: "∞"},
		{a: 0, b: 12, want: "0.00×"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, ratio(tt.a, tt.b), "%v / %v", tt.a, tt.b)
	}
}

func TestFiguresOf(t *testing.T) {
	at := func(s int) time.Time { return time.Date(2026, 1, 1, 0, 0, s, 0, time.UTC) }
	r := &result{
		cfg:             config{n: 10, operator: operatorFlagger},
		idleWindow:      window{at(0), at(20)},
		rolloutWindow:   window{at(20), at(120)},
		initTime:        7 * time.Second,
		idleRequests:    requests{"get canaries": 30, "get deployments": 10},
		rolloutRequests: requests{"update httproutes": 60, "get deployments": 900},
		gaps:            []time.Duration{10 * time.Second, 10 * time.Second, 30 * time.Second},
		initUsage:       map[string]usage{operatorFlagger: {cpu: time.Second, peakRSS: 40 << 20}, operatorSerin: {cpu: time.Hour}},
		idleUsage:       map[string]usage{operatorFlagger: {cpu: 2 * time.Second, peakRSS: 90 << 20}},
		rolloutUsage:    map[string]usage{operatorFlagger: {cpu: 3 * time.Second, peakRSS: 60 << 20}},
		eventsDelivered: 45,
		done:            map[string]bool{phaseInit: true, phaseIdle: true},
	}
	f := figuresOf(r)
	assert.Equal(t, figures{
		idleRate: 2, perRelease: 96, gapMedian: 10 * time.Second, gapP99: 30 * time.Second,
		allReleases: 100 * time.Second, init: 7 * time.Second,
		cpu: 6 * time.Second, peakRSS: 90 << 20, eventsPerRelease: 4.5,
		done: map[string]bool{phaseInit: true, phaseIdle: true},
	}, f, "the operator's own process only, peaks over every phase")

	r.idleWindow = window{}
	assert.Zero(t, figuresOf(r).idleRate, "no idle phase: no rate, no division by zero")
}

func TestCompareTable(t *testing.T) {
	cfg := config{n: 100, workloads: workloadsKWOK, interval: 10 * time.Second, stepWeight: 10, maxWeight: 50}
	whole := map[string]bool{phaseInit: true, phaseIdle: true, phaseRollout: true, phaseEvents: true}
	flagger := figures{done: whole, idleRate: 102, perRelease: 154, gapMedian: 10100 * time.Millisecond, gapP99: 10300 * time.Millisecond,
		allReleases: 103 * time.Second, init: 20 * time.Second, cpu: 30 * time.Second, peakRSS: 60 << 20, eventsPerRelease: 5.2}
	serin := figures{done: whole, perRelease: 28, gapMedian: 10 * time.Second, gapP99: 10 * time.Second,
		allReleases: 81 * time.Second, init: 6 * time.Second, cpu: 2 * time.Second, peakRSS: 73 << 20, eventsPerRelease: 10.4}
	cols := []column{
		{label: "Flagger", measured: true, figures: flagger},
		{label: "Flagger raised", err: errors.New("etcd did not start")},
		{label: "Serin", measured: true, figures: serin},
	}
	table := compareTable(cfg, cols)

	lines := strings.Split(table, "\n")
	assert.Contains(t, table, "N = 100 (kwok workloads; interval 10s, stepWeight 10, maxWeight 50)")
	assert.Contains(t, lines, "| | Flagger | Flagger raised | Serin | Flagger ÷ Serin | Flagger raised ÷ Serin |")
	assert.Contains(t, lines, "|---|---|---|---|---|---|")
	assert.Contains(t, lines, "| idle API requests/s | 102.00 | – | 0.00 | ∞ | – |")
	assert.Contains(t, lines, "| API requests per release | 154.0 | – | 28.0 | 5.5× | – |")
	assert.Contains(t, lines, "| step gap p99 | 10.3 s | – | 10.0 s | 1.0× | – |")
	assert.Contains(t, lines, "| operator peak RSS | 60 MiB | – | 73 MiB | 0.8× | – |")
	assert.Contains(t, lines, "| Events delivered per release | 5.2 | – | 10.4 | 0.5× | – |")
	assert.Contains(t, table, "Flagger raised: the run stopped early (etcd did not start)")
	rows := 0
	for _, l := range lines {
		if strings.HasPrefix(l, "| ") && !strings.HasPrefix(l, "| |") {
			rows++
		}
	}
	assert.Equal(t, len(compareRows), rows, "one line per compared figure")
}

// A run cut short shows what it measured, "–" for the rest (never a zero
// that reads as a measurement), and its peak as a lower bound.
func TestCompareTableCutShort(t *testing.T) {
	cfg := config{n: 1000, workloads: workloadsKWOK, interval: 10 * time.Second, stepWeight: 10, maxWeight: 50}
	whole := map[string]bool{phaseInit: true, phaseIdle: true, phaseRollout: true, phaseEvents: true}
	cut := figures{done: map[string]bool{phaseInit: true}, init: 250 * time.Second, cpu: 40 * time.Second, peakRSS: 165 << 20}
	noEvents := figures{done: map[string]bool{phaseInit: true, phaseIdle: true, phaseRollout: true},
		perRelease: 146, init: 286 * time.Second, idleRate: 125, cpu: 161 * time.Second, peakRSS: 196 << 20}
	serin := figures{done: whole, perRelease: 30, init: 66 * time.Second, cpu: 17 * time.Second, eventsPerRelease: 11, peakRSS: 150 << 20}
	table := compareTable(cfg, []column{
		{label: "A", measured: true, figures: noEvents, err: errors.New("interrupted")},
		{label: "B", measured: true, figures: cut, err: errors.New("interrupted")},
		{label: "Serin", measured: true, figures: serin},
	})
	lines := strings.Split(table, "\n")
	assert.Contains(t, lines, "| init (last Canary created → last Initialized) | 286.0 s | 250.0 s | 66.0 s | 4.3× | 3.8× |")
	assert.Contains(t, lines, "| API requests per release | 146.0 | – | 30.0 | 4.9× | – |")
	assert.Contains(t, lines, "| idle API requests/s | 125.00 | – | 0.00 | ∞ | – |")
	assert.Contains(t, lines, "| operator CPU, init + idle + rollout | 161.0 s | – | 17.0 s | 9.5× | – |")
	assert.Contains(t, lines, "| Events delivered per release | – | – | 11.0 | – | – |")
	assert.Contains(t, lines, "| operator peak RSS | ≥ 196 MiB | ≥ 165 MiB | 150 MiB | – | – |",
		"a lower bound has no ratio to a whole run's peak")
}

func TestCompareVariantsEndWithSerin(t *testing.T) {
	vs := compareVariants()
	require.Len(t, vs, 3)
	assert.Equal(t, operatorSerin, vs[2].operator, "the ratios divide by the last column")
	assert.Empty(t, vs[0].flags, "Flagger with its defaults")
	assert.Equal(t, serinLimits, vs[1].flags)
}

func TestLaunches(t *testing.T) {
	f := flaggerLaunch("/bin/flagger", "/k", 8081, "http://127.0.0.1:9090", serinLimits)
	assert.Equal(t, []string{"-kubeconfig", "/k", "-mesh-provider", "gatewayapi:v1", "-port", "8081", "-log-level", "info",
		"-metrics-server", "http://127.0.0.1:9090", "-kubeconfig-qps", "500", "-kubeconfig-burst", "1000", "-threadiness", "128"}, f.args)
	assert.Equal(t, "/healthz", f.readyPath)
	assert.Equal(t, operatorFlagger, f.name)

	s := serinLaunch("/bin/serin", "/k", 8082, "", true, nil)
	assert.Equal(t, []string{"-kubeconfig", "/k", "-mesh-provider", "gatewayapi:v1", "-port", "8082", "-pprof"}, s.args)
	assert.Equal(t, "/readyz", s.readyPath)
}

func TestWaitBound(t *testing.T) {
	assert.Equal(t, 5*time.Minute+50*time.Second, config{n: 1000, operator: operatorSerin}.waitBound())
	assert.Equal(t, 30*time.Minute, config{n: 1000, operator: operatorFlagger}.waitBound())
	assert.Equal(t, time.Minute, config{n: 1000, operator: operatorFlagger, timeout: time.Minute}.waitBound())
}

func TestOccurrences(t *testing.T) {
	assert.Equal(t, 1, occurrences(&corev1.Event{}), "an Event without a count happened once")
	assert.Equal(t, 7, occurrences(&corev1.Event{Count: 7}))
}

func TestParseFlagsOperator(t *testing.T) {
	cfg, err := parseFlags([]string{"-n", "10", "-operator", "flagger"})
	require.NoError(t, err)
	assert.Equal(t, operatorFlagger, cfg.operator)
	_, err = parseFlags([]string{"-operator", "argo"})
	assert.ErrorContains(t, err, "-operator must be")
	_, err = parseFlags([]string{"-operator", "flagger", "-profile", "/tmp"})
	assert.ErrorContains(t, err, "-profile needs the serin operator")
	cfg, err = parseFlags([]string{"-compare"})
	require.NoError(t, err)
	assert.True(t, cfg.compare)
}
