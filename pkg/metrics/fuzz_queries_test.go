package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// FuzzKubernetesQueries parses arbitrary keptn and externalmetrics queries:
// never a panic, and what parses names what the API needs (a namespace and
// a name without slashes, a duration Keptn accepts, lower-case argument
// keys as Flagger sends them).
func FuzzKubernetesQueries(f *testing.F) {
	for _, s := range []string{
		"keptnmetric/my-namespace/response-time/2m/reporter=destination", "analysis/test/slo/1m30s/a=b;C=D;",
		"analyses/test/slo//path=/api/v1", "KeptnMetrics/Test/RT\n", "analysis/test/slo/1d", "analysis//x",
		"test/queue_depth?labelSelector=queue%3Dorders", "q", "/q", "a/b/c", "q?labelSelector=%zz", "te%zzst/q",
		"q?labelSelector=app%3D%3D%3D", "", "/", "?", "#",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, query string) {
		if k, err := parseKeptnQuery(query); err == nil {
			require.NotEmpty(t, k.namespace)
			require.NotEmpty(t, k.name)
			require.NotContains(t, k.namespace+k.name, "/")
			require.Equal(t, strings.ToLower(k.namespace+"/"+k.name), k.namespace+"/"+k.name)
			if k.resource == keptnAnalyses {
				_, err := time.ParseDuration(k.duration)
				require.NoError(t, err, "duration %q", k.duration)
				for key := range k.args {
					require.NotEmpty(t, key)
					require.Equal(t, strings.ToLower(key), key)
				}
				require.Equal(t, newKeptnAnalysis(k).Object, newKeptnAnalysis(k).Object)
			}
		}
		if q, err := parseExternalMetricsQuery(query); err == nil {
			require.NotEmpty(t, q.namespace)
			require.NotEmpty(t, q.metric)
			require.NotContains(t, q.namespace+q.metric, "/")
			require.NotNil(t, q.selector)
		}
	})
}
