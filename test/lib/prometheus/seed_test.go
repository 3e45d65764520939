package prometheus

import (
	"errors"
	"io"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/util/yaml"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/metrics"
)

// seedTemplates is the tutorial's MetricTemplates file, as copied into the repository.
const seedTemplates = "../../testdata/seed/metric-templates.yaml"

// readSeedQueries returns the query of every seed MetricTemplate by name.
func readSeedQueries(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(seedTemplates)
	require.NoError(t, err)
	defer f.Close()
	queries := map[string]string{}
	dec := yaml.NewYAMLOrJSONDecoder(f, 4096)
	for {
		var mt flaggerv1.MetricTemplate
		err := dec.Decode(&mt)
		if errors.Is(err, io.EOF) {
			return queries
		}
		require.NoError(t, err)
		queries[mt.Name] = mt.Spec.Query
	}
}

// renderQuery renders a template query for a canary of target in namespace test, with a 30s
// window.
func renderQuery(t *testing.T, query, target string) string {
	t.Helper()
	out, err := metrics.Render(query, metrics.Model{Namespace: "test", Target: target, Interval: "30s"})
	require.NoError(t, err)
	return out
}
