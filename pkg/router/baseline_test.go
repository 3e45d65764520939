package router

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

func withJudgeBaseline() canaryOption {
	return withAnalysis(func(a *flaggerv1.CanaryAnalysis) { a.Judge = &flaggerv1.CanaryJudge{Baseline: true} })
}

func TestDesiredHTTPRouteSpecBaselineBackend(t *testing.T) {
	tests := []struct {
		name   string
		cd     *flaggerv1.Canary
		routes Routes
		want   []gatewayv1.HTTPBackendRef
	}{{
		name:   "no judge, no baseline weight: two backends",
		cd:     newCanary(),
		routes: Routes{Primary: 90, Canary: 10},
		want:   []gatewayv1.HTTPBackendRef{svcBackend("podinfo-primary", 90), svcBackend("podinfo-canary", 10)},
	}, {
		name:   "baseline weight without a judge",
		cd:     newCanary(),
		routes: Routes{Primary: 80, Canary: 10, Baseline: 10},
		want: []gatewayv1.HTTPBackendRef{
			svcBackend("podinfo-primary", 80), svcBackend("podinfo-canary", 10), svcBackend("podinfo-baseline", 10)},
	}, {
		name:   "judge baseline between runs: kept at weight 0",
		cd:     newCanary(withJudgeBaseline()),
		routes: Routes{Primary: 100},
		want: []gatewayv1.HTTPBackendRef{
			svcBackend("podinfo-primary", 100), svcBackend("podinfo-canary", 0), svcBackend("podinfo-baseline", 0)},
	}, {
		name: "judge without baseline",
		cd: newCanary(withAnalysis(func(a *flaggerv1.CanaryAnalysis) {
			a.Judge = &flaggerv1.CanaryJudge{}
		})),
		routes: Routes{Primary: 100},
		want:   []gatewayv1.HTTPBackendRef{svcBackend("podinfo-primary", 100), svcBackend("podinfo-canary", 0)},
	}, {
		name:   "service name sets the baseline name",
		cd:     newCanary(withJudgeBaseline(), withService(func(s *flaggerv1.CanaryService) { s.Name = "frontend" })),
		routes: Routes{Primary: 60, Canary: 20, Baseline: 20},
		want: []gatewayv1.HTTPBackendRef{
			svcBackend("frontend-primary", 60), svcBackend("frontend-canary", 20), svcBackend("frontend-baseline", 20)},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := buildSpec(t, tt.cd, tt.routes)
			require.Len(t, spec.Rules, 1)
			assert.Equal(t, tt.want, spec.Rules[0].BackendRefs)
		})
	}
}

func TestDesiredHTTPRouteSpecBaselineOnlyInWeightedRule(t *testing.T) {
	cd := newCanary(withInsiderAB(), withJudgeBaseline())
	spec := buildSpec(t, cd, Routes{Primary: 0, Canary: 50, Baseline: 50})
	require.Len(t, spec.Rules, 2)
	assert.Len(t, spec.Rules[0].BackendRefs, 3)
	assert.Equal(t, []gatewayv1.HTTPBackendRef{svcBackend("podinfo-primary", 100)}, spec.Rules[1].BackendRefs,
		"the A/B fallback serves the primary alone")
}

func TestRoutesFromSpecBaseline(t *testing.T) {
	refs := func(names ...string) []gatewayv1.HTTPBackendRef {
		var out []gatewayv1.HTTPBackendRef
		for i, n := range names {
			out = append(out, svcBackend(n, int32(10*(i+1))))
		}
		return out
	}
	tests := []struct {
		name      string
		refs      []gatewayv1.HTTPBackendRef
		want      Routes
		wantFound bool
	}{
		{"primary and canary", refs("podinfo-primary", "podinfo-canary"), Routes{Primary: 10, Canary: 20}, true},
		{"with baseline", refs("podinfo-primary", "podinfo-canary", "podinfo-baseline"), Routes{Primary: 10, Canary: 20, Baseline: 30}, true},
		{"baseline first", refs("podinfo-baseline", "podinfo-primary", "podinfo-canary"), Routes{Primary: 20, Canary: 30, Baseline: 10}, true},
		{"third backend is not the baseline", refs("podinfo-primary", "podinfo-canary", "other"), Routes{}, false},
		{"no canary", refs("podinfo-primary", "podinfo-baseline"), Routes{}, false},
		{"four backends", refs("podinfo-primary", "podinfo-canary", "podinfo-baseline", "x"), Routes{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := gatewayv1.HTTPRouteSpec{Rules: []gatewayv1.HTTPRouteRule{{BackendRefs: tt.refs}}}
			got, found := routesFromSpec(&spec, "podinfo-primary", "podinfo-canary", "podinfo-baseline")
			assert.Equal(t, tt.wantFound, found)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestGatewayAPIBaselineRoundTrip(t *testing.T) {
	forEachVersion(t, func(t *testing.T, e *gatewayEnv) {
		cd := newCanary(withJudgeBaseline())
		reconciled(t, e, cd)
		ctx := context.TODO()

		routes, err := e.router.GetRoutes(ctx, cd)
		require.NoError(t, err)
		assert.Equal(t, Routes{Primary: 100}, routes)
		assert.Len(t, e.route(t).Spec.Rules[0].BackendRefs, 3, "the baseline backend is there before the run")

		for _, want := range []Routes{{Primary: 80, Canary: 10, Baseline: 10}, {Primary: 40, Canary: 30, Baseline: 30}, {Primary: 100}} {
			require.NoError(t, e.router.SetRoutes(ctx, cd, want))
			e.sync(t)
			got, err := e.router.GetRoutes(ctx, cd)
			require.NoError(t, err)
			assert.Equal(t, want, got)
		}

		// Drift correction keeps the baseline's weight too.
		require.NoError(t, e.router.SetRoutes(ctx, cd, Routes{Primary: 60, Canary: 20, Baseline: 20}))
		e.sync(t)
		edited := e.route(t)
		edited.Spec.Hostnames = []gatewayv1.Hostname{"evil.example.com"}
		e.put(t, edited)
		reconciled(t, e, cd)
		got, err := e.router.GetRoutes(ctx, cd)
		require.NoError(t, err)
		assert.Equal(t, Routes{Primary: 60, Canary: 20, Baseline: 20}, got)
		assert.Equal(t, []gatewayv1.Hostname{"www.example.com"}, e.route(t).Spec.Hostnames)

		assert.Error(t, e.router.SetRoutes(ctx, cd, Routes{Primary: 100, Baseline: -1}))
	})
}
