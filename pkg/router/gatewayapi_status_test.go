package router

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// parentStatus is a status.parents entry for the istio-ingress/gateway
// parent, written with the defaults a controller fills in.
func parentStatus(conds ...metav1.Condition) gatewayv1.RouteParentStatus {
	return gatewayv1.RouteParentStatus{
		ParentRef: gatewayv1.ParentReference{
			Group:     ptrTo(gatewayv1.Group(gatewayv1.GroupName)),
			Kind:      ptrTo(gatewayv1.Kind("Gateway")),
			Namespace: ptrTo(gatewayv1.Namespace("istio-ingress")),
			Name:      "gateway",
		},
		ControllerName: "istio.io/gateway-controller",
		Conditions:     conds,
	}
}

func accepted(status metav1.ConditionStatus, observed int64) metav1.Condition {
	return metav1.Condition{Type: "Accepted", Status: status, Reason: "Test", ObservedGeneration: observed}
}

func TestCheckAccepted(t *testing.T) {
	other := parentStatus(accepted(metav1.ConditionFalse, 3))
	other.ParentRef.Name = "other"
	tests := []struct {
		name    string
		parents []gatewayv1.RouteParentStatus
		wantErr bool
	}{
		{name: "no status yet"},
		{name: "accepted", parents: []gatewayv1.RouteParentStatus{parentStatus(accepted(metav1.ConditionTrue, 3))}},
		{name: "accepted for a later generation", parents: []gatewayv1.RouteParentStatus{parentStatus(accepted(metav1.ConditionTrue, 4))}},
		{name: "rejected", parents: []gatewayv1.RouteParentStatus{parentStatus(accepted(metav1.ConditionFalse, 3))}, wantErr: true},
		{name: "unknown", parents: []gatewayv1.RouteParentStatus{parentStatus(accepted(metav1.ConditionUnknown, 3))}, wantErr: true},
		{name: "stale generation", parents: []gatewayv1.RouteParentStatus{parentStatus(accepted(metav1.ConditionTrue, 2))}, wantErr: true},
		{name: "no observedGeneration (Linkerd)", parents: []gatewayv1.RouteParentStatus{parentStatus(accepted(metav1.ConditionTrue, 0))}},
		{name: "no Accepted condition", parents: []gatewayv1.RouteParentStatus{parentStatus(metav1.Condition{Type: "ResolvedRefs", Status: metav1.ConditionTrue})}},
		{name: "another parent only", parents: []gatewayv1.RouteParentStatus{other}},
		{name: "one controller of two accepts", parents: []gatewayv1.RouteParentStatus{
			parentStatus(accepted(metav1.ConditionFalse, 3)), parentStatus(accepted(metav1.ConditionTrue, 3)),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			route := &gatewayv1.HTTPRoute{
				ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "test", Generation: 3},
				Spec:       buildSpec(t, newCanary(), Routes{Primary: 100}),
			}
			route.Status.Parents = tt.parents
			err := checkParents(routeState{Kind: "HTTPRoute", Name: route.Name + "." + route.Namespace, Generation: route.Generation,
				ParentRefs: route.Spec.ParentRefs, Parents: route.Status.Parents})
			if !tt.wantErr {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrRouteNotAccepted)
			var notAccepted *RouteNotAcceptedError
			require.ErrorAs(t, err, &notAccepted)
			assert.Equal(t, "podinfo.test", notAccepted.Route)
			assert.Equal(t, "istio-ingress/gateway", notAccepted.Parent)
			assert.Equal(t, int64(3), notAccepted.Generation)
		})
	}
}

func TestRoutesFromSpec(t *testing.T) {
	spec := buildSpec(t, newCanary(withInsiderAB()), Routes{Primary: 20, Canary: 80, Mirrored: true})
	routes, found := routesFromSpec(&spec, "podinfo-primary", "podinfo-canary", "podinfo-baseline")
	assert.True(t, found)
	assert.Equal(t, Routes{Primary: 20, Canary: 80, Mirrored: true}, routes)

	// A weight left to the API server's default is 1.
	spec.Rules[0].BackendRefs[1].Weight = nil
	routes, _ = routesFromSpec(&spec, "podinfo-primary", "podinfo-canary", "podinfo-baseline")
	assert.Equal(t, 1, routes.Canary)

	_, found = routesFromSpec(&spec, "other-primary", "other-canary", "other-baseline")
	assert.False(t, found)
}

func TestSpecEqualIgnoresServerDefaults(t *testing.T) {
	cd := newCanary(withInsiderAB(), withService(func(s *flaggerv1.CanaryService) {
		s.Match = []flaggerv1.HTTPMatchRequest{{Headers: map[string]flaggerv1.StringMatch{"x-a": {Exact: "1"}}}}
		s.CorsPolicy = &flaggerv1.CorsPolicy{AllowOrigin: []string{"*"}}
	}))
	desired := buildSpec(t, cd, Routes{Primary: 100})
	live := desired.DeepCopy()
	live.ParentRefs[0].Group = ptrTo(gatewayv1.Group(gatewayv1.GroupName))
	live.ParentRefs[0].Kind = ptrTo(gatewayv1.Kind("Gateway"))
	for i := range live.Rules {
		for j := range live.Rules[i].BackendRefs {
			live.Rules[i].BackendRefs[j].Group, live.Rules[i].BackendRefs[j].Kind = nil, nil
		}
		live.Rules[i].Filters[0].CORS.MaxAge = 5
	}
	live.Rules[1].Matches[0].Headers[0].Type = nil // Exact
	live.Rules[1].Matches[0].Path = nil            // PathPrefix /
	assert.True(t, specEqual(live, &desired))

	live.Rules[1].BackendRefs[0].Weight = nil // 1, not 100
	assert.False(t, specEqual(live, &desired))

	live = desired.DeepCopy()
	live.Rules = append(live.Rules[:1], gatewayv1.HTTPRouteRule{BackendRefs: live.Rules[1].BackendRefs, Matches: []gatewayv1.HTTPRouteMatch{}})
	assert.False(t, specEqual(live, &desired), "an empty match list defaults to every request, not x-a: 1")
}
