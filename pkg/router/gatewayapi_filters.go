package router

import (
	"fmt"
	"sort"
	"strings"
	"time"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// ruleFilters returns the filters every generated rule carries, in a fixed
// order: request headers, response headers, rewrite, user mirrors, CORS.
func ruleFilters(svc *flaggerv1.CanaryService) ([]gatewayv1.HTTPRouteFilter, []error) {
	var out []gatewayv1.HTTPRouteFilter
	var errs []error
	if svc.Headers != nil {
		if f := headerFilter(svc.Headers.Request); f != nil {
			out = append(out, gatewayv1.HTTPRouteFilter{Type: gatewayv1.HTTPRouteFilterRequestHeaderModifier, RequestHeaderModifier: f})
		}
		if f := headerFilter(svc.Headers.Response); f != nil {
			out = append(out, gatewayv1.HTTPRouteFilter{Type: gatewayv1.HTTPRouteFilterResponseHeaderModifier, ResponseHeaderModifier: f})
		}
	}
	if f := rewriteFilter(svc.Rewrite); f != nil {
		out = append(out, gatewayv1.HTTPRouteFilter{Type: gatewayv1.HTTPRouteFilterURLRewrite, URLRewrite: f})
	}
	for i := range svc.Mirror {
		out = append(out, gatewayv1.HTTPRouteFilter{Type: gatewayv1.HTTPRouteFilterRequestMirror, RequestMirror: svc.Mirror[i].DeepCopy()})
	}
	if svc.CorsPolicy != nil {
		f, err := corsFilter(svc.CorsPolicy)
		if err != nil {
			errs = append(errs, err)
		}
		out = append(out, gatewayv1.HTTPRouteFilter{Type: gatewayv1.HTTPRouteFilterCORS, CORS: f})
	}
	return out, errs
}

// headerFilter maps header operations, sorted (set and add by name, then
// value; remove by name) because they come from maps: an unsorted list
// would differ on every build and update the route forever.
func headerFilter(ops *flaggerv1.HeaderOperations) *gatewayv1.HTTPHeaderFilter {
	if ops == nil || len(ops.Set)+len(ops.Add)+len(ops.Remove) == 0 {
		return nil
	}
	f := &gatewayv1.HTTPHeaderFilter{Set: headerList(ops.Set), Add: headerList(ops.Add)}
	if len(ops.Remove) > 0 {
		f.Remove = append([]string(nil), ops.Remove...)
		sort.Strings(f.Remove)
	}
	return f
}

func headerList(m map[string]string) []gatewayv1.HTTPHeader {
	var out []gatewayv1.HTTPHeader
	for _, name := range sortedKeys(m) {
		out = append(out, gatewayv1.HTTPHeader{Name: gatewayv1.HTTPHeaderName(name), Value: m[name]})
	}
	return out
}

// rewriteFilter maps service.rewrite: authority to the hostname, uri to
// the full path or, with type ReplacePrefixMatch, to the matched prefix.
func rewriteFilter(rw *flaggerv1.HTTPRewrite) *gatewayv1.HTTPURLRewriteFilter {
	if rw == nil || (rw.URI == "" && rw.Authority == "") {
		return nil
	}
	f := &gatewayv1.HTTPURLRewriteFilter{}
	if rw.Authority != "" {
		f.Hostname = ptrTo(gatewayv1.PreciseHostname(rw.Authority))
	}
	if rw.URI != "" {
		if rw.Type == string(gatewayv1.PrefixMatchHTTPPathModifier) {
			f.Path = &gatewayv1.HTTPPathModifier{Type: gatewayv1.PrefixMatchHTTPPathModifier, ReplacePrefixMatch: ptrTo(rw.URI)}
		} else {
			f.Path = &gatewayv1.HTTPPathModifier{Type: gatewayv1.FullPathHTTPPathModifier, ReplaceFullPath: ptrTo(rw.URI)}
		}
	}
	return f
}

// corsFilter maps the CORS policy. Unlike Flagger, which ignores
// allowOrigins (Istio string matches) entirely, the exact entries are
// added to the allowed origins; prefix and regex entries cannot be
// expressed and are left out, which only narrows the policy.
func corsFilter(p *flaggerv1.CorsPolicy) (*gatewayv1.HTTPCORSFilter, error) {
	f := &gatewayv1.HTTPCORSFilter{AllowCredentials: p.AllowCredentials}
	origins := append([]string(nil), p.AllowOrigin...)
	for _, sm := range p.AllowOrigins {
		if sm.Exact != "" {
			origins = append(origins, sm.Exact)
		}
	}
	// allowOrigins is a set in the CRD: a duplicate would be rejected.
	seen := map[string]bool{}
	for _, o := range origins {
		if !seen[o] {
			seen[o] = true
			f.AllowOrigins = append(f.AllowOrigins, gatewayv1.CORSOrigin(o))
		}
	}
	for _, m := range p.AllowMethods {
		f.AllowMethods = append(f.AllowMethods, gatewayv1.HTTPMethodWithWildcard(strings.ToUpper(m)))
	}
	for _, h := range p.AllowHeaders {
		f.AllowHeaders = append(f.AllowHeaders, gatewayv1.HTTPHeaderName(h))
	}
	for _, h := range p.ExposeHeaders {
		f.ExposeHeaders = append(f.ExposeHeaders, gatewayv1.HTTPHeaderName(h))
	}
	if p.MaxAge != "" {
		d, err := time.ParseDuration(p.MaxAge)
		if err != nil || d < 0 {
			return f, &UnsupportedError{Field: "spec.service.corsPolicy.maxAge", Reason: fmt.Sprintf("%q is not a positive duration", p.MaxAge)}
		}
		f.MaxAge = int32(d / time.Second)
	}
	return f, nil
}

// ruleTimeouts maps service.timeout and service.backendTimeout; nil when
// neither is set, so that no empty object shows up as drift.
func ruleTimeouts(svc *flaggerv1.CanaryService) (*gatewayv1.HTTPRouteTimeouts, []error) {
	if svc.Timeout == "" && svc.BackendTimeout == "" {
		return nil, nil
	}
	var errs []error
	t := &gatewayv1.HTTPRouteTimeouts{}
	request, err := gatewayDuration("spec.service.timeout", svc.Timeout)
	if err != nil {
		errs = append(errs, err)
	}
	backend, err := gatewayDuration("spec.service.backendTimeout", svc.BackendTimeout)
	if err != nil {
		errs = append(errs, err)
	}
	if request != nil && backend != nil && *request > 0 && *backend > *request {
		errs = append(errs, &UnsupportedError{Field: "spec.service.backendTimeout", Reason: "cannot be longer than spec.service.timeout"})
		backend = nil
	}
	if request != nil {
		t.Request = ptrTo(formatDuration(*request))
	}
	if backend != nil {
		t.BackendRequest = ptrTo(formatDuration(*backend))
	}
	if t.Request == nil && t.BackendRequest == nil {
		return nil, errs
	}
	return t, errs
}

func gatewayDuration(field, s string) (*time.Duration, error) {
	if s == "" {
		return nil, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return nil, &UnsupportedError{Field: field, Reason: fmt.Sprintf("%q is not a positive duration", s)}
	}
	return &d, nil
}

// formatDuration writes d in the Gateway API duration format (GEP-2257:
// up to four of h, m, s and ms components, integers only), which rejects
// Go forms such as "1.5s" that the Canary schema accepts. Precision below a
// millisecond is rounded off.
func formatDuration(d time.Duration) gatewayv1.Duration {
	d = d.Round(time.Millisecond)
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	for _, unit := range []struct {
		size time.Duration
		name string
	}{{time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}, {time.Millisecond, "ms"}} {
		if n := d / unit.size; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, unit.name)
			d -= n * unit.size
		}
	}
	return gatewayv1.Duration(b.String())
}

// mirrorFilter copies the rule's traffic to the canary Service; percent,
// from analysis.mirrorWeight, is left unset (all requests) when 0.
func mirrorFilter(canary string, port int32, percent int) gatewayv1.HTTPRouteFilter {
	m := &gatewayv1.HTTPRequestMirrorFilter{BackendRef: serviceRef(canary, port)}
	if percent > 0 {
		m.Percent = ptrTo(int32(percent))
	}
	return gatewayv1.HTTPRouteFilter{Type: gatewayv1.HTTPRouteFilterRequestMirror, RequestMirror: m}
}

// serviceRef references a Service in the route's namespace, with the group
// and kind written out as the API server would default them.
func serviceRef(name string, port int32) gatewayv1.BackendObjectReference {
	return gatewayv1.BackendObjectReference{
		Group: ptrTo(gatewayv1.Group("")),
		Kind:  ptrTo(gatewayv1.Kind("Service")),
		Name:  gatewayv1.ObjectName(name),
		Port:  ptrTo(port),
	}
}
