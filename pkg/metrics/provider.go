package metrics

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// Provider runs queries against a metrics backend.
type Provider interface {
	// RunQuery runs an instant query evaluated at a time (the zero time: the
	// backend's now) and returns its single value. It returns an error
	// wrapping ErrNoValues when the result is empty or NaN. The time is
	// explicit so that a recorded check can be asked again as it was
	// (kubectl serin replay).
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

// Provider types accepted by the MetricTemplate CRD.
const (
	// TypePrometheus is the Prometheus HTTP API (also Thanos, Mimir, VictoriaMetrics...).
	TypePrometheus = "prometheus"
)

// DefaultQueryTimeout bounds each query when ProviderConfig.Timeout is zero.
const DefaultQueryTimeout = 5 * time.Second

// flaggerOnlyTypes are the provider types Flagger implements and Serin does
// not (yet).
var flaggerOnlyTypes = map[string]bool{
	"influxdb": true, "datadog": true, "cloudwatch": true, "newrelic": true,
	"graphite": true, "dynatrace": true, "stackdriver": true, "keptn": true,
	"splunk": true, "externalmetrics": true,
}

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
}

// ConfigFromTemplate returns the configuration of a MetricTemplate's provider
// given the data of its secret (nil when it has no secretRef).
func ConfigFromTemplate(p flaggerv1.MetricTemplateProvider, credentials map[string][]byte) ProviderConfig {
	return ProviderConfig{
		Type:               p.Type,
		Address:            p.Address,
		Headers:            p.Headers,
		Credentials:        credentials,
		InsecureSkipVerify: p.InsecureSkipVerify,
	}
}

// NewProvider builds a provider for a configuration. Unlike Flagger, which
// logs a warning and falls back to Prometheus, an unknown or unimplemented
// type is an error wrapping ErrUnsupportedProvider.
func NewProvider(cfg ProviderConfig) (Provider, error) {
	switch {
	case cfg.Type == TypePrometheus:
		return newPrometheus(cfg)
	case flaggerOnlyTypes[cfg.Type]:
		return nil, fmt.Errorf("%w: %s is not supported by Serin yet", ErrUnsupportedProvider, cfg.Type)
	default:
		return nil, fmt.Errorf("%w: unknown type %q", ErrUnsupportedProvider, cfg.Type)
	}
}
