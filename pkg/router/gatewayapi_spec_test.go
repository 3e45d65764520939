package router

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// svcBackend is a weighted backendRef written out as the reference shows it.
func svcBackend(name string, weight int32) gatewayv1.HTTPBackendRef {
	return gatewayv1.HTTPBackendRef{BackendRef: gatewayv1.BackendRef{
		BackendObjectReference: gatewayv1.BackendObjectReference{
			Group: ptrTo(gatewayv1.Group("")),
			Kind:  ptrTo(gatewayv1.Kind("Service")),
			Name:  gatewayv1.ObjectName(name),
			Port:  ptrTo(gatewayv1.PortNumber(9898)),
		},
		Weight: ptrTo(weight),
	}}
}

func pathPrefix(v string) *gatewayv1.HTTPPathMatch {
	return &gatewayv1.HTTPPathMatch{Type: ptrTo(gatewayv1.PathMatchPathPrefix), Value: ptrTo(v)}
}

func headerRegex(name, value string) gatewayv1.HTTPHeaderMatch {
	return gatewayv1.HTTPHeaderMatch{Type: ptrTo(gatewayv1.HeaderMatchRegularExpression), Name: gatewayv1.HTTPHeaderName(name), Value: value}
}

func buildSpec(t *testing.T, cd *flaggerv1.Canary, routes Routes) gatewayv1.HTTPRouteSpec {
	t.Helper()
	spec, err := DesiredHTTPRouteSpec(cd, routes)
	require.NoError(t, err)
	return spec
}

func TestDesiredHTTPRouteSpecWeighted(t *testing.T) {
	spec := buildSpec(t, newCanary(), Routes{Primary: 90, Canary: 10})
	assert.Equal(t, gatewayv1.HTTPRouteSpec{
		CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{
			{Name: "gateway", Namespace: ptrTo(gatewayv1.Namespace("istio-ingress"))},
		}},
		Hostnames: []gatewayv1.Hostname{"www.example.com"},
		Rules: []gatewayv1.HTTPRouteRule{{
			Matches:     []gatewayv1.HTTPRouteMatch{{Path: pathPrefix("/")}},
			BackendRefs: []gatewayv1.HTTPBackendRef{svcBackend("podinfo-primary", 90), svcBackend("podinfo-canary", 10)},
		}},
	}, spec)
}

func TestDesiredHTTPRouteSpecServiceNameAndServiceParents(t *testing.T) {
	gamma := gatewayv1.ParentReference{
		Group:     ptrTo(gatewayv1.Group("core")),
		Kind:      ptrTo(gatewayv1.Kind("Service")),
		Namespace: ptrTo(gatewayv1.Namespace("test")),
		Name:      "frontend",
		Port:      ptrTo(gatewayv1.PortNumber(9898)),
	}
	cd := newCanary(withService(func(s *flaggerv1.CanaryService) {
		s.Name = "frontend"
		s.Hosts = nil
		s.GatewayRefs = []gatewayv1.ParentReference{gamma}
	}))
	spec := buildSpec(t, cd, Routes{Primary: 100})
	assert.Equal(t, []gatewayv1.ParentReference{gamma}, spec.ParentRefs)
	assert.Nil(t, spec.Hostnames)
	backends := spec.Rules[0].BackendRefs
	assert.Equal(t, gatewayv1.ObjectName("frontend-primary"), backends[0].Name)
	assert.Equal(t, gatewayv1.ObjectName("frontend-canary"), backends[1].Name)
}

func TestDesiredHTTPRouteSpecServiceMatch(t *testing.T) {
	cd := newCanary(withService(func(s *flaggerv1.CanaryService) {
		s.Match = []flaggerv1.HTTPMatchRequest{
			{URI: &flaggerv1.StringMatch{Prefix: "/api"}, Headers: map[string]flaggerv1.StringMatch{"x-tenant": {Exact: "a"}}},
			{URI: &flaggerv1.StringMatch{Exact: "/healthz"}, Method: &flaggerv1.StringMatch{Exact: "GET"}},
		}
	}))
	spec := buildSpec(t, cd, Routes{Primary: 100})
	require.Len(t, spec.Rules, 1)
	assert.Equal(t, []gatewayv1.HTTPRouteMatch{
		{Path: pathPrefix("/api"), Headers: []gatewayv1.HTTPHeaderMatch{{Type: ptrTo(gatewayv1.HeaderMatchExact), Name: "x-tenant", Value: "a"}}},
		{Path: &gatewayv1.HTTPPathMatch{Type: ptrTo(gatewayv1.PathMatchExact), Value: ptrTo("/healthz")}, Method: ptrTo(gatewayv1.HTTPMethodGet)},
	}, spec.Rules[0].Matches)
}

func TestDesiredHTTPRouteSpecSkipsUnsupportedMatch(t *testing.T) {
	cd := newCanary(withService(func(s *flaggerv1.CanaryService) {
		s.Match = []flaggerv1.HTTPMatchRequest{
			{URI: &flaggerv1.StringMatch{Prefix: "/api"}},
			{URI: &flaggerv1.StringMatch{Prefix: "/admin"}, Method: &flaggerv1.StringMatch{Regex: "P.*"}},
		}
	}))
	spec, err := DesiredHTTPRouteSpec(cd, Routes{Primary: 100})
	var unsupported *UnsupportedError
	require.ErrorAs(t, err, &unsupported)
	assert.Equal(t, "spec.service.match[1].method", unsupported.Field)
	// The whole request is skipped, not just its method: /admin must not
	// be matched for every method.
	assert.Equal(t, []gatewayv1.HTTPRouteMatch{{Path: pathPrefix("/api")}}, spec.Rules[0].Matches)
}

func TestDesiredHTTPRouteSpecABTesting(t *testing.T) {
	spec := buildSpec(t, newCanary(withInsiderAB()), Routes{Primary: 0, Canary: 100})
	assert.Equal(t, []gatewayv1.HTTPRouteRule{
		{
			Matches: []gatewayv1.HTTPRouteMatch{
				{Path: pathPrefix("/"), Headers: []gatewayv1.HTTPHeaderMatch{headerRegex("user-agent", ".*Firefox.*")}},
				{Path: pathPrefix("/"), Headers: []gatewayv1.HTTPHeaderMatch{headerRegex("cookie", "^(.*?;)?(type=insider)(;.*)?$")}},
			},
			BackendRefs: []gatewayv1.HTTPBackendRef{svcBackend("podinfo-primary", 0), svcBackend("podinfo-canary", 100)},
		},
		{
			Matches:     []gatewayv1.HTTPRouteMatch{{Path: pathPrefix("/")}},
			BackendRefs: []gatewayv1.HTTPBackendRef{svcBackend("podinfo-primary", 100)},
		},
	}, spec.Rules)
}

func TestDesiredHTTPRouteSpecABIntersectsServiceMatch(t *testing.T) {
	cd := newCanary(withInsiderAB(), withService(func(s *flaggerv1.CanaryService) {
		s.Match = []flaggerv1.HTTPMatchRequest{{
			URI:     &flaggerv1.StringMatch{Prefix: "/api"},
			Headers: map[string]flaggerv1.StringMatch{"x-tenant": {Regex: "a|b"}, "User-Agent": {Regex: "curl.*"}},
		}}
	}))
	spec := buildSpec(t, cd, Routes{Primary: 0, Canary: 100})
	require.Len(t, spec.Rules, 2)
	assert.Equal(t, []gatewayv1.HTTPRouteMatch{
		// The A/B header wins over the service one of the same name.
		{Path: pathPrefix("/api"), Headers: []gatewayv1.HTTPHeaderMatch{headerRegex("user-agent", ".*Firefox.*"), headerRegex("x-tenant", "a|b")}},
		{Path: pathPrefix("/api"), Headers: []gatewayv1.HTTPHeaderMatch{headerRegex("User-Agent", "curl.*"), headerRegex("cookie", "^(.*?;)?(type=insider)(;.*)?$"), headerRegex("x-tenant", "a|b")}},
	}, spec.Rules[0].Matches)
	assert.Equal(t, spec.Rules[1].Matches[0].Path, pathPrefix("/api"))
}

func TestDesiredHTTPRouteSpecABMatchingEverythingIsReported(t *testing.T) {
	cd := newCanary(withInsiderAB(), withAnalysis(func(a *flaggerv1.CanaryAnalysis) {
		a.Match = []flaggerv1.HTTPMatchRequest{{SourceLabels: map[string]string{"app": "tester"}}}
	}))
	spec, err := DesiredHTTPRouteSpec(cd, Routes{Primary: 0, Canary: 100})
	var unsupported *UnsupportedError
	require.ErrorAs(t, err, &unsupported)
	assert.Equal(t, "spec.analysis.match[0]", unsupported.Field)
	assert.Len(t, spec.Rules, 1)
}

func TestDesiredHTTPRouteSpecDeprecatedCanaryAnalysis(t *testing.T) {
	cd := newCanary(withInsiderAB())
	cd.Spec.CanaryAnalysis, cd.Spec.Analysis = cd.Spec.Analysis, nil
	assert.Len(t, buildSpec(t, cd, Routes{Primary: 100}).Rules, 2)
}

func TestDesiredHTTPRouteSpecFiltersAndTimeouts(t *testing.T) {
	userMirror := gatewayv1.HTTPRequestMirrorFilter{BackendRef: gatewayv1.BackendObjectReference{Name: "shadow", Port: ptrTo(gatewayv1.PortNumber(80))}}
	cd := newCanary(withInsiderAB(), withService(func(s *flaggerv1.CanaryService) {
		s.Headers = &flaggerv1.Headers{
			Request:  &flaggerv1.HeaderOperations{Set: map[string]string{"x-b": "2", "x-a": "1"}, Add: map[string]string{"x-c": "3"}, Remove: []string{"x-z", "x-y"}},
			Response: &flaggerv1.HeaderOperations{Remove: []string{"server"}},
		}
		s.Rewrite = &flaggerv1.HTTPRewrite{URI: "/v2", Authority: "api.example.com", Type: "ReplacePrefixMatch"}
		s.Mirror = []gatewayv1.HTTPRequestMirrorFilter{userMirror}
		s.CorsPolicy = &flaggerv1.CorsPolicy{
			AllowOrigin:  []string{"https://a.example.com"},
			AllowOrigins: []flaggerv1.StringMatch{{Exact: "https://b.example.com"}, {Exact: "https://a.example.com"}, {Regex: ".*"}},
			AllowMethods: []string{"get", "POST"}, AllowHeaders: []string{"x-a"}, ExposeHeaders: []string{"x-b"},
			MaxAge: "24h", AllowCredentials: ptrTo(true),
		}
		s.Timeout, s.BackendTimeout = "1.5s", "500ms"
	}))
	spec := buildSpec(t, cd, Routes{Primary: 100})
	want := []gatewayv1.HTTPRouteFilter{
		{Type: gatewayv1.HTTPRouteFilterRequestHeaderModifier, RequestHeaderModifier: &gatewayv1.HTTPHeaderFilter{
			Set:    []gatewayv1.HTTPHeader{{Name: "x-a", Value: "1"}, {Name: "x-b", Value: "2"}},
			Add:    []gatewayv1.HTTPHeader{{Name: "x-c", Value: "3"}},
			Remove: []string{"x-y", "x-z"},
		}},
		{Type: gatewayv1.HTTPRouteFilterResponseHeaderModifier, ResponseHeaderModifier: &gatewayv1.HTTPHeaderFilter{Remove: []string{"server"}}},
		{Type: gatewayv1.HTTPRouteFilterURLRewrite, URLRewrite: &gatewayv1.HTTPURLRewriteFilter{
			Hostname: ptrTo(gatewayv1.PreciseHostname("api.example.com")),
			Path:     &gatewayv1.HTTPPathModifier{Type: gatewayv1.PrefixMatchHTTPPathModifier, ReplacePrefixMatch: ptrTo("/v2")},
		}},
		{Type: gatewayv1.HTTPRouteFilterRequestMirror, RequestMirror: &userMirror},
		{Type: gatewayv1.HTTPRouteFilterCORS, CORS: &gatewayv1.HTTPCORSFilter{
			AllowOrigins:     []gatewayv1.CORSOrigin{"https://a.example.com", "https://b.example.com"},
			AllowMethods:     []gatewayv1.HTTPMethodWithWildcard{"GET", "POST"},
			AllowHeaders:     []gatewayv1.HTTPHeaderName{"x-a"},
			ExposeHeaders:    []gatewayv1.HTTPHeaderName{"x-b"},
			MaxAge:           86400,
			AllowCredentials: ptrTo(true),
		}},
	}
	timeouts := &gatewayv1.HTTPRouteTimeouts{Request: ptrTo(gatewayv1.Duration("1s500ms")), BackendRequest: ptrTo(gatewayv1.Duration("500ms"))}
	require.Len(t, spec.Rules, 2)
	for _, rule := range spec.Rules {
		assert.Equal(t, want, rule.Filters)
		assert.Equal(t, timeouts, rule.Timeouts)
	}
}

func TestDesiredHTTPRouteSpecRewriteFullPath(t *testing.T) {
	cd := newCanary(withService(func(s *flaggerv1.CanaryService) { s.Rewrite = &flaggerv1.HTTPRewrite{URI: "/"} }))
	f := buildSpec(t, cd, Routes{Primary: 100}).Rules[0].Filters
	require.Len(t, f, 1)
	assert.Equal(t, &gatewayv1.HTTPURLRewriteFilter{
		Path: &gatewayv1.HTTPPathModifier{Type: gatewayv1.FullPathHTTPPathModifier, ReplaceFullPath: ptrTo("/")},
	}, f[0].URLRewrite)
}

func TestDesiredHTTPRouteSpecMirror(t *testing.T) {
	canaryMirror := func(percent *int32) gatewayv1.HTTPRouteFilter {
		return gatewayv1.HTTPRouteFilter{Type: gatewayv1.HTTPRouteFilterRequestMirror, RequestMirror: &gatewayv1.HTTPRequestMirrorFilter{
			BackendRef: svcBackend("podinfo-canary", 0).BackendObjectReference, Percent: percent,
		}}
	}
	bg := withAnalysis(func(a *flaggerv1.CanaryAnalysis) { a.StepWeight, a.MaxWeight, a.Iterations, a.Mirror = 0, 0, 10, true })
	withHeaders := withService(func(s *flaggerv1.CanaryService) {
		s.Headers = &flaggerv1.Headers{Request: &flaggerv1.HeaderOperations{Remove: []string{"x-a"}}}
	})

	assert.Empty(t, buildSpec(t, newCanary(bg), Routes{Primary: 100}).Rules[0].Filters)

	filters := buildSpec(t, newCanary(bg, withHeaders), Routes{Primary: 100, Mirrored: true}).Rules[0].Filters
	require.Len(t, filters, 2)
	assert.Equal(t, canaryMirror(nil), filters[1], "the mirror comes after the service filters")

	weighted := withAnalysis(func(a *flaggerv1.CanaryAnalysis) { a.Mirror, a.MirrorWeight = true, 25 })
	filters = buildSpec(t, newCanary(weighted), Routes{Primary: 100, Mirrored: true}).Rules[0].Filters
	assert.Equal(t, []gatewayv1.HTTPRouteFilter{canaryMirror(ptrTo(int32(25)))}, filters)
}

func TestDesiredHTTPRouteSpecIsDeterministic(t *testing.T) {
	build := func(keys []string) gatewayv1.HTTPRouteSpec {
		headers := map[string]string{}
		matches := map[string]flaggerv1.StringMatch{}
		for _, k := range keys {
			headers[k] = "v-" + k
			matches[k] = flaggerv1.StringMatch{Exact: k}
		}
		cd := newCanary(withInsiderAB(), withService(func(s *flaggerv1.CanaryService) {
			s.Headers = &flaggerv1.Headers{Request: &flaggerv1.HeaderOperations{Set: headers, Add: headers}, Response: &flaggerv1.HeaderOperations{Set: headers}}
			s.Match = []flaggerv1.HTTPMatchRequest{{Headers: matches, QueryParams: matches}}
		}))
		return buildSpec(t, cd, Routes{Primary: 50, Canary: 50})
	}
	keys := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"}
	want := build(keys)
	for i := range 20 {
		shuffled := append([]string(nil), keys[i%len(keys):]...)
		shuffled = append(shuffled, keys[:i%len(keys)]...)
		require.Equal(t, want, build(shuffled))
	}
}

func TestDesiredRouteMetadata(t *testing.T) {
	labels, annotations := desiredRouteMetadata(newCanary())
	assert.Nil(t, labels)
	assert.Nil(t, annotations)

	cd := newCanary(withService(func(s *flaggerv1.CanaryService) {
		s.Apex = &flaggerv1.CustomMetadata{
			Labels:      map[string]string{"team": "web"},
			Annotations: map[string]string{"note": "x", "kustomize.toolkit.fluxcd.io/reconcile": "disabled"},
		}
	}))
	labels, annotations = desiredRouteMetadata(cd)
	assert.Equal(t, map[string]string{"team": "web"}, labels)
	assert.Equal(t, map[string]string{"note": "x"}, annotations)
}

func TestDesiredHTTPRouteSpecJoinsErrors(t *testing.T) {
	cd := newCanary(withService(func(s *flaggerv1.CanaryService) {
		s.Match = []flaggerv1.HTTPMatchRequest{{Method: &flaggerv1.StringMatch{Prefix: "G"}}}
		s.CorsPolicy = &flaggerv1.CorsPolicy{MaxAge: "a day"}
		s.Timeout, s.BackendTimeout = "1s", "2s"
	}))
	_, err := DesiredHTTPRouteSpec(cd, Routes{Primary: 100})
	var fields []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var u *UnsupportedError
		require.True(t, errors.As(e, &u))
		fields = append(fields, u.Field)
	}
	assert.Equal(t, []string{"spec.service.match[0].method", "spec.service.corsPolicy.maxAge", "spec.service.backendTimeout"}, fields)
}
