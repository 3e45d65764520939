package router

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

const (
	canaryCookie   = "flagger-cookie=LpsIaLdoNZ"
	primaryCookie  = "primary-flagger-cookie=ApvLdqCoMF"
	previousCookie = "flagger-cookie=QwErTyUiOp"
)

// withSeedAffinity is the session affinity of
// podinfo-canary-session-affinity.yaml.
func withSeedAffinity() canaryOption {
	return withAnalysis(func(a *flaggerv1.CanaryAnalysis) {
		a.SessionAffinity = &flaggerv1.SessionAffinity{CookieName: "flagger-cookie", MaxAge: 21600}
	})
}

// withPrimaryCookie adds primaryCookieName and every cookie attribute.
func withPrimaryCookie() canaryOption {
	return withAnalysis(func(a *flaggerv1.CanaryAnalysis) {
		a.SessionAffinity = &flaggerv1.SessionAffinity{
			CookieName: "flagger-cookie", PrimaryCookieName: "primary-flagger-cookie", MaxAge: 3600,
			Domain: "example.com", Path: "/app", SameSite: "None", Secure: true, HttpOnly: true, Partitioned: true,
		}
	})
}

func withCookies(canary, primary, previous string) canaryOption {
	return func(cd *flaggerv1.Canary) {
		cd.Status.SessionAffinityCookie = canary
		cd.Status.PrimarySessionAffinityCookie = primary
		cd.Status.PreviousSessionAffinityCookie = previous
	}
}

func cookieMatch(cookie string) gatewayv1.HTTPHeaderMatch {
	return headerRegex("Cookie", cookieRegex(cookie))
}

func setCookie(value string) []gatewayv1.HTTPRouteFilter {
	return []gatewayv1.HTTPRouteFilter{{
		Type:                   gatewayv1.HTTPRouteFilterResponseHeaderModifier,
		ResponseHeaderModifier: &gatewayv1.HTTPHeaderFilter{Add: []gatewayv1.HTTPHeader{{Name: "Set-Cookie", Value: value}}},
	}}
}

func withFilters(b gatewayv1.HTTPBackendRef, f []gatewayv1.HTTPRouteFilter) gatewayv1.HTTPBackendRef {
	b.Filters = f
	return b
}

func TestSessionAffinityDuringRun(t *testing.T) {
	cd := newCanary(withSeedAffinity(), withCookies(canaryCookie, "", previousCookie))
	spec := buildSpec(t, cd, Routes{Primary: 90, Canary: 10})
	assert.Equal(t, []gatewayv1.HTTPRouteRule{
		{
			Matches:     []gatewayv1.HTTPRouteMatch{{Path: pathPrefix("/"), Headers: []gatewayv1.HTTPHeaderMatch{cookieMatch(canaryCookie)}}},
			BackendRefs: []gatewayv1.HTTPBackendRef{svcBackend("podinfo-primary", 0), svcBackend("podinfo-canary", 100)},
		},
		{
			Matches: []gatewayv1.HTTPRouteMatch{{Path: pathPrefix("/")}},
			BackendRefs: []gatewayv1.HTTPBackendRef{
				svcBackend("podinfo-primary", 90),
				withFilters(svcBackend("podinfo-canary", 10), setCookie(canaryCookie+"; Max-Age=21600")),
			},
		},
	}, spec.Rules, "the previous run's cookie is no longer expired while a run has its own")
}

func TestSessionAffinityPrimaryCookieAndAttributes(t *testing.T) {
	cd := newCanary(withPrimaryCookie(), withCookies(canaryCookie, primaryCookie, ""))
	spec := buildSpec(t, cd, Routes{Primary: 70, Canary: 30})
	const attrs = "; Domain=example.com; Path=/app; SameSite=None; Secure; HttpOnly; Partitioned"
	assert.Equal(t, []gatewayv1.HTTPRouteRule{
		{
			Matches:     []gatewayv1.HTTPRouteMatch{{Path: pathPrefix("/"), Headers: []gatewayv1.HTTPHeaderMatch{cookieMatch(canaryCookie)}}},
			BackendRefs: []gatewayv1.HTTPBackendRef{svcBackend("podinfo-primary", 0), svcBackend("podinfo-canary", 100)},
		},
		{
			Matches:     []gatewayv1.HTTPRouteMatch{{Path: pathPrefix("/"), Headers: []gatewayv1.HTTPHeaderMatch{cookieMatch(primaryCookie)}}},
			BackendRefs: []gatewayv1.HTTPBackendRef{svcBackend("podinfo-primary", 100), svcBackend("podinfo-canary", 0)},
		},
		{
			Matches: []gatewayv1.HTTPRouteMatch{{Path: pathPrefix("/")}},
			BackendRefs: []gatewayv1.HTTPBackendRef{
				// The primary cookie lasts one analysis interval (1m).
				withFilters(svcBackend("podinfo-primary", 70), setCookie(primaryCookie+"; Max-Age=60"+attrs)),
				withFilters(svcBackend("podinfo-canary", 30), setCookie(canaryCookie+"; Max-Age=3600"+attrs)),
			},
		},
	}, spec.Rules)
}

func TestSessionAffinityExpiresPreviousCookie(t *testing.T) {
	cd := newCanary(withPrimaryCookie(), withCookies("", "", previousCookie))
	spec := buildSpec(t, cd, Routes{Primary: 100})
	expire := setCookie(previousCookie + "; Max-Age=-1; Domain=example.com; Path=/app; SameSite=None; Secure; HttpOnly; Partitioned")
	assert.Equal(t, []gatewayv1.HTTPRouteRule{
		{
			Matches: []gatewayv1.HTTPRouteMatch{{Path: pathPrefix("/"), Headers: []gatewayv1.HTTPHeaderMatch{cookieMatch(previousCookie)}}},
			BackendRefs: []gatewayv1.HTTPBackendRef{
				withFilters(svcBackend("podinfo-primary", 100), expire),
				withFilters(svcBackend("podinfo-canary", 0), expire),
			},
		},
		{
			Matches:     []gatewayv1.HTTPRouteMatch{{Path: pathPrefix("/")}},
			BackendRefs: []gatewayv1.HTTPBackendRef{svcBackend("podinfo-primary", 100), svcBackend("podinfo-canary", 0)},
		},
	}, spec.Rules)

	none := buildSpec(t, newCanary(withSeedAffinity()), Routes{Primary: 100})
	assert.Len(t, none.Rules, 1, "no cookie at all: only the weighted rule")
}

// TestSessionAffinityCombinations crosses the affinity states with A/B
// conditions, the mirror and the service filters, and checks the shape of
// every rule.
func TestSessionAffinityCombinations(t *testing.T) {
	affinities := []struct {
		name                      string
		opts                      []canaryOption
		canary, primary, previous bool
	}{
		{name: "no affinity"},
		{name: "affinity before any run", opts: []canaryOption{withSeedAffinity()}},
		{name: "canary cookie", opts: []canaryOption{withSeedAffinity(), withCookies(canaryCookie, "", previousCookie)}, canary: true},
		{name: "canary and primary cookies", opts: []canaryOption{withPrimaryCookie(), withCookies(canaryCookie, primaryCookie, "")}, canary: true, primary: true},
		{name: "previous cookie", opts: []canaryOption{withPrimaryCookie(), withCookies("", "", previousCookie)}, previous: true},
	}
	abTest := withAnalysis(func(a *flaggerv1.CanaryAnalysis) {
		a.Match = []flaggerv1.HTTPMatchRequest{{Headers: map[string]flaggerv1.StringMatch{"x-canary": {Exact: "insider"}}}}
	})
	serviceFilters := withService(func(s *flaggerv1.CanaryService) {
		s.Headers = &flaggerv1.Headers{Response: &flaggerv1.HeaderOperations{Add: map[string]string{"x-served-by": "serin"}}}
		s.Rewrite = &flaggerv1.HTTPRewrite{URI: "/v2", Type: "ReplacePrefixMatch"}
		s.Match = []flaggerv1.HTTPMatchRequest{{URI: &flaggerv1.StringMatch{Prefix: "/api"}}}
		s.Timeout = "5s"
	})

	for _, aff := range affinities {
		for _, ab := range []bool{false, true} {
			for _, mirrored := range []bool{false, true} {
				for _, filtered := range []bool{false, true} {
					name := fmt.Sprintf("%s/ab=%v/mirror=%v/filters=%v", aff.name, ab, mirrored, filtered)
					t.Run(name, func(t *testing.T) {
						opts := append([]canaryOption(nil), aff.opts...)
						if ab {
							opts = append(opts, abTest)
						}
						if filtered {
							opts = append(opts, serviceFilters)
						}
						routes := Routes{Primary: 80, Canary: 20, Mirrored: mirrored}
						cd := newCanary(opts...)
						spec := buildSpec(t, cd, routes)
						assert.Equal(t, spec, buildSpec(t, cd, routes), "deterministic")
						checkAffinityShape(t, spec, aff.canary, aff.primary, aff.previous, ab, mirrored, filtered)
					})
				}
			}
		}
	}
}

func checkAffinityShape(t *testing.T, spec gatewayv1.HTTPRouteSpec, canary, primary, previous, ab, mirrored, filtered bool) {
	t.Helper()
	var want []string
	switch {
	case canary && primary:
		want = []string{"sticky-canary", "sticky-primary"}
	case canary:
		want = []string{"sticky-canary"}
	case previous:
		want = []string{"expiry"}
	}
	want = append(want, "weighted")
	if ab {
		want = append(want, "fallback")
	}
	require.Len(t, spec.Rules, len(want))
	weighted := spec.Rules[len(want)-1]
	if ab {
		weighted = spec.Rules[len(want)-2]
	}
	svcPath := pathPrefix("/")
	if filtered {
		svcPath = pathPrefix("/api")
	}

	for i, kind := range want {
		rule := spec.Rules[i]
		// Every rule carries the service filters, in their fixed order,
		// then the mirror on the rules that split like the weighted one.
		var types []gatewayv1.HTTPRouteFilterType
		for _, f := range rule.Filters {
			types = append(types, f.Type)
		}
		var wantTypes []gatewayv1.HTTPRouteFilterType
		if filtered {
			wantTypes = []gatewayv1.HTTPRouteFilterType{gatewayv1.HTTPRouteFilterResponseHeaderModifier, gatewayv1.HTTPRouteFilterURLRewrite}
			assert.Equal(t, ptrTo(gatewayv1.Duration("5s")), rule.Timeouts.Request, kind)
		}
		if mirrored && (kind == "weighted" || kind == "expiry") {
			wantTypes = append(wantTypes, gatewayv1.HTTPRouteFilterRequestMirror)
		}
		assert.Equal(t, wantTypes, types, kind)
		for _, m := range rule.Matches {
			assert.Equal(t, svcPath, m.Path, "%s keeps the service match", kind)
		}

		switch kind {
		case "sticky-canary", "sticky-primary":
			cookie, weights := canaryCookie, []int32{0, 100}
			if kind == "sticky-primary" {
				cookie, weights = primaryCookie, []int32{100, 0}
			}
			require.Len(t, rule.Matches, 1)
			assert.Equal(t, []gatewayv1.HTTPHeaderMatch{cookieMatch(cookie)}, rule.Matches[0].Headers,
				"sticky rules match the cookie, not the A/B conditions")
			assert.Equal(t, weights, backendWeights(rule))
			for _, b := range rule.BackendRefs {
				assert.Empty(t, b.Filters)
			}
		case "expiry":
			assert.Equal(t, backendWeights(weighted), backendWeights(rule), "routes like the weighted rule")
			require.Len(t, rule.Matches, len(weighted.Matches))
			for j, m := range rule.Matches {
				assert.Contains(t, m.Headers, cookieMatch(previousCookie))
				assert.Len(t, m.Headers, len(weighted.Matches[j].Headers)+1)
			}
			for _, b := range rule.BackendRefs {
				require.Len(t, b.Filters, 1)
				assert.Regexp(t, "^"+regexp.QuoteMeta(previousCookie)+"; Max-Age=-1", b.Filters[0].ResponseHeaderModifier.Add[0].Value)
			}
		case "weighted":
			assert.Equal(t, []int32{80, 20}, backendWeights(rule))
			if ab {
				require.Len(t, rule.Matches, 1)
				assert.Equal(t, "x-canary", string(rule.Matches[0].Headers[0].Name))
			}
			assert.Equal(t, primary, len(rule.BackendRefs[0].Filters) == 1, "primary Set-Cookie")
			assert.Equal(t, canary, len(rule.BackendRefs[1].Filters) == 1, "canary Set-Cookie")
		case "fallback":
			assert.Equal(t, []int32{100}, backendWeights(rule))
			assert.Empty(t, rule.Matches[0].Headers)
		}
	}
}

func backendWeights(rule gatewayv1.HTTPRouteRule) []int32 {
	var out []int32
	for _, b := range rule.BackendRefs {
		out = append(out, *b.Weight)
	}
	return out
}

func TestCookieRegex(t *testing.T) {
	re := regexp.MustCompile(cookieRegex("flagger-cookie=LpsIaLdoNZ"))
	for header, want := range map[string]bool{
		"flagger-cookie=LpsIaLdoNZ":                    true,
		"a=1; flagger-cookie=LpsIaLdoNZ":               true,
		"a=1;flagger-cookie=LpsIaLdoNZ; b=2":           true,
		"flagger-cookie=LpsIaLdoNZ; b=2":               true,
		"a=1; primary-flagger-cookie=LpsIaLdoNZ":       false,
		"flagger-cookie=LpsIaLdoNZx":                   false,
		"flagger-cookie=Other; x=flagger-cookie":       false,
		"a=flagger-cookie=LpsIaLdoNZ":                  false,
		"flagger-cookie=QwErTyUiOp; canary=LpsIaLdoNZ": false,
	} {
		assert.Equal(t, want, re.MatchString(header), header)
	}
	assert.Equal(t, `^(.*?; ?)?a\.b=c(;.*)?$`, cookieRegex("a.b=c"), "the cookie is quoted")
}

func TestSessionAffinityConflicts(t *testing.T) {
	cookieService := withService(func(s *flaggerv1.CanaryService) {
		s.Match = []flaggerv1.HTTPMatchRequest{{Headers: map[string]flaggerv1.StringMatch{"cookie": {Regex: ".*beta=1.*"}}}}
	})
	spec, err := DesiredHTTPRouteSpec(newCanary(withSeedAffinity(), withCookies(canaryCookie, "", ""), cookieService), Routes{Primary: 90, Canary: 10})
	var unsupported *UnsupportedError
	require.ErrorAs(t, err, &unsupported)
	assert.Equal(t, "spec.service.match", unsupported.Field)
	require.Len(t, spec.Rules, 1, "no stickiness rather than a wider match")
	assert.Empty(t, spec.Rules[0].BackendRefs[1].Filters)

	// An A/B condition on a cookie cannot carry the expiry of the previous
	// cookie too; the other A/B conditions do.
	abCookie := withAnalysis(func(a *flaggerv1.CanaryAnalysis) {
		a.Match = []flaggerv1.HTTPMatchRequest{
			{Headers: map[string]flaggerv1.StringMatch{"x-canary": {Exact: "insider"}}},
			{Headers: map[string]flaggerv1.StringMatch{"cookie": {Regex: "^(.*?;)?(canary=always)(;.*)?$"}}},
		}
	})
	spec = buildSpec(t, newCanary(withSeedAffinity(), withCookies("", "", previousCookie), abCookie), Routes{Primary: 100})
	require.Len(t, spec.Rules, 3)
	require.Len(t, spec.Rules[0].Matches, 1)
	assert.Equal(t, []gatewayv1.HTTPHeaderMatch{cookieMatch(previousCookie), {Type: ptrTo(gatewayv1.HeaderMatchExact), Name: "x-canary", Value: "insider"}},
		spec.Rules[0].Matches[0].Headers)
	assert.Len(t, spec.Rules[1].Matches, 2)

	onlyCookie := withAnalysis(func(a *flaggerv1.CanaryAnalysis) {
		a.Match = []flaggerv1.HTTPMatchRequest{{Headers: map[string]flaggerv1.StringMatch{"cookie": {Regex: "canary=always"}}}}
	})
	spec = buildSpec(t, newCanary(withSeedAffinity(), withCookies("", "", previousCookie), onlyCookie), Routes{Primary: 100})
	assert.Len(t, spec.Rules, 2, "no expiry rule: weighted and fallback")
}

// TestGatewayAPISessionAffinityLifecycle drives the router through a run as
// the controller does (SetRoutes with the decision's status, Reconcile with
// the stored one) and checks that each step writes once and reads back.
func TestGatewayAPISessionAffinityLifecycle(t *testing.T) {
	forEachVersion(t, func(t *testing.T, e *gatewayEnv) {
		ctx := context.TODO()
		idle := newCanary(withPrimaryCookie())
		reconciled(t, e, idle)

		running := newCanary(withPrimaryCookie(), withCookies(canaryCookie, primaryCookie, ""))
		updates, stored := 0, idle
		for _, w := range []int{10, 20} {
			require.NoError(t, e.router.Reconcile(ctx, stored, podinfoTarget))
			require.NoError(t, e.router.SetRoutes(ctx, running, Routes{Primary: 100 - w, Canary: w}))
			e.sync(t)
			updates++
			routes, err := e.router.GetRoutes(ctx, running)
			require.NoError(t, err)
			assert.Equal(t, Routes{Primary: 100 - w, Canary: w}, routes, "the weighted rule is read, not a sticky one")
			assert.Len(t, e.route(t).Spec.Rules, 3)
			stored = running
		}
		require.NoError(t, e.router.SetRoutes(ctx, running, Routes{Primary: 80, Canary: 20}))
		require.NoError(t, e.router.Reconcile(ctx, running, podinfoTarget))
		_, got := writes(e.client.Actions())
		assert.Equal(t, updates, got, "an unchanged canary causes no update")

		done := newCanary(withPrimaryCookie(), withCookies("", "", canaryCookie))
		require.NoError(t, e.router.Reconcile(ctx, running, podinfoTarget))
		require.NoError(t, e.router.SetRoutes(ctx, done, Routes{Primary: 100}))
		e.sync(t)
		route := e.route(t)
		require.Len(t, route.Spec.Rules, 2)
		assert.Equal(t, []gatewayv1.HTTPHeaderMatch{cookieMatch(canaryCookie)}, route.Spec.Rules[0].Matches[0].Headers)
		routes, err := e.router.GetRoutes(ctx, done)
		require.NoError(t, err)
		assert.Equal(t, Routes{Primary: 100}, routes)
		require.NoError(t, e.router.Reconcile(ctx, done, podinfoTarget))
		_, got = writes(e.client.Actions())
		assert.Equal(t, updates+1, got)
	})
}
