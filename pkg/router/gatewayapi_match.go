package router

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// httpMethods are the methods an HTTPRouteMatch accepts.
var httpMethods = map[string]bool{
	"GET": true, "HEAD": true, "POST": true, "PUT": true, "DELETE": true,
	"CONNECT": true, "OPTIONS": true, "TRACE": true, "PATCH": true,
}

// defaultMatch is the match the API server fills in for a rule without
// matches: every request.
func defaultMatch() gatewayv1.HTTPRouteMatch {
	return gatewayv1.HTTPRouteMatch{Path: &gatewayv1.HTTPPathMatch{
		Type:  ptrTo(gatewayv1.PathMatchPathPrefix),
		Value: ptrTo("/"),
	}}
}

// mapMatches converts Istio-style match requests to HTTPRoute matches.
// uri, method, headers and queryParams are mapped; authority, scheme, port,
// sourceLabels, withoutHeaders, ignoreUriCase and gateways are ignored, as
// Flagger does. A request holding a condition that cannot be expressed is
// skipped as a whole and reported, so no match is ever widened.
//
// With narrowing set (the A/B conditions), a request that maps to no
// condition at all is reported too. Unlike Flagger, which lets such a
// request become an empty match, this never sends every request to the
// canary.
func mapMatches(field string, in []flaggerv1.HTTPMatchRequest, narrowing bool) ([]gatewayv1.HTTPRouteMatch, []error) {
	var out []gatewayv1.HTTPRouteMatch
	var errs []error
	for i := range in {
		f := fmt.Sprintf("%s[%d]", field, i)
		m, err := mapMatch(f, &in[i])
		switch {
		case err != nil:
			errs = append(errs, err)
		case narrowing && m.Path == nil && m.Method == nil && len(m.Headers) == 0 && len(m.QueryParams) == 0:
			errs = append(errs, &UnsupportedError{Field: f, Reason: "no condition the Gateway API can express: it would match every request"})
		default:
			out = append(out, m)
		}
	}
	return out, errs
}

func mapMatch(field string, in *flaggerv1.HTTPMatchRequest) (gatewayv1.HTTPRouteMatch, error) {
	var out gatewayv1.HTTPRouteMatch
	if in.URI != nil {
		path, err := mapPath(field+".uri", in.URI)
		if err != nil {
			return out, err
		}
		out.Path = path
	}
	if in.Method != nil {
		method := in.Method.Exact
		if method == "" || in.Method.Prefix != "" || in.Method.Suffix != "" || in.Method.Regex != "" {
			return out, &UnsupportedError{Field: field + ".method", Reason: "Gateway API only matches a method exactly"}
		}
		if !httpMethods[method] {
			return out, &UnsupportedError{Field: field + ".method", Reason: fmt.Sprintf("unknown HTTP method %q", method)}
		}
		out.Method = ptrTo(gatewayv1.HTTPMethod(method))
	}
	for _, name := range sortedKeys(in.Headers) {
		sm := in.Headers[name]
		typ, value, err := mapValue(fmt.Sprintf("%s.headers[%s]", field, name), &sm)
		if err != nil {
			return out, err
		}
		out.Headers = append(out.Headers, gatewayv1.HTTPHeaderMatch{
			Type:  ptrTo(gatewayv1.HeaderMatchType(typ)),
			Name:  gatewayv1.HTTPHeaderName(name),
			Value: value,
		})
	}
	for _, name := range sortedKeys(in.QueryParams) {
		sm := in.QueryParams[name]
		typ, value, err := mapValue(fmt.Sprintf("%s.queryParams[%s]", field, name), &sm)
		if err != nil {
			return out, err
		}
		out.QueryParams = append(out.QueryParams, gatewayv1.HTTPQueryParamMatch{
			Type:  ptrTo(gatewayv1.QueryParamMatchType(typ)),
			Name:  gatewayv1.HTTPHeaderName(name),
			Value: value,
		})
	}
	return out, nil
}

// mapPath maps a uri string match. Unlike Flagger, a suffix becomes an
// anchored regular expression instead of an error.
func mapPath(field string, sm *flaggerv1.StringMatch) (*gatewayv1.HTTPPathMatch, error) {
	var typ gatewayv1.PathMatchType
	var value string
	switch {
	case sm.Exact != "":
		typ, value = gatewayv1.PathMatchExact, sm.Exact
	case sm.Prefix != "":
		typ, value = gatewayv1.PathMatchPathPrefix, sm.Prefix
	case sm.Regex != "":
		typ, value = gatewayv1.PathMatchRegularExpression, sm.Regex
	case sm.Suffix != "":
		typ, value = gatewayv1.PathMatchRegularExpression, ".*"+regexp.QuoteMeta(sm.Suffix)+"$"
	default:
		return nil, &UnsupportedError{Field: field, Reason: "Gateway API doesn't support the specified path matching selector"}
	}
	return &gatewayv1.HTTPPathMatch{Type: &typ, Value: &value}, nil
}

// mapValue maps a header or query parameter string match to a match type
// ("Exact" or "RegularExpression", shared by both) and a value. Unlike
// Flagger, which rejects them, prefix and suffix become anchored regular
// expressions that hold under both full-match and search semantics.
func mapValue(field string, sm *flaggerv1.StringMatch) (string, string, error) {
	switch {
	case sm.Exact != "":
		return string(gatewayv1.HeaderMatchExact), sm.Exact, nil
	case sm.Regex != "":
		return string(gatewayv1.HeaderMatchRegularExpression), sm.Regex, nil
	case sm.Prefix != "":
		return string(gatewayv1.HeaderMatchRegularExpression), "^" + regexp.QuoteMeta(sm.Prefix) + ".*", nil
	case sm.Suffix != "":
		return string(gatewayv1.HeaderMatchRegularExpression), ".*" + regexp.QuoteMeta(sm.Suffix) + "$", nil
	}
	return "", "", &UnsupportedError{Field: field, Reason: "no exact, prefix, suffix or regex value"}
}

// mergeMatches intersects the A/B matches with the service matches: one
// match per pair. Flagger replaces the service match's headers and query
// parameters with the A/B ones and drops the A/B uri and method; unlike
// Flagger, both sides' conditions are kept (the A/B side wins for a header
// or parameter named on both, and its path or method is used where the
// service match has none), so neither side is widened.
func mergeMatches(ab, svc []gatewayv1.HTTPRouteMatch) []gatewayv1.HTTPRouteMatch {
	if len(ab) == 0 {
		return svc
	}
	if len(svc) == 0 {
		svc = []gatewayv1.HTTPRouteMatch{defaultMatch()}
	}
	out := make([]gatewayv1.HTTPRouteMatch, 0, len(ab)*len(svc))
	for _, a := range ab {
		for _, s := range svc {
			m := *s.DeepCopy()
			if a.Path != nil && (m.Path == nil || isDefaultPath(m.Path)) {
				m.Path = a.Path.DeepCopy()
			}
			if m.Method == nil && a.Method != nil {
				m.Method = ptrTo(*a.Method)
			}
			m.Headers = mergeHeaderMatches(a.Headers, m.Headers)
			m.QueryParams = mergeQueryMatches(a.QueryParams, m.QueryParams)
			out = append(out, m)
		}
	}
	return out
}

func isDefaultPath(p *gatewayv1.HTTPPathMatch) bool {
	return (p.Type == nil || *p.Type == gatewayv1.PathMatchPathPrefix) && (p.Value == nil || *p.Value == "/")
}

// mergeHeaderMatches returns first plus the matches of second on other
// header names (compared case-insensitively, as HTTP does), sorted by name.
func mergeHeaderMatches(first, second []gatewayv1.HTTPHeaderMatch) []gatewayv1.HTTPHeaderMatch {
	seen := map[string]bool{}
	var out []gatewayv1.HTTPHeaderMatch
	for _, list := range [][]gatewayv1.HTTPHeaderMatch{first, second} {
		for _, h := range list {
			key := strings.ToLower(string(h.Name))
			if !seen[key] {
				seen[key] = true
				out = append(out, *h.DeepCopy())
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// mergeQueryMatches is mergeHeaderMatches for query parameters, whose names
// are case-sensitive.
func mergeQueryMatches(first, second []gatewayv1.HTTPQueryParamMatch) []gatewayv1.HTTPQueryParamMatch {
	seen := map[gatewayv1.HTTPHeaderName]bool{}
	var out []gatewayv1.HTTPQueryParamMatch
	for _, list := range [][]gatewayv1.HTTPQueryParamMatch{first, second} {
		for _, q := range list {
			if !seen[q.Name] {
				seen[q.Name] = true
				out = append(out, *q.DeepCopy())
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// sortedKeys returns the keys of m in order, so that nothing built from a
// map depends on Go's random iteration order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
