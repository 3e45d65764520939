package controller

import (
	"context"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	listers "github.com/serin-dev/serin/pkg/client/listers/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/metrics"
)

// configRecorder keeps the provider configurations asked for and answers
// with a provider that always returns 1.
type configRecorder struct{ configs []metrics.ProviderConfig }

func (r *configRecorder) Provider(cfg metrics.ProviderConfig) (metrics.Provider, error) {
	r.configs = append(r.configs, cfg)
	return one{}, nil
}

type one struct{}

func (one) RunQuery(context.Context, string, time.Time) (float64, error) { return 1, nil }
func (one) IsOnline(context.Context) (bool, error)                       { return true, nil }

// TestTemplateProviderGetsTheMetricInterval checks that a template's
// provider is configured with the interval of the metric that uses it, as
// Flagger gives it to the providers that query a time range (datadog,
// newrelic, dynatrace, splunk).
func TestTemplateProviderGetsTheMetricInterval(t *testing.T) {
	tests := map[string]struct {
		interval string
		want     string
	}{
		"set":            {interval: "2m", want: "2m"},
		"unset means 1m": {want: "1m"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			templates := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
			require.NoError(t, templates.Add(&flaggerv1.MetricTemplate{
				ObjectMeta: metav1.ObjectMeta{Name: "dd", Namespace: "test"},
				Spec: flaggerv1.MetricTemplateSpec{Provider: flaggerv1.MetricTemplateProvider{Type: metrics.TypeDatadog},
					Query: "avg:trace.http.request.duration{service:{{ target }}}"},
			}))
			providers := &configRecorder{}
			k := &checks{providers: providers, templates: listers.NewMetricTemplateLister(templates),
				metrics: newSyncMetrics(), cd: testCanary(), log: logrus.NewEntry(logrus.New())}

			metric := flaggerv1.CanaryMetric{Name: "latency", Interval: tt.interval,
				ThresholdRange: &flaggerv1.CanaryThresholdRange{Max: ptr.To(5.0)},
				TemplateRef:    &flaggerv1.CrossNamespaceObjectReference{Name: "dd"}}
			require.NoError(t, k.CheckMetric(context.Background(), metric))
			require.Len(t, providers.configs, 1)
			assert.Equal(t, metrics.TypeDatadog, providers.configs[0].Type)
			assert.Equal(t, tt.want, providers.configs[0].Interval)
		})
	}
}
