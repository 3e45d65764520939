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
	// GRPCErrorRate is the percentage of the canary's gRPC calls answered
	// with a status other than OK (and Unknown, which Traefik cannot tell
	// from OK), as Traefik counts them (Serin only; see grpcErrorRateQuery). A metric of that name without a templateRef or
	// query is this builtin; its threshold is a maximum.
	GRPCErrorRate = "grpc-error-rate"
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

// The gRPC error rate. podinfo's gRPC server, like most, exports no metric
// of its own, so unlike the HTTP builtins this one reads the gateway's:
// Traefik (v3.6) counts every call in traefik_service_requests_total with
// protocol="grpc" and, for gRPC, puts a grpc-status in the code label
// instead of the HTTP status. It reads that status from the response
// headers only, which is measured on the real stack (test/traffic
// TestGRPCCanaryWeightedThroughTraefik):
//
//   - an error a server answers without a message ("trailers-only", what
//     grpc-go does for a handler's error) carries its grpc-status in the
//     headers and is counted with its code: 14 for UNAVAILABLE;
//   - a successful call carries grpc-status 0 in the HTTP/2 trailers, which
//     Traefik's proxy hands on under another key, so it is counted as 2
//     (Unknown), and so is a failure of Traefik's own (a 502 for a backend it
//     cannot reach), which has no grpc-status at all.
//
// So the builtin counts the calls with a code other than 0 and 2: every
// status a server returns except Unknown. A canary that answers Unknown, or
// that Traefik cannot reach, is not seen by it (the gate on ResolvedRefs
// covers an unresolved reference). Traefik's Gateway API provider names the
// backend of a GRPCRoute reference "<namespace>-<service>-<port>-grpc". A
// canary without errors has no such series, hence the "or vector(0)"; one
// without calls has none at all, and the query returns no value (the
// analysis halts as for the HTTP builtins). Other gateways need a
// MetricTemplate.
const (
	grpcCanary = `service=~"{{ namespace }}-{{ service }}-canary-[0-9]+-grpc@kubernetesgateway", protocol="grpc"`

	grpcErrorRateQuery = `
(
  sum(
    rate(traefik_service_requests_total{` + grpcCanary + `, code!~"0|2"}[{{ interval }}])
  )
  or vector(0)
)
/
sum(
  rate(traefik_service_requests_total{` + grpcCanary + `}[{{ interval }}])
)
* 100`
)

// BuiltinQuery renders the PromQL of a builtin metric for a model.
func BuiltinQuery(name string, m Model) (string, error) {
	switch name {
	case RequestSuccessRate:
		return Render(successRateQuery, m)
	case RequestDuration:
		return Render(durationQuery, m)
	case GRPCErrorRate:
		return Render(grpcErrorRateQuery, m)
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
	// KindGRPCErrorRate is the builtin gRPC error rate, in percent; its
	// threshold is a maximum.
	KindGRPCErrorRate
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
	case metric.TemplateRef == nil && metric.Query == "" && metric.Name == GRPCErrorRate:
		return KindGRPCErrorRate
	default:
		return KindUnusable
	}
}
