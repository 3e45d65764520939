package metrics

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// UnusableMetricMessage is Flagger's Error event text for a metric with
// neither a templateRef, a query nor a builtin name.
const UnusableMetricMessage = "Metric query failed for no usable metrics template and query were configured"

// Check judges a metric value against the metric's thresholds and returns
// Flagger's Warning event text when it fails (empty when it passes). The value
// is what the query returned: a percentage for request-success-rate, seconds
// for request-duration, a raw number otherwise. With thresholdRange both
// bounds apply; the legacy threshold is a minimum for the success rate and a
// maximum for everything else.
func Check(c *flaggerv1.Canary, metric flaggerv1.CanaryMetric, value float64) (ok bool, message string) {
	kind := KindOf(metric)
	if kind == KindUnusable {
		return false, UnusableMetricMessage
	}
	halt := fmt.Sprintf("Halt %s.%s advancement ", c.Name, c.Namespace)
	if math.IsNaN(value) {
		// Providers return ErrNoValues instead; a NaN must never pass.
		return false, halt + metric.Name + " is NaN"
	}
	switch kind {
	case KindRequestSuccessRate:
		return checkSuccessRate(halt, metric, value)
	case KindRequestDuration:
		return checkDuration(halt, metric, value)
	default:
		return checkValue(halt, metric, value)
	}
}

func checkSuccessRate(halt string, metric flaggerv1.CanaryMetric, v float64) (bool, string) {
	if tr := metric.ThresholdRange; tr != nil {
		if tr.Min != nil && v < *tr.Min {
			return false, fmt.Sprintf("%ssuccess rate %.2f%% < %v%%", halt, v, *tr.Min)
		}
		if tr.Max != nil && v > *tr.Max {
			return false, fmt.Sprintf("%ssuccess rate %.2f%% > %v%%", halt, v, *tr.Max)
		}
		return true, ""
	}
	if v < metric.Threshold {
		return false, fmt.Sprintf("%ssuccess rate %.2f%% < %v%%", halt, v, metric.Threshold)
	}
	return true, ""
}

func checkDuration(halt string, metric flaggerv1.CanaryMetric, seconds float64) (bool, string) {
	// Unlike Flagger, which truncates the value to the millisecond (0.29s
	// reads 289ms through float error) and turns +Inf into a negative
	// duration that passes every maximum, compare rounded float milliseconds.
	v := math.Round(seconds * 1000)
	fail := func(op string, limit float64) (bool, string) {
		return false, fmt.Sprintf("%srequest duration %s %s %s", halt, formatMillis(v), op, formatMillis(limit))
	}
	if tr := metric.ThresholdRange; tr != nil {
		if tr.Min != nil && v < *tr.Min {
			return fail("<", *tr.Min)
		}
		if tr.Max != nil && v > *tr.Max {
			return fail(">", *tr.Max)
		}
		return true, ""
	}
	if v > metric.Threshold {
		return fail(">", metric.Threshold)
	}
	return true, ""
}

// maxMillis is the largest number of milliseconds a time.Duration holds.
const maxMillis = float64(math.MaxInt64 / int64(time.Millisecond))

// formatMillis prints milliseconds the way Flagger prints durations (1.2s,
// 500ms).
func formatMillis(ms float64) string {
	if math.IsInf(ms, 0) {
		return fmt.Sprint(ms)
	}
	if math.Abs(ms) > maxMillis {
		return fmt.Sprintf("%gs", ms/1000)
	}
	return time.Duration(ms * float64(time.Millisecond)).String()
}

func checkValue(halt string, metric flaggerv1.CanaryMetric, v float64) (bool, string) {
	if tr := metric.ThresholdRange; tr != nil {
		if tr.Min != nil && v < *tr.Min {
			return false, fmt.Sprintf("%s%s %.2f < %v", halt, metric.Name, v, *tr.Min)
		}
		if tr.Max != nil && v > *tr.Max {
			return false, fmt.Sprintf("%s%s %.2f > %v", halt, metric.Name, v, *tr.Max)
		}
		return true, ""
	}
	if v > metric.Threshold {
		return false, fmt.Sprintf("%s%s %.2f > %v", halt, metric.Name, v, metric.Threshold)
	}
	return true, ""
}

// NoValuesMessage is Flagger's Warning event text for a query that returned
// no values (err wraps ErrNoValues). provider names the metrics provider of
// builtin metrics (the mesh provider, e.g. gatewayapi:v1).
func NoValuesMessage(c *flaggerv1.Canary, metric flaggerv1.CanaryMetric, provider string, err error) string {
	switch KindOf(metric) {
	case KindRequestSuccessRate:
		return fmt.Sprintf("Halt advancement no values found for %s metric %s probably %s.%s is not receiving traffic: %v",
			provider, metric.Name, c.Spec.TargetRef.Name, c.Namespace, err)
	case KindRequestDuration, KindGRPCErrorRate:
		return fmt.Sprintf("Halt advancement no values found for %s metric %s probably %s.%s is not receiving traffic",
			provider, metric.Name, c.Spec.TargetRef.Name, c.Namespace)
	case KindQuery:
		return fmt.Sprintf("Halt advancement no values found for metric: %s", metric.Name)
	case KindTemplate:
		return fmt.Sprintf("Halt advancement no values found for custom metric: %s: %v", metric.Name, err)
	default:
		return UnusableMetricMessage
	}
}

// QueryErrorMessage is Flagger's Error event text for a query that failed
// for another reason than no values.
func QueryErrorMessage(metric flaggerv1.CanaryMetric, err error) string {
	switch KindOf(metric) {
	case KindRequestSuccessRate, KindRequestDuration, KindGRPCErrorRate:
		return fmt.Sprintf("Prometheus query failed: %v", err)
	case KindQuery:
		return fmt.Sprintf("Prometheus query failed for %s: %v", metric.Name, err)
	case KindTemplate:
		return fmt.Sprintf("Metric query failed for %s: %v", metric.Name, err)
	default:
		return UnusableMetricMessage
	}
}

// ThresholdText is the accepted range of a metric as Check applies it, for
// records and the explain view: "min 99", "max 500ms", "min 1 max 2".
func ThresholdText(metric flaggerv1.CanaryMetric) string {
	kind := KindOf(metric)
	format := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	if kind == KindRequestDuration {
		format = formatMillis
	}
	if tr := metric.ThresholdRange; tr != nil {
		var parts []string
		if tr.Min != nil {
			parts = append(parts, "min "+format(*tr.Min))
		}
		if tr.Max != nil {
			parts = append(parts, "max "+format(*tr.Max))
		}
		return strings.Join(parts, " ")
	}
	if kind == KindRequestSuccessRate {
		return "min " + format(metric.Threshold)
	}
	return "max " + format(metric.Threshold)
}
