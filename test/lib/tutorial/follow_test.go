package tutorial

import (
	"testing"

	"github.com/stretchr/testify/assert"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

func backend(name string, weight int32) gatewayv1.HTTPBackendRef {
	return gatewayv1.HTTPBackendRef{BackendRef: gatewayv1.BackendRef{
		BackendObjectReference: gatewayv1.BackendObjectReference{Name: gatewayv1.ObjectName(name)},
		Weight:                 &weight,
	}}
}

func TestRuleWeights(t *testing.T) {
	rules := []gatewayv1.HTTPRouteRule{
		{BackendRefs: []gatewayv1.HTTPBackendRef{backend("podinfo-canary", 100)}}, // an A/B rule
		{BackendRefs: []gatewayv1.HTTPBackendRef{backend("podinfo-primary", 70), backend("podinfo-canary", 30)}},
	}
	p, c, ok := ruleWeights(rules)
	assert.True(t, ok)
	assert.Equal(t, [2]int{70, 30}, [2]int{p, c})

	_, _, ok = ruleWeights(rules[:1])
	assert.False(t, ok)
}

func TestFinished(t *testing.T) {
	phase := func(p flaggerv1.CanaryPhase) *flaggerv1.Canary {
		return &flaggerv1.Canary{Status: flaggerv1.CanaryStatus{Phase: p}}
	}
	done := Finished()
	assert.False(t, done(phase(flaggerv1.CanaryPhaseSucceeded)), "still Succeeded from the last release")
	assert.False(t, done(phase(flaggerv1.CanaryPhaseProgressing)))
	assert.False(t, done(phase(flaggerv1.CanaryPhasePromoting)))
	assert.True(t, done(phase(flaggerv1.CanaryPhaseSucceeded)))

	done = Finished()
	assert.False(t, done(phase(flaggerv1.CanaryPhaseInitialized)))
	assert.False(t, done(phase(flaggerv1.CanaryPhaseProgressing)))
	assert.True(t, done(phase(flaggerv1.CanaryPhaseFailed)))
}
