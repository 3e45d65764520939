package controller

import (
	"testing"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	listers "github.com/serin-dev/serin/pkg/client/listers/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/metrics"
)

// configRecorder is a MetricProviders that keeps the configurations asked
// for and builds nothing.
type configRecorder struct {
	configs []metrics.ProviderConfig
}

func (r *configRecorder) Provider(cfg metrics.ProviderConfig) (metrics.Provider, error) {
	r.configs = append(r.configs, cfg)
	return nil, nil
}

func TestTemplateProviderGetsTheMetricInterval(t *testing.T) {
	tests := map[string]struct {
		interval string
		want     string
	}{
		"set":          {interval: "30s", want: "30s"},
		"Flagger's 1m": {want: "1m"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			templates := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
			require.NoError(t, templates.Add(&flaggerv1.MetricTemplate{
				ObjectMeta: metav1.ObjectMeta{Name: "errors", Namespace: "test"},
				Spec: flaggerv1.MetricTemplateSpec{Provider: flaggerv1.MetricTemplateProvider{Type: "cloudwatch", Region: "eu-west-1"},
					Query: `[{"Id": "e1", "Expression": "m1"}]`},
			}))
			rec := &configRecorder{}
			k := &checks{providers: rec, templates: listers.NewMetricTemplateLister(templates),
				metrics: newSyncMetrics(), cd: testCanary(), log: logrus.NewEntry(logrus.New())}

			_, err := k.resolve(flaggerv1.CanaryMetric{Name: "errors", Interval: tt.interval,
				TemplateRef: &flaggerv1.CrossNamespaceObjectReference{Name: "errors"}})
			require.NoError(t, err)
			require.Len(t, rec.configs, 1)
			assert.Equal(t, tt.want, rec.configs[0].Interval)
			assert.Equal(t, "eu-west-1", rec.configs[0].Region)
		})
	}
}
