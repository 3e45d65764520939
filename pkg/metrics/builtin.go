package metrics

import (
	"fmt"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// Names of the builtin metrics.
const (
	// RequestSuccessRate is the percentage of canary requests not answered
	// with a 5xx.
	RequestSuccessRate = flaggerv1.BuiltinRequestSuccessRate
	// RequestDuration is the 99th percentile of the canary's request
	// duration, in seconds (thresholds are in milliseconds).
	RequestDuration = flaggerv1.BuiltinRequestDuration
)

// Builtin queries used with the Gateway API provider. Like Flagger's HTTP
// observer they read the application's own http_request_duration_seconds
// histogram (podinfo exports it) scraped from the canary pods, relabelled
// with kubernetes_namespace and kubernetes_pod_name. The pod regex needs the
// ReplicaSet and pod hashes right after the target name, so it matches the
// canary's pods and not <target>-primary-....
const (
	canaryPods = `kubernetes_namespace="{{ namespace }}", kubernetes_pod_name=~"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"`

	successRateQuery = `
sum(
  rate(http_request_duration_seconds_count{` + canaryPods + `, status!~"5.*"}[{{ interval }}])
)
/
sum(
  rate(http_request_duration_seconds_count{` + canaryPods + `}[{{ interval }}])
)
* 100`

	durationQuery = `
histogram_quantile(0.99,
  sum(
    rate(http_request_duration_seconds_bucket{` + canaryPods + `}[{{ interval }}])
  ) by (le)
)`
)

// BuiltinQuery renders the PromQL of a builtin metric for a model.
func BuiltinQuery(name string, m Model) (string, error) {
	switch name {
	case RequestSuccessRate:
		return Render(successRateQuery, m)
	case RequestDuration:
		return Render(durationQuery, m)
	default:
		return "", fmt.Errorf("%q is not a builtin metric", name)
	}
}

// Kind says how a metric is evaluated.
type Kind int

const (
	// KindUnusable is a metric with no templateRef, no query and no builtin
	// name: it fails the check.
	KindUnusable Kind = iota
	// KindRequestSuccessRate is the builtin success rate, in percent.
	KindRequestSuccessRate
	// KindRequestDuration is the builtin request duration, in seconds.
	KindRequestDuration
	// KindQuery is a deprecated inline query, run against the canary's
	// metrics server.
	KindQuery
	// KindTemplate is a query from a MetricTemplate.
	KindTemplate
)

// KindOf classifies a metric. A templateRef wins over an inline query, which
// wins over a builtin name. Unlike Flagger, a metric named
// request-success-rate that also has a templateRef is evaluated once, through
// its template, instead of twice.
func KindOf(metric flaggerv1.CanaryMetric) Kind {
	switch {
	case metric.TemplateRef != nil:
		return KindTemplate
	case metric.Query != "":
		return KindQuery
	case metric.IsBuiltin() && metric.Name == RequestSuccessRate:
		return KindRequestSuccessRate
	case metric.IsBuiltin():
		return KindRequestDuration
	default:
		return KindUnusable
	}
}
