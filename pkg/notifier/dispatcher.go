package notifier

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"

	"github.com/serin-dev/serin/pkg/analysis"
	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	listers "github.com/serin-dev/serin/pkg/client/listers/flagger/v1beta1"
)

// SecretGetter reads a Secret with its data; a missing one is a NotFound
// error.
type SecretGetter interface {
	Get(namespace, name string) (*corev1.Secret, error)
}

// DispatcherConfig is what a Dispatcher reads from and posts with.
type DispatcherConfig struct {
	// AlertProviders resolves analysis.alerts[].providerRef.
	AlertProviders listers.AlertProviderLister
	// Secrets resolves the providers' secretRef (pkg/secretcache).
	Secrets SecretGetter
	// Global receives the alerts of canaries without analysis.alerts.
	Global GlobalConfig
	// ClusterName, when set, is shown first with every alert as the Cluster
	// field (-cluster-name).
	ClusterName string
	// Notifier tunes the posts (timeout, transport, clock).
	Notifier Config
	// NoCrossNamespaceRefs refuses providerRefs to another namespace than
	// the canary's (-no-cross-namespace-refs).
	NoCrossNamespaceRefs bool
}

// Dispatcher routes a canary's alerts to its providers. It is safe for
// concurrent use by the controller's workers.
type Dispatcher struct {
	providers   listers.AlertProviderLister
	secrets     SecretGetter
	global      []namedNotifier
	clusterName string
	noCrossNS   bool
	cfg         Config
	built       notifierCache
	failures    *prometheus.CounterVec
}

// NewDispatcher builds a Dispatcher. It fails on an invalid global URL, so
// that a typo in a flag stops the operator instead of every alert.
func NewDispatcher(cfg DispatcherConfig) (*Dispatcher, error) {
	notifierCfg := cfg.Notifier.withDefaults()
	global, err := cfg.Global.build(notifierCfg)
	if err != nil {
		return nil, err
	}
	return &Dispatcher{
		providers:   cfg.AlertProviders,
		secrets:     cfg.Secrets,
		global:      global,
		clusterName: cfg.ClusterName,
		noCrossNS:   cfg.NoCrossNamespaceRefs,
		cfg:         notifierCfg,
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "serin_alert_failures_total",
			Help: "Alerts that could not be delivered, by provider type (unresolved when the AlertProvider could not be read).",
		}, []string{"provider"}),
	}, nil
}

// Collectors returns the metrics to register on the operator's registry.
func (d *Dispatcher) Collectors() []prometheus.Collector {
	return []prometheus.Collector{d.failures}
}

// Send delivers one alert of a canary to every provider that accepts its
// severity, or to the global notifiers when the canary lists no alerts. The
// posts run concurrently, each bounded by the post timeout, so Send returns
// within about one timeout. Every failure is counted and returned, joined,
// as *DeliveryError values for the caller to log; none stops the others.
func (d *Dispatcher) Send(ctx context.Context, cd *flaggerv1.Canary, alert analysis.Alert) error {
	msg := d.message(cd, alert)
	targets, errs := d.targets(cd, alert.Severity)
	results := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() {
			if err := t.notifier.Post(ctx, msg); err != nil {
				results[i] = &DeliveryError{Provider: t.name, Type: t.typ, Err: err}
			}
		})
	}
	wg.Wait()
	errs = append(errs, results...)
	for _, err := range errs {
		var de *DeliveryError
		if errors.As(err, &de) {
			d.failures.WithLabelValues(de.Type).Inc()
		}
	}
	return errors.Join(errs...)
}

// message is the alert as posted: the cluster name first, then the alert's
// own fields, as in Flagger.
func (d *Dispatcher) message(cd *flaggerv1.Canary, alert analysis.Alert) Message {
	var fields []Field
	if d.clusterName != "" {
		fields = append(fields, Field{Name: "Cluster", Value: d.clusterName})
	}
	for _, f := range alert.Fields {
		fields = append(fields, Field(f))
	}
	return Message{Name: cd.Name, Namespace: cd.Namespace, Text: alert.Message, Severity: alert.Severity, Fields: fields}
}

// targets returns the notifiers that receive an alert of a severity, and a
// *DeliveryError for each selected provider that could not be resolved.
func (d *Dispatcher) targets(cd *flaggerv1.Canary, severity flaggerv1.AlertSeverity) ([]namedNotifier, []error) {
	a := cd.GetAnalysis()
	if a == nil || len(a.Alerts) == 0 {
		return d.global, nil
	}
	var (
		targets []namedNotifier
		errs    []error
	)
	for _, entry := range a.Alerts {
		if !accepts(entry.Severity, severity) {
			continue
		}
		n, err := d.resolve(cd, entry.ProviderRef)
		if err != nil {
			errs = append(errs, &DeliveryError{Provider: n.name, Type: n.typ, Err: err})
			continue
		}
		targets = append(targets, n)
	}
	return targets, errs
}

// DeliveryError says which provider an alert did not reach, and why.
type DeliveryError struct {
	// Provider is the AlertProvider's namespace/name, or "global slack" or
	// "global msteams".
	Provider string
	// Type is the provider's type, or "unresolved" when the AlertProvider
	// could not be read.
	Type string
	// Err is the cause.
	Err error
}

// Error names the provider, its type and the cause.
func (e *DeliveryError) Error() string {
	return fmt.Sprintf("alert provider %s (%s): %v", e.Provider, e.Type, e.Err)
}

// Unwrap returns the cause.
func (e *DeliveryError) Unwrap() error {
	return e.Err
}
