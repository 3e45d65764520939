package metrics

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"k8s.io/client-go/rest"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// Provider runs queries against a metrics backend.
type Provider interface {
	// RunQuery runs an instant query evaluated at a time (the zero time: the
	// backend's now) and returns its single value. It returns an error
	// wrapping ErrNoValues when the result is empty or NaN (except where
	// Flagger reads an empty result as 0: influxdb). The time is explicit
	// so that a recorded check can be asked again as it was (kubectl serin
	// replay); the providers whose API takes a time range end it there.
	RunQuery(ctx context.Context, query string, at time.Time) (float64, error)
	// IsOnline reports whether the backend answers queries.
	IsOnline(ctx context.Context) (bool, error)
}

var (
	// ErrNoValues means a query returned no sample or NaN, usually because
	// the canary receives no traffic. Flagger counts it as a failed check.
	ErrNoValues = errors.New("no values found")
	// ErrUnsupportedProvider means a provider type is unknown or not
	// implemented by Serin.
	ErrUnsupportedProvider = errors.New("unsupported metrics provider")
)

// Provider types accepted by the MetricTemplate CRD: every type of Flagger
// 1.44, with Flagger's fields, secret keys and query semantics.
const (
	// TypePrometheus is the Prometheus HTTP API (also Thanos, Mimir, VictoriaMetrics...).
	TypePrometheus      = "prometheus"
	TypeDatadog         = "datadog"
	TypeNewRelic        = "newrelic"
	TypeDynatrace       = "dynatrace"
	TypeSplunk          = "splunk"
	TypeInfluxDB        = "influxdb"
	TypeCloudWatch      = "cloudwatch"
	TypeStackdriver     = "stackdriver"
	TypeGraphite        = "graphite"
	TypeKeptn           = "keptn"
	TypeExternalMetrics = "externalmetrics"
)

// DefaultQueryTimeout bounds each query when ProviderConfig.Timeout is zero.
const DefaultQueryTimeout = 5 * time.Second

// ProviderConfig is everything needed to build a Provider. It is a value:
// two equal configurations build interchangeable providers (see
// ProviderCache).
type ProviderConfig struct {
	// Type is the provider type, e.g. prometheus.
	Type string
	// Address is the base URL of the provider's API.
	Address string
	// Headers are sent with every query.
	Headers http.Header
	// Credentials is the data of the template's secretRef Secret; nil means
	// no secretRef. Prometheus reads token (a bearer token), or username and
	// password (basic auth).
	Credentials map[string][]byte
	// InsecureSkipVerify skips the verification of the server certificate.
	InsecureSkipVerify bool
	// Timeout bounds each query; zero means DefaultQueryTimeout.
	Timeout time.Duration
	// Region is the provider's region (cloudwatch).
	Region string
	// Interval is the metric's interval as written (metric.interval, e.g.
	// "1m"; empty means 1m). Flagger gives it to the providers whose APIs
	// take a time range rather than a query that names its own: datadog,
	// newrelic, dynatrace and splunk derive their query window from it. It
	// is part of the cache key, so each interval has its own provider.
	Interval string
	// Cluster is the operator's own API server, for the providers that read
	// Kubernetes APIs (keptn, externalmetrics); nil where there is none. It
	// is the same for every template, so it is not part of the cache key.
	Cluster *rest.Config `json:"-"`
}

// ConfigFromTemplate returns the configuration of a MetricTemplate's provider
// given the data of its secret (nil when it has no secretRef) and the
// interval of the metric that uses it (metric.interval).
func ConfigFromTemplate(p flaggerv1.MetricTemplateProvider, credentials map[string][]byte, interval string) ProviderConfig {
	return ProviderConfig{
		Type:               p.Type,
		Address:            p.Address,
		Headers:            p.Headers,
		Credentials:        credentials,
		InsecureSkipVerify: p.InsecureSkipVerify,
		Region:             p.Region,
		Interval:           interval,
	}
}

// NewProvider builds a provider for a configuration. Unlike Flagger, which
// logs a warning and falls back to Prometheus, an unknown type is an error
// wrapping ErrUnsupportedProvider.
func NewProvider(cfg ProviderConfig) (Provider, error) {
	switch cfg.Type {
	case TypePrometheus:
		return newPrometheus(cfg)
	case TypeDatadog:
		return newDatadog(cfg)
	case TypeNewRelic:
		return newNewRelic(cfg)
	case TypeDynatrace:
		return newDynatrace(cfg)
	case TypeSplunk:
		return newSplunk(cfg)
	case TypeInfluxDB:
		return newInfluxDB(cfg)
	case TypeCloudWatch:
		return newCloudWatch(cfg)
	case TypeStackdriver:
		return newStackdriver(cfg)
	case TypeGraphite:
		return newGraphite(cfg)
	case TypeKeptn:
		return newKeptn(cfg)
	case TypeExternalMetrics:
		return newExternalMetrics(cfg)
	default:
		return nil, fmt.Errorf("%w: unknown type %q", ErrUnsupportedProvider, cfg.Type)
	}
}
