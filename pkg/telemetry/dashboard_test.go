package telemetry

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/serin-dev/serin/pkg/notifier"
)

// dashboardPath is the Grafana dashboard shipped with the operator.
var dashboardPath = filepath.Join("..", "..", "artifacts", "grafana", "serin-dashboard.json")

// controllerMetrics are the metrics of pkg/controller's syncMetrics, which
// need a whole controller to build.
var controllerMetrics = []string{
	"serin_sync_duration_seconds",
	"serin_analysis_lateness_seconds",
	"serin_webhook_errors_total",
	"serin_metrics_provider_errors_total",
	"flagger_canary_metric_analysis",
}

type dashboard struct {
	Title  string  `json:"title"`
	UID    string  `json:"uid"`
	Panels []panel `json:"panels"`
}

type panel struct {
	ID      int    `json:"id"`
	Type    string `json:"type"`
	Title   string `json:"title"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
}

// TestDashboardUsesOurMetrics parses the dashboard and checks that every
// metric it queries is one the operator exposes, and that it shows every
// Flagger metric.
func TestDashboardUsesOurMetrics(t *testing.T) {
	raw, err := os.ReadFile(dashboardPath)
	require.NoError(t, err)
	var d dashboard
	require.NoError(t, json.Unmarshal(raw, &d), "the dashboard must be valid JSON")
	assert.NotEmpty(t, d.Title)
	assert.NotEmpty(t, d.UID)
	require.NotEmpty(t, d.Panels)

	exposed := exposedMetrics(t)
	used := map[string]bool{}
	ids := map[int]bool{}
	metricName := regexp.MustCompile(`\b(?:flagger|serin)_[a-z_]+`)
	for _, p := range d.Panels {
		assert.False(t, ids[p.ID], "panel id %d is used twice", p.ID)
		ids[p.ID] = true
		if p.Type == "row" {
			continue
		}
		require.NotEmpty(t, p.Targets, "panel %q has no query", p.Title)
		for _, target := range p.Targets {
			for _, name := range metricName.FindAllString(target.Expr, -1) {
				name = trimHistogramSuffix(name)
				assert.True(t, exposed[name], "panel %q queries %s, which Serin does not expose", p.Title, name)
				used[name] = true
			}
		}
	}
	for name := range exposed {
		if strings.HasPrefix(name, "flagger_") {
			assert.True(t, used[name], "the dashboard does not show %s", name)
		}
	}
	assert.True(t, used["serin_alert_failures_total"])
}

// exposedMetrics returns the names of the operator's metrics.
func exposedMetrics(t *testing.T) map[string]bool {
	lister, _ := newLister(t)
	dispatcher, err := notifier.NewDispatcher(notifier.DispatcherConfig{})
	require.NoError(t, err)
	collectors := append(NewReleases(lister).Collectors(), Info("", ""))
	collectors = append(collectors, dispatcher.Collectors()...)

	names := map[string]bool{}
	for _, n := range controllerMetrics {
		names[n] = true
	}
	fqName := regexp.MustCompile(`fqName: "([^"]+)"`)
	descs := make(chan *prometheus.Desc, 64)
	for _, c := range collectors {
		c.Describe(descs)
	}
	close(descs)
	for d := range descs {
		m := fqName.FindStringSubmatch(d.String())
		require.NotNil(t, m, d.String())
		names[m[1]] = true
	}
	return names
}

func trimHistogramSuffix(name string) string {
	for _, s := range []string{"_bucket", "_sum", "_count"} {
		if strings.HasSuffix(name, "_seconds"+s) {
			return strings.TrimSuffix(name, s)
		}
	}
	return name
}
