// Package metrics turns a canary's analysis metrics into numbers and verdicts:
// it renders MetricTemplate queries for a canary, runs them against a metrics
// provider (Prometheus today), provides the builtin request-success-rate and
// request-duration queries, and judges a value against a metric's thresholds
// with Flagger's event texts. Rendering and verdicts are pure functions; only
// the providers do I/O.
package metrics
