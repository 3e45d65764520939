// Package telemetry exposes the operator's own Prometheus metrics under
// Flagger's names and labels (flagger-behaviour.md §2.12), so that Flagger's
// Grafana dashboards and alert rules such as flagger_canary_status > 1 keep
// working: flagger_info, the per-canary gauges flagger_canary_total,
// flagger_canary_status and flagger_canary_weight, computed from the canary
// lister at scrape time, and the flagger_canary_duration_seconds histogram and
// flagger_canary_successes_total / flagger_canary_failures_total counters,
// which the controller feeds through Releases. flagger_canary_metric_analysis
// belongs to the controller, which sees the metric values.
package telemetry
