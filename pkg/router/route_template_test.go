package router

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8stesting "k8s.io/client-go/testing"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/owners"
	"github.com/serin-dev/serin/pkg/syncerr"
)

// withTemplate renders the live route "web" from the template "web-template".
func withTemplate(kind flaggerv1.RouteKind) canaryOption {
	return withService(func(s *flaggerv1.CanaryService) {
		s.Hosts = nil
		s.Route = &flaggerv1.CanaryRoute{Kind: kind, Name: "web", TemplateRef: &flaggerv1.LocalObjectReference{Name: "web-template"}}
	})
}

// apexRef is a template's reference to the apex Service, as Git holds it.
func apexRef(weight *int32) gatewayv1.HTTPBackendRef {
	return gatewayv1.HTTPBackendRef{BackendRef: gatewayv1.BackendRef{
		BackendObjectReference: gatewayv1.BackendObjectReference{Name: "podinfo", Port: ptrTo(gatewayv1.PortNumber(9898))},
		Weight:                 weight,
	}}
}

// templateSpec has two rules: /api to the apex with a header filter and a
// timeout, /legacy to another Service.
func templateSpec() gatewayv1.HTTPRouteSpec {
	return gatewayv1.HTTPRouteSpec{
		Hostnames: []gatewayv1.Hostname{"app.example.com"},
		Rules: []gatewayv1.HTTPRouteRule{{
			Name:    ptrTo(gatewayv1.SectionName("api")),
			Matches: []gatewayv1.HTTPRouteMatch{{Path: pathPrefix("/api")}},
			Filters: []gatewayv1.HTTPRouteFilter{{
				Type:                  gatewayv1.HTTPRouteFilterRequestHeaderModifier,
				RequestHeaderModifier: &gatewayv1.HTTPHeaderFilter{Set: []gatewayv1.HTTPHeader{{Name: "x-route", Value: "api"}}},
			}},
			Timeouts:    &gatewayv1.HTTPRouteTimeouts{Request: ptrTo(gatewayv1.Duration("10s"))},
			BackendRefs: []gatewayv1.HTTPBackendRef{apexRef(nil)},
		}, {
			Matches:     []gatewayv1.HTTPRouteMatch{{Path: pathPrefix("/legacy")}},
			BackendRefs: []gatewayv1.HTTPBackendRef{svcBackend("legacy", 1)},
		}},
	}
}

func TestRenderHTTPRouteSpec(t *testing.T) {
	cd := newCanary(withTemplate(flaggerv1.HTTPRouteKind))
	spec, err := RenderHTTPRouteSpec(cd, ptrTo(templateSpec()), Routes{Primary: 70, Canary: 30})
	require.NoError(t, err)

	want := templateSpec()
	want.ParentRefs = cd.Spec.Service.GatewayRefs
	want.Rules[0].BackendRefs = []gatewayv1.HTTPBackendRef{svcBackend("podinfo-primary", 70), svcBackend("podinfo-canary", 30)}
	assert.Equal(t, want, spec, "rules, names, filters, timeouts, hostnames and other backends are kept")

	routes, found := routesFromSpec(&spec, "podinfo-primary", "podinfo-canary", "podinfo-baseline")
	assert.True(t, found)
	assert.Equal(t, Routes{Primary: 70, Canary: 30}, routes)
}

func TestRenderHTTPRouteSpecSharedRule(t *testing.T) {
	tmpl := gatewayv1.HTTPRouteSpec{Rules: []gatewayv1.HTTPRouteRule{{
		BackendRefs: []gatewayv1.HTTPBackendRef{apexRef(ptrTo(int32(3))), svcBackend("legacy", 1)},
	}}}
	cd := newCanary(withTemplate(flaggerv1.HTTPRouteKind), withJudgeBaseline())
	spec, err := RenderHTTPRouteSpec(cd, &tmpl, Routes{Primary: 60, Canary: 20, Baseline: 20})
	require.NoError(t, err)
	assert.Equal(t, []gatewayv1.HTTPBackendRef{
		svcBackend("podinfo-primary", 180), svcBackend("podinfo-canary", 60), svcBackend("podinfo-baseline", 60),
		svcBackend("legacy", 100),
	}, spec.Rules[0].BackendRefs, "the apex keeps 3/4 of the rule, split 60/20/20")

	routes, found := routesFromSpec(&spec, "podinfo-primary", "podinfo-canary", "podinfo-baseline")
	assert.True(t, found)
	assert.Equal(t, Routes{Primary: 60, Canary: 20, Baseline: 20}, routes)
}

func TestRenderHTTPRouteSpecAB(t *testing.T) {
	cd := newCanary(withTemplate(flaggerv1.HTTPRouteKind), withInsiderAB())
	spec, err := RenderHTTPRouteSpec(cd, ptrTo(templateSpec()), Routes{Primary: 0, Canary: 100})
	require.NoError(t, err)
	require.Len(t, spec.Rules, 3)

	ab, fallback, legacy := spec.Rules[0], spec.Rules[1], spec.Rules[2]
	assert.Equal(t, gatewayv1.SectionName("api-canary"), *ab.Name)
	assert.Equal(t, []gatewayv1.HTTPRouteMatch{
		{Path: pathPrefix("/api"), Headers: []gatewayv1.HTTPHeaderMatch{headerRegex("user-agent", ".*Firefox.*")}},
		{Path: pathPrefix("/api"), Headers: []gatewayv1.HTTPHeaderMatch{headerRegex("cookie", "^(.*?;)?(type=insider)(;.*)?$")}},
	}, ab.Matches)
	assert.Equal(t, []gatewayv1.HTTPBackendRef{svcBackend("podinfo-primary", 0), svcBackend("podinfo-canary", 100)}, ab.BackendRefs)
	assert.Equal(t, templateSpec().Rules[0].Filters, ab.Filters)

	assert.Equal(t, gatewayv1.SectionName("api"), *fallback.Name)
	assert.Equal(t, templateSpec().Rules[0].Matches, fallback.Matches)
	assert.Equal(t, []gatewayv1.HTTPBackendRef{svcBackend("podinfo-primary", 100)}, fallback.BackendRefs)
	assert.Equal(t, templateSpec().Rules[1], legacy)
}

func TestRenderRefusals(t *testing.T) {
	tests := []struct {
		name  string
		opt   canaryOption
		tmpl  gatewayv1.HTTPRouteSpec
		field string
	}{
		{"service match", withService(func(s *flaggerv1.CanaryService) {
			s.Match = []flaggerv1.HTTPMatchRequest{{URI: &flaggerv1.StringMatch{Prefix: "/"}}}
		}), templateSpec(), "spec.service.match"},
		{"service headers", withService(func(s *flaggerv1.CanaryService) { s.Headers = &flaggerv1.Headers{} }), templateSpec(), "spec.service.headers"},
		{"session affinity", withAnalysis(func(a *flaggerv1.CanaryAnalysis) {
			a.SessionAffinity = &flaggerv1.SessionAffinity{CookieName: "c"}
		}), templateSpec(), "spec.analysis.sessionAffinity"},
		{"no apex backend", func(*flaggerv1.Canary) {}, gatewayv1.HTTPRouteSpec{Rules: []gatewayv1.HTTPRouteRule{templateSpec().Rules[1]}},
			"spec.service.route.templateRef"},
		{"weights that cannot be scaled", func(*flaggerv1.Canary) {}, gatewayv1.HTTPRouteSpec{Rules: []gatewayv1.HTTPRouteRule{{
			BackendRefs: []gatewayv1.HTTPBackendRef{apexRef(ptrTo(int32(20000))), svcBackend("legacy", 1)},
		}}}, "spec.service.route.templateRef"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := RenderHTTPRouteSpec(newCanary(withTemplate(flaggerv1.HTTPRouteKind), tt.opt), &tt.tmpl, Routes{Primary: 100})
			var unsupported *UnsupportedError
			require.ErrorAs(t, err, &unsupported)
			assert.Equal(t, tt.field, unsupported.Field)
		})
	}
}

func TestRenderGRPCRouteSpec(t *testing.T) {
	tmpl := gatewayv1.GRPCRouteSpec{Rules: []gatewayv1.GRPCRouteRule{{
		Matches: []gatewayv1.GRPCRouteMatch{{Method: &gatewayv1.GRPCMethodMatch{Service: ptrTo("grpc.health.v1.Health")}}},
		Filters: []gatewayv1.GRPCRouteFilter{{
			Type:                  gatewayv1.GRPCRouteFilterRequestHeaderModifier,
			RequestHeaderModifier: &gatewayv1.HTTPHeaderFilter{Add: []gatewayv1.HTTPHeader{{Name: "x-route", Value: "health"}}},
		}},
		BackendRefs: []gatewayv1.GRPCBackendRef{{BackendRef: apexRef(nil).BackendRef}},
	}}}
	cd := newCanary(withTemplate(flaggerv1.GRPCRouteKind))
	spec, err := RenderGRPCRouteSpec(cd, &tmpl, Routes{Primary: 50, Canary: 50})
	require.NoError(t, err)
	want := *tmpl.DeepCopy()
	want.ParentRefs = cd.Spec.Service.GatewayRefs
	want.Rules[0].BackendRefs = []gatewayv1.GRPCBackendRef{grpcSvcBackend("podinfo-primary", 50), grpcSvcBackend("podinfo-canary", 50)}
	assert.Equal(t, want, spec)
}

func TestTemplatedRouteFollowsTemplate(t *testing.T) {
	e := newGatewayEnv(t, ProviderGatewayAPIV1)
	cd := newCanary(withTemplate(flaggerv1.HTTPRouteKind))
	ctx := context.TODO()

	err := e.router.Reconcile(ctx, cd, podinfoTarget)
	assert.True(t, syncerr.IsPermanent(err), "no template yet: %v", err)
	assert.ErrorContains(t, err, "spec.service.route.templateRef: HTTPRoute web-template.test not found")

	template := &gatewayv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Name: "web-template", Namespace: "test",
		Labels: map[string]string{"app.kubernetes.io/instance": "argo-app"}}, Spec: templateSpec()}
	e.put(t, template)
	reconciled(t, e, cd)
	live := e.routeNamed(t, "web")
	assert.True(t, metav1.IsControlledBy(live, cd))
	assert.Empty(t, live.Labels, "the template's labels (a GitOps tool's tracking label) are not copied")
	require.NoError(t, e.router.SetRoutes(ctx, cd, Routes{Primary: 60, Canary: 40}))
	e.sync(t)

	// Git changes the template mid-run: the live route follows at the
	// current weights.
	template = template.DeepCopy()
	template.Spec.Rules[0].Filters[0].RequestHeaderModifier.Set[0].Value = "api-v2"
	e.put(t, template)
	reconciled(t, e, cd)
	live = e.routeNamed(t, "web")
	assert.Equal(t, "api-v2", live.Spec.Rules[0].Filters[0].RequestHeaderModifier.Set[0].Value)
	routes, err := e.router.GetRoutes(ctx, cd)
	require.NoError(t, err)
	assert.Equal(t, Routes{Primary: 60, Canary: 40}, routes)

	for _, a := range e.client.Actions() {
		if w, ok := a.(k8stesting.CreateAction); ok {
			assert.Equal(t, "web", w.GetObject().(metav1.Object).GetName(), "the template is never written")
		}
		if w, ok := a.(k8stesting.UpdateAction); ok {
			assert.Equal(t, "web", w.GetObject().(metav1.Object).GetName(), "the template is never written")
		}
		assert.NotEqual(t, "patch", a.GetVerb())
	}
}

func TestTemplatedRouteRefusesForeignRoute(t *testing.T) {
	other := newCanary()
	other.Name, other.UID = "other", "uid-other"
	tests := []struct {
		name      string
		owners    []metav1.OwnerReference
		manager   string
		wantOwner string
	}{
		{"controlled by another canary", []metav1.OwnerReference{owners.Canary(other)}, "", "Canary other"},
		{"written by a GitOps tool", nil, "argocd-controller", "argocd-controller"},
		{"no trace of its writer", nil, "", "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newGatewayEnv(t, ProviderGatewayAPIV1)
			e.put(t, &gatewayv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Name: "web-template", Namespace: "test"}, Spec: templateSpec()})
			foreign := &gatewayv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "test", OwnerReferences: tt.owners}, Spec: templateSpec()}
			if tt.manager != "" {
				_, err := e.client.GatewayV1().HTTPRoutes("test").Create(context.TODO(), foreign, metav1.CreateOptions{FieldManager: tt.manager})
				require.NoError(t, err)
				e.sync(t)
			} else {
				e.put(t, foreign)
			}
			before := len(e.client.Actions())
			cd := newCanary(withTemplate(flaggerv1.HTTPRouteKind))

			err := e.router.Reconcile(context.TODO(), cd, podinfoTarget)
			var refused *ForeignRouteError
			require.ErrorAs(t, err, &refused)
			assert.Equal(t, tt.wantOwner, refused.Owner)
			assert.ErrorIs(t, err, ErrNotControlled)
			assert.True(t, syncerr.IsPermanent(err))
			_, err = e.router.GetRoutes(context.TODO(), cd)
			assert.ErrorAs(t, err, &refused)
			_, updates := writes(e.client.Actions()[before:])
			assert.Zero(t, updates)
		})
	}
}

func TestManagerNames(t *testing.T) {
	assert.Equal(t, "argocd-controller, kubectl-client-side-apply", managerNames([]metav1.ManagedFieldsEntry{
		{Manager: "kubectl-client-side-apply", Operation: metav1.ManagedFieldsOperationUpdate},
		{Manager: "traefik", Operation: metav1.ManagedFieldsOperationUpdate, Subresource: "status"},
		{Manager: "argocd-controller", Operation: metav1.ManagedFieldsOperationApply},
		{Manager: "argocd-controller", Operation: metav1.ManagedFieldsOperationUpdate},
	}))
	assert.Equal(t, "unknown", managerNames([]metav1.ManagedFieldsEntry{{Manager: "traefik", Subresource: "status"}}))
}

func TestReconcilePrunesRoutesOfAnEarlierNameOrKind(t *testing.T) {
	e := newGatewayEnv(t, ProviderGatewayAPIV1)
	ctx := context.TODO()
	cd := newCanary(withService(func(s *flaggerv1.CanaryService) { s.Route = &flaggerv1.CanaryRoute{Name: "web"} }))
	reconciled(t, e, cd)
	e.put(t, &gatewayv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Name: "someone-elses", Namespace: "test"}})

	cd.Spec.Service.Route.Name = "web-v2"
	reconciled(t, e, cd)
	_, err := e.client.Tracker().Get(e.gvr, "test", "web")
	assert.True(t, apierrors.IsNotFound(err), "the route of the earlier name is deleted: %v", err)
	assert.True(t, metav1.IsControlledBy(e.routeNamed(t, "web-v2"), cd))
	e.routeNamed(t, "someone-elses")

	cd.Spec.Service.Route.Kind = flaggerv1.GRPCRouteKind
	reconciled(t, e, cd)
	_, err = e.client.Tracker().Get(e.gvr, "test", "web-v2")
	assert.True(t, apierrors.IsNotFound(err), "the HTTPRoute goes when the kind changes: %v", err)
	assert.True(t, metav1.IsControlledBy(e.grpcRoute(t, "web-v2"), cd))
	e.routeNamed(t, "someone-elses")

	before := len(e.client.Actions())
	require.NoError(t, e.router.Reconcile(ctx, cd, podinfoTarget))
	assert.Len(t, e.client.Actions(), before, "nothing to write or delete once settled")
}
