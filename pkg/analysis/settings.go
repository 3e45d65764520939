package analysis

import (
	"slices"

	"github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// terminationPoll is how often a deleted canary checks whether its target is
// back up; Flagger backs off from 3s but never past the interval.
const terminationPoll = v1beta1.MinAnalysisInterval

// Strategy is how a canary moves traffic; the values are the
// deployment_strategy label of Flagger's success and failure counters.
type Strategy string

const (
	// StrategyCanary shifts weighted traffic step by step.
	StrategyCanary Strategy = "canary"
	// StrategyBlueGreen runs a number of iterations without user traffic,
	// then switches all of it.
	StrategyBlueGreen Strategy = "blue-green"
	// StrategyABTesting routes the requests matching analysis.match to the
	// canary for a number of iterations.
	StrategyABTesting Strategy = "ab-testing"
)

// StrategyOf returns the strategy an analysis selects: A/B testing with match
// and iterations, blue/green with iterations, else a weighted canary.
func StrategyOf(a *v1beta1.CanaryAnalysis) Strategy {
	switch {
	case a == nil || a.Iterations <= 0:
		return StrategyCanary
	case len(a.Match) > 0:
		return StrategyABTesting
	default:
		return StrategyBlueGreen
	}
}

// metricsInOrder returns the builtin metrics first, then the others, each in
// spec order, which is the order Flagger runs (and reports) them in.
func metricsInOrder(a *v1beta1.CanaryAnalysis) []v1beta1.CanaryMetric {
	ordered := make([]v1beta1.CanaryMetric, 0, len(a.Metrics))
	for _, m := range a.Metrics {
		if m.IsBuiltin() {
			ordered = append(ordered, m)
		}
	}
	for _, m := range a.Metrics {
		if !m.IsBuiltin() {
			ordered = append(ordered, m)
		}
	}
	return ordered
}

func hasFinalizer(c *v1beta1.Canary) bool {
	return slices.Contains(c.Finalizers, Finalizer)
}
