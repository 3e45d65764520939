package router

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/syncerr"
)

func withGRPCRoute() canaryOption {
	return withService(func(s *flaggerv1.CanaryService) {
		s.Route = &flaggerv1.CanaryRoute{Kind: flaggerv1.GRPCRouteKind}
	})
}

func grpcSvcBackend(name string, weight int32) gatewayv1.GRPCBackendRef {
	return gatewayv1.GRPCBackendRef{BackendRef: svcBackend(name, weight).BackendRef}
}

func buildGRPCSpec(t *testing.T, cd *flaggerv1.Canary, routes Routes) gatewayv1.GRPCRouteSpec {
	t.Helper()
	spec, err := DesiredGRPCRouteSpec(cd, routes)
	require.NoError(t, err)
	return spec
}

func TestDesiredGRPCRouteSpecWeighted(t *testing.T) {
	spec := buildGRPCSpec(t, newCanary(withGRPCRoute()), Routes{Primary: 90, Canary: 10})
	assert.Equal(t, gatewayv1.GRPCRouteSpec{
		CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{
			{Name: "gateway", Namespace: ptrTo(gatewayv1.Namespace("istio-ingress"))},
		}},
		Hostnames: []gatewayv1.Hostname{"www.example.com"},
		Rules: []gatewayv1.GRPCRouteRule{{
			BackendRefs: []gatewayv1.GRPCBackendRef{grpcSvcBackend("podinfo-primary", 90), grpcSvcBackend("podinfo-canary", 10)},
		}},
	}, spec)
}

func TestDesiredGRPCRouteSpecAB(t *testing.T) {
	cd := newCanary(withGRPCRoute(), withAnalysis(func(a *flaggerv1.CanaryAnalysis) {
		a.StepWeight, a.MaxWeight, a.Iterations = 0, 0, 10
		a.Match = []flaggerv1.HTTPMatchRequest{
			{Headers: map[string]flaggerv1.StringMatch{"x-canary": {Exact: "insider"}}},
			{URI: &flaggerv1.StringMatch{Exact: "/grpc.health.v1.Health/Check"}, Headers: map[string]flaggerv1.StringMatch{"x-tenant": {Prefix: "beta"}}},
			{URI: &flaggerv1.StringMatch{Prefix: "/podinfo.Echo/"}},
		}
	}), withService(func(s *flaggerv1.CanaryService) {
		s.Headers = &flaggerv1.Headers{Request: &flaggerv1.HeaderOperations{Set: map[string]string{"x-via": "serin"}}}
	}))
	spec := buildGRPCSpec(t, cd, Routes{Primary: 0, Canary: 100})
	exact := ptrTo(gatewayv1.GRPCMethodMatchExact)
	filters := []gatewayv1.GRPCRouteFilter{{
		Type:                  gatewayv1.GRPCRouteFilterRequestHeaderModifier,
		RequestHeaderModifier: &gatewayv1.HTTPHeaderFilter{Set: []gatewayv1.HTTPHeader{{Name: "x-via", Value: "serin"}}},
	}}
	assert.Equal(t, []gatewayv1.GRPCRouteRule{{
		Matches: []gatewayv1.GRPCRouteMatch{
			{Headers: []gatewayv1.GRPCHeaderMatch{{Type: ptrTo(gatewayv1.GRPCHeaderMatchExact), Name: "x-canary", Value: "insider"}}},
			{
				Method:  &gatewayv1.GRPCMethodMatch{Type: exact, Service: ptrTo("grpc.health.v1.Health"), Method: ptrTo("Check")},
				Headers: []gatewayv1.GRPCHeaderMatch{{Type: ptrTo(gatewayv1.GRPCHeaderMatchRegularExpression), Name: "x-tenant", Value: "^beta.*"}},
			},
			{Method: &gatewayv1.GRPCMethodMatch{Type: exact, Service: ptrTo("podinfo.Echo")}},
		},
		Filters:     filters,
		BackendRefs: []gatewayv1.GRPCBackendRef{grpcSvcBackend("podinfo-primary", 0), grpcSvcBackend("podinfo-canary", 100)},
	}, {
		Filters:     filters,
		BackendRefs: []gatewayv1.GRPCBackendRef{grpcSvcBackend("podinfo-primary", 100)},
	}}, spec.Rules)
}

func TestDesiredGRPCRouteSpecRefusals(t *testing.T) {
	tests := []struct {
		name  string
		opt   canaryOption
		field string
	}{
		{"HTTP method", withService(func(s *flaggerv1.CanaryService) {
			s.Match = []flaggerv1.HTTPMatchRequest{{Method: &flaggerv1.StringMatch{Exact: "GET"}}}
		}), "spec.service.match[0].method"},
		{"query parameters", withAnalysis(func(a *flaggerv1.CanaryAnalysis) {
			a.Match = []flaggerv1.HTTPMatchRequest{{QueryParams: map[string]flaggerv1.StringMatch{"a": {Exact: "1"}}}}
		}), "spec.analysis.match[0].queryParams"},
		{"uri regex", withAnalysis(func(a *flaggerv1.CanaryAnalysis) {
			a.Match = []flaggerv1.HTTPMatchRequest{{URI: &flaggerv1.StringMatch{Regex: "/a.*"}}}
		}), "spec.analysis.match[0].uri"},
		{"uri that is not a method path", withAnalysis(func(a *flaggerv1.CanaryAnalysis) {
			a.Match = []flaggerv1.HTTPMatchRequest{{URI: &flaggerv1.StringMatch{Exact: "/api/v1/users"}}}
		}), "spec.analysis.match[0].uri.exact"},
		{"uri prefix inside a service", withAnalysis(func(a *flaggerv1.CanaryAnalysis) {
			a.Match = []flaggerv1.HTTPMatchRequest{{URI: &flaggerv1.StringMatch{Prefix: "/podinfo.Echo/Ec"}}}
		}), "spec.analysis.match[0].uri.prefix"},
		{"A/B request without a condition", withAnalysis(func(a *flaggerv1.CanaryAnalysis) {
			a.Match = []flaggerv1.HTTPMatchRequest{{Authority: &flaggerv1.StringMatch{Exact: "x"}}}
		}), "spec.analysis.match[0]"},
		{"session affinity", withAnalysis(func(a *flaggerv1.CanaryAnalysis) {
			a.SessionAffinity = &flaggerv1.SessionAffinity{CookieName: "canary"}
		}), "spec.analysis.sessionAffinity"},
		{"rewrite", withService(func(s *flaggerv1.CanaryService) { s.Rewrite = &flaggerv1.HTTPRewrite{URI: "/"} }), "spec.service.rewrite"},
		{"CORS", withService(func(s *flaggerv1.CanaryService) { s.CorsPolicy = &flaggerv1.CorsPolicy{} }), "spec.service.corsPolicy"},
		{"timeout", withService(func(s *flaggerv1.CanaryService) { s.Timeout = "5s" }), "spec.service.timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DesiredGRPCRouteSpec(newCanary(withGRPCRoute(), tt.opt), Routes{Primary: 100})
			var unsupported *UnsupportedError
			require.ErrorAs(t, err, &unsupported)
			assert.Equal(t, tt.field, unsupported.Field)
			assert.True(t, syncerr.IsPermanent(err))
		})
	}
}

func TestGRPCRouteRouterRoundTrip(t *testing.T) {
	e := newGatewayEnv(t, ProviderGatewayAPIV1)
	cd := newCanary(withGRPCRoute(), withJudgeBaseline())
	reconciled(t, e, cd)
	ctx := context.TODO()

	route := e.grpcRoute(t, "podinfo")
	assert.Equal(t, buildGRPCSpec(t, cd, Routes{Primary: 100}), route.Spec)
	assert.True(t, metav1.IsControlledBy(route, cd))
	creates, _ := writes(e.client.Actions())
	assert.Equal(t, 1, creates, "a GRPCRoute only, no HTTPRoute")

	for _, want := range []Routes{{Primary: 80, Canary: 10, Baseline: 10}, {Primary: 0, Canary: 100, Mirrored: true}} {
		require.NoError(t, e.router.SetRoutes(ctx, cd, want))
		e.sync(t)
		got, err := e.router.GetRoutes(ctx, cd)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}

	// Drift is corrected and the weights kept.
	require.NoError(t, e.router.SetRoutes(ctx, cd, Routes{Primary: 70, Canary: 20, Baseline: 10}))
	e.sync(t)
	edited := e.grpcRoute(t, "podinfo")
	edited.Spec.Hostnames = nil
	edited.Spec.Rules[0].Matches = []gatewayv1.GRPCRouteMatch{{Method: &gatewayv1.GRPCMethodMatch{Service: ptrTo("evil.Svc")}}}
	e.putGRPC(t, edited)
	reconciled(t, e, cd)
	assert.Equal(t, buildGRPCSpec(t, cd, Routes{Primary: 70, Canary: 20, Baseline: 10}), e.grpcRoute(t, "podinfo").Spec)

	// Server defaults are no drift.
	defaulted := e.grpcRoute(t, "podinfo")
	defaulted.Spec.ParentRefs[0].Group = ptrTo(gatewayv1.Group(gatewayv1.GroupName))
	defaulted.Spec.ParentRefs[0].Kind = ptrTo(gatewayv1.Kind("Gateway"))
	e.putGRPC(t, defaulted)
	before := len(e.client.Actions())
	require.NoError(t, e.router.Reconcile(ctx, cd, podinfoTarget))
	_, updates := writes(e.client.Actions()[before:])
	assert.Zero(t, updates)
}

func TestGRPCRouteGetRoutesWaitsForResolvedRefs(t *testing.T) {
	resolved := func(status metav1.ConditionStatus) metav1.Condition {
		return metav1.Condition{Type: "ResolvedRefs", Status: status, Reason: "BackendNotFound", ObservedGeneration: 2}
	}
	tests := []struct {
		name      string
		conds     []metav1.Condition
		wantCond  string
		wantReady bool
	}{
		{"accepted and resolved", []metav1.Condition{accepted(metav1.ConditionTrue, 2), resolved(metav1.ConditionTrue)}, "", true},
		{"unresolved backend", []metav1.Condition{accepted(metav1.ConditionTrue, 2), resolved(metav1.ConditionFalse)}, "ResolvedRefs", false},
		{"not accepted", []metav1.Condition{accepted(metav1.ConditionFalse, 2), resolved(metav1.ConditionTrue)}, "Accepted", false},
		{"no status yet", nil, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newGatewayEnv(t, ProviderGatewayAPIV1)
			cd := newCanary(withGRPCRoute())
			reconciled(t, e, cd)
			route := e.grpcRoute(t, "podinfo")
			route.Generation = 2
			if tt.conds != nil {
				route.Status.Parents = []gatewayv1.RouteParentStatus{parentStatus(tt.conds...)}
			}
			e.putGRPC(t, route)

			routes, err := e.router.GetRoutes(context.TODO(), cd)
			if tt.wantReady {
				require.NoError(t, err)
				assert.Equal(t, Routes{Primary: 100}, routes)
				return
			}
			var notReady *RouteNotAcceptedError
			require.ErrorAs(t, err, &notReady)
			assert.Equal(t, tt.wantCond, notReady.Condition)
			assert.Equal(t, "GRPCRoute", notReady.Kind)
			assert.ErrorIs(t, err, ErrRouteNotAccepted)
		})
	}
}

func TestGRPCRouteRefusedWithV1beta1(t *testing.T) {
	e := newGatewayEnv(t, ProviderGatewayAPIV1beta1)
	cd := newCanary(withGRPCRoute())
	cd.Spec.Provider = ProviderGatewayAPIV1beta1
	err := e.router.Reconcile(context.TODO(), cd, podinfoTarget)
	require.Error(t, err)
	assert.True(t, syncerr.IsPermanent(err))
	assert.ErrorContains(t, err, "spec.service.route.kind: GRPCRoute has no v1beta1 version: use spec.provider gatewayapi:v1")
	_, err = e.router.GetRoutes(context.TODO(), cd)
	assert.True(t, syncerr.IsPermanent(err))
	assert.Empty(t, e.client.Actions())
}

func TestGRPCRouteServicesSpeakH2C(t *testing.T) {
	tests := []struct {
		name string
		opts []canaryOption
		want *string
	}{
		{"HTTPRoute", nil, nil},
		{"GRPCRoute", []canaryOption{withGRPCRoute()}, ptrTo(H2CAppProtocol)},
		{"GRPCRoute with appProtocol set", []canaryOption{withGRPCRoute(), withService(func(s *flaggerv1.CanaryService) {
			s.AppProtocol = ptrTo("kubernetes.io/h2")
		})}, ptrTo("kubernetes.io/h2")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newKubeEnv(t)
			require.NoError(t, e.router.Initialize(context.TODO(), newCanary(tt.opts...), podinfoTarget))
			for _, name := range []string{"podinfo-primary", "podinfo-canary"} {
				assert.Equal(t, tt.want, e.service(t, name).Spec.Ports[0].AppProtocol, name)
			}
		})
	}
}
