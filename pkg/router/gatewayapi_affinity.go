package router

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// cookieHeader is the request header the sticky rules match on.
const cookieHeader = "Cookie"

// expiredMaxAge is the Max-Age that deletes a cookie in the browser; it is
// Flagger's value (RFC 6265 treats any value up to 0 alike).
const expiredMaxAge = -1

// ruleFunc builds a rule carrying the service filters and timeouts.
type ruleFunc func(matches []gatewayv1.HTTPRouteMatch, backends ...gatewayv1.HTTPBackendRef) gatewayv1.HTTPRouteRule

// sessionRules applies analysis.sessionAffinity to the weighted rule and
// returns the rules that go ahead of it. The cookies are the ones the
// analysis keeps in cd.Status, so that every build of one run's route is the
// same (the router never invents a cookie):
//
//   - while the run has a canary cookie: a sticky rule sends the requests
//     carrying it to the canary alone, and the weighted rule's canary backend
//     sets it (Max-Age from sessionAffinity.maxAge); with primaryCookieName,
//     a second sticky rule does the same for the primary, whose cookie lives
//     for one analysis interval so that its users are spread again at every
//     step;
//   - between runs, with a previous cookie: a copy of the weighted rule for
//     the requests carrying that cookie deletes it from the browser.
//
// The sticky rules match the service matches, not the A/B conditions: a
// user who reached the canary stays there. A service match that already
// tests the Cookie header cannot also test the session cookie (a match
// names a header once); that is an *UnsupportedError and no affinity is
// generated.
func sessionRules(cd *flaggerv1.Canary, svcMatches []gatewayv1.HTTPRouteMatch, weighted *gatewayv1.HTTPRouteRule,
	rule ruleFunc) ([]gatewayv1.HTTPRouteRule, []error) {
	analysis := cd.GetAnalysis()
	if analysis == nil || analysis.SessionAffinity == nil {
		return nil, nil
	}
	sa := analysis.SessionAffinity
	st := &cd.Status
	if st.SessionAffinityCookie == "" {
		if st.PreviousSessionAffinityCookie == "" {
			return nil, nil
		}
		if expiry, ok := expiryRule(weighted, st.PreviousSessionAffinityCookie, sa); ok {
			return []gatewayv1.HTTPRouteRule{expiry}, nil
		}
		return nil, nil
	}
	if testsCookie(svcMatches) {
		return nil, []error{&UnsupportedError{Field: "spec.service.match",
			Reason: "a Cookie header condition cannot be combined with analysis.sessionAffinity"}}
	}

	_, primary, canary := cd.GetServiceNames()
	port := cd.Spec.Service.Port
	rules := []gatewayv1.HTTPRouteRule{
		rule(withCookie(svcMatches, st.SessionAffinityCookie), backend(primary, port, 0), backend(canary, port, 100)),
	}
	addBackendFilter(&weighted.BackendRefs[1], setCookieFilter(st.SessionAffinityCookie, cookieMaxAge(sa), sa))
	if sa.PrimaryCookieName != "" && st.PrimarySessionAffinityCookie != "" {
		rules = append(rules,
			rule(withCookie(svcMatches, st.PrimarySessionAffinityCookie), backend(primary, port, 100), backend(canary, port, 0)))
		interval := int(cd.GetAnalysisInterval() / time.Second)
		addBackendFilter(&weighted.BackendRefs[0], setCookieFilter(st.PrimarySessionAffinityCookie, interval, sa))
	}
	return rules, nil
}

// expiryRule copies the weighted rule for the requests that carry cookie,
// with a Set-Cookie that deletes it on each backend. Routing such a request
// exactly as the weighted rule would keeps the expiry from ever changing
// who gets the canary. Matches that already test the Cookie header (an A/B
// condition on a cookie) are left out: those users keep the old cookie
// until its Max-Age, which routes nothing any more. ok is false when no
// match remains.
func expiryRule(weighted *gatewayv1.HTTPRouteRule, cookie string, sa *flaggerv1.SessionAffinity) (gatewayv1.HTTPRouteRule, bool) {
	var matches []gatewayv1.HTTPRouteMatch
	for _, m := range weighted.Matches {
		if !testsCookie([]gatewayv1.HTTPRouteMatch{m}) {
			matches = append(matches, m)
		}
	}
	if len(matches) == 0 {
		return gatewayv1.HTTPRouteRule{}, false
	}
	expiry := *weighted.DeepCopy()
	expiry.Matches = withCookie(matches, cookie)
	for i := range expiry.BackendRefs {
		addBackendFilter(&expiry.BackendRefs[i], setCookieFilter(cookie, expiredMaxAge, sa))
	}
	return expiry, true
}

// withCookie returns copies of matches that also require the session cookie
// (name=value) in the Cookie header.
func withCookie(matches []gatewayv1.HTTPRouteMatch, cookie string) []gatewayv1.HTTPRouteMatch {
	cond := gatewayv1.HTTPHeaderMatch{
		Type:  ptrTo(gatewayv1.HeaderMatchRegularExpression),
		Name:  cookieHeader,
		Value: cookieRegex(cookie),
	}
	out := copyMatches(matches)
	for i := range out {
		out[i].Headers = mergeHeaderMatches([]gatewayv1.HTTPHeaderMatch{cond}, out[i].Headers)
	}
	return out
}

// cookieRegex matches a Cookie header holding the cookie name=value as one
// of its pairs (separated by "; " from the others). It is anchored so that
// it means the same under full-match semantics (Envoy) and search semantics.
// Unlike Flagger's ".*<name>.*<value>.*", another cookie whose name ends
// with ours does not match.
func cookieRegex(cookie string) string {
	return "^(.*?; ?)?" + regexp.QuoteMeta(cookie) + "(;.*)?$"
}

// testsCookie reports whether a match already has a Cookie header condition.
func testsCookie(matches []gatewayv1.HTTPRouteMatch) bool {
	for _, m := range matches {
		for _, h := range m.Headers {
			if strings.EqualFold(string(h.Name), cookieHeader) {
				return true
			}
		}
	}
	return false
}

// cookieMaxAge is sessionAffinity.maxAge, 86400 seconds when unset.
func cookieMaxAge(sa *flaggerv1.SessionAffinity) int {
	if sa.MaxAge > 0 {
		return sa.MaxAge
	}
	return flaggerv1.DefaultCookieMaxAge
}

// setCookieFilter adds a Set-Cookie response header for cookie (name=value)
// with maxAge and the attributes of sessionAffinity. Add, not set: the
// application's own cookies are kept.
func setCookieFilter(cookie string, maxAge int, sa *flaggerv1.SessionAffinity) gatewayv1.HTTPRouteFilter {
	var b strings.Builder
	fmt.Fprintf(&b, "%s; Max-Age=%d", cookie, maxAge)
	if sa.Domain != "" {
		fmt.Fprintf(&b, "; Domain=%s", sa.Domain)
	}
	if sa.Path != "" {
		fmt.Fprintf(&b, "; Path=%s", sa.Path)
	}
	if sa.SameSite != "" {
		fmt.Fprintf(&b, "; SameSite=%s", sa.SameSite)
	}
	if sa.Secure {
		b.WriteString("; Secure")
	}
	if sa.HttpOnly {
		b.WriteString("; HttpOnly")
	}
	if sa.Partitioned {
		b.WriteString("; Partitioned")
	}
	return gatewayv1.HTTPRouteFilter{
		Type: gatewayv1.HTTPRouteFilterResponseHeaderModifier,
		ResponseHeaderModifier: &gatewayv1.HTTPHeaderFilter{
			Add: []gatewayv1.HTTPHeader{{Name: "Set-Cookie", Value: b.String()}},
		},
	}
}

// addBackendFilter appends a filter to a backendRef. Backend-level filters
// apply only to the requests sent to that backend, and never collide with
// the rule's service filters (a rule may hold one ResponseHeaderModifier).
func addBackendFilter(b *gatewayv1.HTTPBackendRef, f gatewayv1.HTTPRouteFilter) {
	b.Filters = append(b.Filters, f)
}
