// Package metricsexporter serves Istio-style request metrics for Serin's end-to-end tests, so
// that the tutorial's MetricTemplates run unchanged against a real Prometheus. A test sets the
// traffic of each (namespace, workload) — requests per second, share of 500s and latency — and
// the exporter's istio_requests_total counters and istio_request_duration_milliseconds histogram
// grow with real time as if that traffic were flowing, so rate() over any window gives back the
// configured values. Each workload also exports podinfo's own http_request_duration_seconds
// histogram, labelled as a pod of the workload, for the builtin request-success-rate and
// request-duration metrics.
package metricsexporter
