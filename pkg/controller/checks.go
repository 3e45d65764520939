package controller

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/sirupsen/logrus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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
	// records are the checks run, as they ran.
	records records
}

// newChecks builds the checks of one tick of cd.
func (c *Controller) newChecks(cd *flaggerv1.Canary, log *logrus.Entry) *checks {
	return &checks{webhooks: c.cfg.Plugins.Webhooks, providers: c.cfg.Plugins.Metrics, templates: c.templates,
		secrets: c.cfg.Plugins.Secrets, metrics: c.metrics, metricsServer: c.cfg.MetricsServer,
		noCrossNamespaceRefs: c.cfg.NoCrossNamespaceRefs, cd: cd, log: log}
}

var _ analysis.Checks = (*checks)(nil)

func (k *checks) CallWebhook(ctx context.Context, hook flaggerv1.CanaryWebhook, phase flaggerv1.CanaryPhase) error {
	start := time.Now()
	err := k.webhooks.Call(ctx, hook, webhook.NewPayload(k.cd, phase, hook))
	k.records.add(webhookRecord(hook, start, time.Since(start), err))
	if err != nil {
		k.metrics.observeWebhookError(string(hook.Type))
	}
	return err
}

func (k *checks) CheckMetric(ctx context.Context, metric flaggerv1.CanaryMetric) error {
	r, err := k.resolve(metric)
	if err != nil {
		k.records.add(flaggerv1.CheckResult{Kind: flaggerv1.MetricCheck, Name: metric.Name,
			EvaluatedAt: metav1.NewTime(evaluationTime()), Threshold: metrics.ThresholdText(metric),
			Verdict: flaggerv1.CheckError, Message: firstLine(err.Error())})
		return err
	}
	at, start := evaluationTime(), time.Now()
	value, err := r.provider.RunQuery(ctx, r.query, at)
	rec := metricRecord(metric, r, at, time.Since(start))
	rec.Threshold = metrics.ThresholdText(metric)
	defer func() { k.records.add(rec) }()
	switch {
	case errors.Is(err, metrics.ErrNoValues):
		rec.Verdict = flaggerv1.CheckNoData
		msg := metrics.NoValuesMessage(k.cd, metric, r.providerType, err)
		rec.Message = firstLine(msg)
		return errors.New(msg)
	case err != nil:
		k.metrics.observeProviderError(r.providerType)
		msg := metrics.QueryErrorMessage(metric, err)
		rec.Verdict, rec.Message = flaggerv1.CheckError, firstLine(msg)
		return errors.New(msg)
	}
	k.metrics.observeMetricValue(k.cd, metric.Name, value)
	rec.Value = strconv.FormatFloat(value, 'g', -1, 64)
	if ok, msg := metrics.Check(k.cd, metric, value); !ok {
		rec.Verdict, rec.Message = flaggerv1.CheckFail, firstLine(msg)
		return errors.New(msg)
	}
	rec.Verdict = flaggerv1.CheckPass
	return nil
}

func (k *checks) ProbeMetricProviders(ctx context.Context) error {
	an := k.cd.GetAnalysis()
	if an == nil {
		return nil
	}
	var errs []error
	for _, metric := range an.Metrics {
		r, err := k.resolve(metric)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok, err := r.provider.IsOnline(ctx); !ok || err != nil {
			errs = append(errs, fmt.Errorf("metric %s: provider is offline: %v", metric.Name, err))
		}
	}
	return errors.Join(errs...)
}

// resolved is a metric's rendered query and the provider that runs it.
type resolved struct {
	query        string
	provider     metrics.Provider
	providerType string
	// address is the provider's, recorded so that the query can be asked
	// again (kubectl serin replay).
	address string
}

// resolve returns a metric's rendered query and the provider that runs it.
// Errors carry Flagger's event texts.
func (k *checks) resolve(metric flaggerv1.CanaryMetric) (resolved, error) {
	model := metrics.NewModel(k.cd, metric)
	if metric.Compare != nil && canary.BaselineEnabled(k.cd) {
		// A compared metric's template is written per arm ({{ workload }});
		// outside the judge (the providers' probe) it is asked of the canary.
		model = model.ForArm(metrics.ArmCanary)
	}
	switch metrics.KindOf(metric) {
	case metrics.KindRequestSuccessRate, metrics.KindRequestDuration, metrics.KindGRPCErrorRate:
		query, err := metrics.BuiltinQuery(metric.Name, model)
		if err != nil {
			return resolved{}, fmt.Errorf("Metric query failed for %s: %v", metric.Name, err)
		}
		return k.defaultProvider(query)
	case metrics.KindQuery:
		return k.defaultProvider(metric.Query)
	case metrics.KindTemplate:
		return k.fromTemplate(metric, model)
	}
	return resolved{}, errors.New(metrics.UnusableMetricMessage)
}

// defaultProvider is the Prometheus of spec.metricsServer or -metrics-server.
func (k *checks) defaultProvider(query string) (resolved, error) {
	address := k.cd.Spec.MetricsServer
	if address == "" {
		address = k.metricsServer
	}
	provider, err := k.providers.Provider(metrics.ProviderConfig{Type: metrics.TypePrometheus, Address: address})
	if err != nil {
		return resolved{}, fmt.Errorf("Prometheus client error: %v", err)
	}
	return resolved{query: query, provider: provider, providerType: metrics.TypePrometheus, address: address}, nil
}

// fromTemplate reads the MetricTemplate and its secret from the listers.
func (k *checks) fromTemplate(metric flaggerv1.CanaryMetric, model metrics.Model) (resolved, error) {
	ns := metric.TemplateRef.Namespace
	if ns == "" {
		ns = k.cd.Namespace
	}
	name := metric.TemplateRef.Name
	if k.noCrossNamespaceRefs && isCrossNamespace(k.cd, ns) {
		return resolved{}, crossNamespaceError("metric "+metric.Name+" templateRef", "MetricTemplate", ns, name)
	}
	tmpl, err := k.templates.MetricTemplates(ns).Get(name)
	if err != nil {
		return resolved{}, fmt.Errorf("Metric template %s.%s error: %v", name, ns, err)
	}
	var credentials map[string][]byte
	if ref := tmpl.Spec.Provider.SecretRef; ref != nil {
		secret, err := k.secrets.Get(ns, ref.Name)
		if err != nil {
			return resolved{}, fmt.Errorf("Metric template %s.%s secret %s error: %v", name, ns, ref.Name, err)
		}
		credentials = secret.Data
	}
	provider, err := k.providers.Provider(metrics.ConfigFromTemplate(tmpl.Spec.Provider, credentials, metric.GetMetricInterval()))
	if err != nil {
		return resolved{}, fmt.Errorf("Metric template %s.%s provider %s error: %v", name, ns, tmpl.Spec.Provider.Type, err)
	}
	query, err := metrics.Render(tmpl.Spec.Query, model)
	if err != nil {
		return resolved{}, fmt.Errorf("Metric template %s.%s query render error: %v", name, ns, err)
	}
	return resolved{query: query, provider: provider, providerType: tmpl.Spec.Provider.Type, address: tmpl.Spec.Provider.Address}, nil
}
