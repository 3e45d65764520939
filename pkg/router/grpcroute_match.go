package router

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// grpcService and grpcMethod are what the GRPCRoute CRD accepts for an
// Exact method match.
var (
	grpcService = regexp.MustCompile(`^(?i)\.?[a-z_][a-z_0-9]*(\.[a-z_][a-z_0-9]*)*$`)
	grpcMethod  = regexp.MustCompile(`^[A-Za-z_][A-Za-z_0-9]*$`)
)

// mapGRPCMatches converts Istio-style match requests to GRPCRoute matches,
// as mapMatches does for HTTPRoutes: headers become header matches (exact
// and regex as they are, prefix and suffix as anchored regular
// expressions), and a uri that names a gRPC path becomes a method match —
// exact "/pkg.Service/Method", or prefix "/pkg.Service/" (every method of a
// service). A request holding anything else a GRPCRoute cannot express (an
// HTTP method, query parameters, any other uri) is refused as a whole, with
// an *UnsupportedError naming the field; authority, scheme, port and the
// Istio-only fields are ignored, as for HTTPRoutes.
func mapGRPCMatches(field string, in []flaggerv1.HTTPMatchRequest, narrowing bool) ([]gatewayv1.GRPCRouteMatch, []error) {
	var out []gatewayv1.GRPCRouteMatch
	var errs []error
	for i := range in {
		f := fmt.Sprintf("%s[%d]", field, i)
		m, err := mapGRPCMatch(f, &in[i])
		switch {
		case err != nil:
			errs = append(errs, err)
		case narrowing && m.Method == nil && len(m.Headers) == 0:
			errs = append(errs, &UnsupportedError{Field: f, Reason: "no condition a GRPCRoute can express: it would match every call"})
		default:
			out = append(out, m)
		}
	}
	return out, errs
}

func mapGRPCMatch(field string, in *flaggerv1.HTTPMatchRequest) (gatewayv1.GRPCRouteMatch, error) {
	var out gatewayv1.GRPCRouteMatch
	if in.Method != nil {
		return out, &UnsupportedError{Field: field + ".method", Reason: "every gRPC call is a POST: a GRPCRoute matches services and methods (uri) and headers"}
	}
	if len(in.QueryParams) > 0 {
		return out, &UnsupportedError{Field: field + ".queryParams", Reason: "gRPC calls have no query parameters"}
	}
	if in.URI != nil {
		m, err := mapGRPCMethod(field+".uri", in.URI)
		if err != nil {
			return out, err
		}
		out.Method = m
	}
	for _, name := range sortedKeys(in.Headers) {
		sm := in.Headers[name]
		typ, value, err := mapValue(fmt.Sprintf("%s.headers[%s]", field, name), &sm)
		if err != nil {
			return out, err
		}
		out.Headers = append(out.Headers, gatewayv1.GRPCHeaderMatch{
			Type:  ptrTo(gatewayv1.GRPCHeaderMatchType(typ)),
			Name:  gatewayv1.GRPCHeaderName(name),
			Value: value,
		})
	}
	return out, nil
}

// mapGRPCMethod maps a uri to a method match: a gRPC call's path is
// "/<package.Service>/<Method>".
func mapGRPCMethod(field string, sm *flaggerv1.StringMatch) (*gatewayv1.GRPCMethodMatch, error) {
	exact := ptrTo(gatewayv1.GRPCMethodMatchExact)
	switch {
	case sm.Exact != "":
		parts := strings.Split(strings.TrimPrefix(sm.Exact, "/"), "/")
		if !strings.HasPrefix(sm.Exact, "/") || len(parts) != 2 || !grpcService.MatchString(parts[0]) || !grpcMethod.MatchString(parts[1]) {
			return nil, &UnsupportedError{Field: field + ".exact", Reason: fmt.Sprintf("%q is not a gRPC method path /package.Service/Method", sm.Exact)}
		}
		return &gatewayv1.GRPCMethodMatch{Type: exact, Service: ptrTo(parts[0]), Method: ptrTo(parts[1])}, nil
	case sm.Prefix != "":
		service, ok := strings.CutSuffix(strings.TrimPrefix(sm.Prefix, "/"), "/")
		if !strings.HasPrefix(sm.Prefix, "/") || !ok || !grpcService.MatchString(service) {
			return nil, &UnsupportedError{Field: field + ".prefix", Reason: fmt.Sprintf("%q is not a gRPC service path /package.Service/", sm.Prefix)}
		}
		return &gatewayv1.GRPCMethodMatch{Type: exact, Service: ptrTo(service)}, nil
	}
	return nil, &UnsupportedError{Field: field, Reason: "a GRPCRoute matches a uri exactly (/package.Service/Method) or by service prefix (/package.Service/) only"}
}

// mergeGRPCMatches intersects the A/B matches with the service matches, as
// mergeMatches does: the service side's method wins, headers are merged
// (the A/B side wins for a name on both).
func mergeGRPCMatches(ab, svc []gatewayv1.GRPCRouteMatch) []gatewayv1.GRPCRouteMatch {
	if len(ab) == 0 {
		return copyGRPCMatches(svc)
	}
	if len(svc) == 0 {
		return copyGRPCMatches(ab)
	}
	out := make([]gatewayv1.GRPCRouteMatch, 0, len(ab)*len(svc))
	for _, a := range ab {
		for _, s := range svc {
			m := *s.DeepCopy()
			if m.Method == nil && a.Method != nil {
				m.Method = a.Method.DeepCopy()
			}
			m.Headers = mergeGRPCHeaders(a.Headers, m.Headers)
			out = append(out, m)
		}
	}
	return out
}

// mergeGRPCHeaders is mergeHeaderMatches for gRPC metadata.
func mergeGRPCHeaders(first, second []gatewayv1.GRPCHeaderMatch) []gatewayv1.GRPCHeaderMatch {
	seen := map[string]bool{}
	var out []gatewayv1.GRPCHeaderMatch
	for _, list := range [][]gatewayv1.GRPCHeaderMatch{first, second} {
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

func copyGRPCMatches(in []gatewayv1.GRPCRouteMatch) []gatewayv1.GRPCRouteMatch {
	if in == nil {
		return nil
	}
	out := make([]gatewayv1.GRPCRouteMatch, len(in))
	for i := range in {
		in[i].DeepCopyInto(&out[i])
	}
	return out
}
