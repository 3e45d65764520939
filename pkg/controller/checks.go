package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/serin-dev/serin/pkg/analysis"
	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/canary"
	listers "github.com/serin-dev/serin/pkg/client/listers/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/metrics"
	"github.com/serin-dev/serin/pkg/webhook"
)

// checks runs one canary's webhooks and metric queries for analysis.Step,
// with nothing but what they read and call.
type checks struct {
	webhooks  Webhooks
	providers MetricProviders
	templates listers.MetricTemplateLister
	secrets   canary.SecretGetter
	metrics   *syncMetrics
	// metricsServer is -metrics-server, the default Prometheus.
	metricsServer string
	// noCrossNamespaceRefs is -no-cross-namespace-refs.
	noCrossNamespaceRefs bool

	cd  *flaggerv1.Canary
	log *logrus.Entry
}

// newChecks builds the checks of one tick of cd.
func (c *Controller) newChecks(cd *flaggerv1.Canary, log *logrus.Entry) *checks {
	return &checks{webhooks: c.cfg.Plugins.Webhooks, providers: c.cfg.Plugins.Metrics, templates: c.templates,
		secrets: c.cfg.Plugins.Secrets, metrics: c.metrics, metricsServer: c.cfg.MetricsServer,
		noCrossNamespaceRefs: c.cfg.NoCrossNamespaceRefs, cd: cd, log: log}
}

var _ analysis.Checks = (*checks)(nil)

func (k *checks) CallWebhook(ctx context.Context, hook flaggerv1.CanaryWebhook, phase flaggerv1.CanaryPhase) error {
	err := k.webhooks.Call(ctx, hook, webhook.NewPayload(k.cd, phase, hook))
	if err != nil {
		k.metrics.observeWebhookError(string(hook.Type))
	}
	return err
}

func (k *checks) CheckMetric(ctx context.Context, metric flaggerv1.CanaryMetric) error {
	query, provider, providerType, err := k.resolve(metric)
	if err != nil {
		return err
	}
	value, err := provider.RunQuery(ctx, query, time.Time{})
	switch {
	case errors.Is(err, metrics.ErrNoValues):
		return errors.New(metrics.NoValuesMessage(k.cd, metric, providerType, err))
	case err != nil:
		k.metrics.observeProviderError(providerType)
		return errors.New(metrics.QueryErrorMessage(metric, err))
	}
	k.metrics.observeMetricValue(k.cd, metric.Name, value)
	if ok, msg := metrics.Check(k.cd, metric, value); !ok {
		return errors.New(msg)
	}
	return nil
}

func (k *checks) ProbeMetricProviders(ctx context.Context) error {
	an := k.cd.GetAnalysis()
	if an == nil {
		return nil
	}
	var errs []error
	for _, metric := range an.Metrics {
		_, provider, _, err := k.resolve(metric)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok, err := provider.IsOnline(ctx); !ok || err != nil {
			errs = append(errs, fmt.Errorf("metric %s: provider is offline: %v", metric.Name, err))
		}
	}
	return errors.Join(errs...)
}

// resolve returns a metric's rendered query and the provider that runs it.
// Errors carry Flagger's event texts.
func (k *checks) resolve(metric flaggerv1.CanaryMetric) (string, metrics.Provider, string, error) {
	model := metrics.NewModel(k.cd, metric)
	switch metrics.KindOf(metric) {
	case metrics.KindRequestSuccessRate, metrics.KindRequestDuration:
		query, err := metrics.BuiltinQuery(metric.Name, model)
		if err != nil {
			return "", nil, "", fmt.Errorf("Metric query failed for %s: %v", metric.Name, err)
		}
		provider, err := k.defaultProvider()
		return query, provider, metrics.TypePrometheus, err
	case metrics.KindQuery:
		provider, err := k.defaultProvider()
		return metric.Query, provider, metrics.TypePrometheus, err
	case metrics.KindTemplate:
		return k.fromTemplate(metric, model)
	}
	return "", nil, "", errors.New(metrics.UnusableMetricMessage)
}

// defaultProvider is the Prometheus of spec.metricsServer or -metrics-server.
func (k *checks) defaultProvider() (metrics.Provider, error) {
	address := k.cd.Spec.MetricsServer
	if address == "" {
		address = k.metricsServer
	}
	provider, err := k.providers.Provider(metrics.ProviderConfig{Type: metrics.TypePrometheus, Address: address})
	if err != nil {
		return nil, fmt.Errorf("Prometheus client error: %v", err)
	}
	return provider, nil
}

// fromTemplate reads the MetricTemplate and its secret from the listers.
func (k *checks) fromTemplate(metric flaggerv1.CanaryMetric, model metrics.Model) (string, metrics.Provider, string, error) {
	ns := metric.TemplateRef.Namespace
	if ns == "" {
		ns = k.cd.Namespace
	}
	name := metric.TemplateRef.Name
	if k.noCrossNamespaceRefs && isCrossNamespace(k.cd, ns) {
		return "", nil, "", crossNamespaceError("metric "+metric.Name+" templateRef", "MetricTemplate", ns, name)
	}
	tmpl, err := k.templates.MetricTemplates(ns).Get(name)
	if err != nil {
		return "", nil, "", fmt.Errorf("Metric template %s.%s error: %v", name, ns, err)
	}
	var credentials map[string][]byte
	if ref := tmpl.Spec.Provider.SecretRef; ref != nil {
		secret, err := k.secrets.Get(ns, ref.Name)
		if err != nil {
			return "", nil, "", fmt.Errorf("Metric template %s.%s secret %s error: %v", name, ns, ref.Name, err)
		}
		credentials = secret.Data
	}
	provider, err := k.providers.Provider(metrics.ConfigFromTemplate(tmpl.Spec.Provider, credentials))
	if err != nil {
		return "", nil, "", fmt.Errorf("Metric template %s.%s provider %s error: %v", name, ns, tmpl.Spec.Provider.Type, err)
	}
	query, err := metrics.Render(tmpl.Spec.Query, model)
	if err != nil {
		return "", nil, "", fmt.Errorf("Metric template %s.%s query render error: %v", name, ns, err)
	}
	return query, provider, tmpl.Spec.Provider.Type, nil
}
