package e2e

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"
)

// The HTTPRoute of a scenario is asserted through a one-line summary of
// its rules, in order, separated by " ; ". A rule reads
//
//	<match> | <match> -> <backend> <backend> [<filter>...]
//
// where a match is its path ("/" for PathPrefix /, "=/x" exact, "~re"
// regular expression) followed by " name=value" per exact header and
// " name~regex" per regular-expression header; a backend is name=weight
// with its filters in braces; a rule filter is mirror(<service>[,<n>%]) for
// a RequestMirror and the filter type otherwise. Backends are named
// without the podinfo- prefix. For example the seed canary at 10%:
//
//	/ -> primary=90 canary=10
func routeShape(spec *gatewayv1.HTTPRouteSpec) string {
	rules := make([]string, len(spec.Rules))
	for i, r := range spec.Rules {
		var matches []string
		for _, m := range r.Matches {
			matches = append(matches, matchShape(m))
		}
		if len(matches) == 0 {
			matches = []string{"/"}
		}
		var backends []string
		for _, b := range r.BackendRefs {
			s := fmt.Sprintf("%s=%d", strings.TrimPrefix(string(b.Name), "podinfo-"), weightOf(b.Weight))
			if len(b.Filters) > 0 {
				s += "{" + strings.Join(filterShapes(b.Filters), ", ") + "}"
			}
			backends = append(backends, s)
		}
		rule := strings.Join(matches, " | ") + " -> " + strings.Join(backends, " ")
		if f := filterShapes(r.Filters); len(f) > 0 {
			rule += " " + strings.Join(f, " ")
		}
		rules[i] = rule
	}
	return strings.Join(rules, " ; ")
}

func matchShape(m gatewayv1.HTTPRouteMatch) string {
	s := "/"
	if p := m.Path; p != nil && p.Value != nil {
		switch {
		case p.Type == nil || *p.Type == gatewayv1.PathMatchPathPrefix:
			s = *p.Value
		case *p.Type == gatewayv1.PathMatchExact:
			s = "=" + *p.Value
		default:
			s = "~" + *p.Value
		}
	}
	for _, h := range m.Headers {
		op := "="
		if h.Type != nil && *h.Type == gatewayv1.HeaderMatchRegularExpression {
			op = "~"
		}
		s += " " + string(h.Name) + op + h.Value
	}
	return s
}

func filterShapes(filters []gatewayv1.HTTPRouteFilter) []string {
	var out []string
	for _, f := range filters {
		switch {
		case f.RequestMirror != nil:
			s := "mirror(" + string(f.RequestMirror.BackendRef.Name)
			if f.RequestMirror.Percent != nil {
				s += fmt.Sprintf(",%d%%", *f.RequestMirror.Percent)
			}
			out = append(out, s+")")
		case f.ResponseHeaderModifier != nil && len(f.ResponseHeaderModifier.Add) == 1 && f.ResponseHeaderModifier.Set == nil:
			h := f.ResponseHeaderModifier.Add[0]
			out = append(out, string(h.Name)+": "+h.Value)
		default:
			out = append(out, string(f.Type))
		}
	}
	return out
}

func weightOf(w *int32) int32 {
	if w == nil {
		return 1
	}
	return *w
}

// routeRecorder records every distinct shape the scenario's HTTPRoute
// takes, from a watch: no update is missed, however short-lived.
type routeRecorder struct {
	t        *testing.T
	mu       sync.Mutex
	shapes   []string
	stop     chan struct{}
	done     chan struct{}
	version  string
	watchErr error
}

// recordRoutes starts recording the route of a namespace through the
// given API version ("v1" or "v1beta1"), from its current state.
func recordRoutes(t *testing.T, namespace, version string) *routeRecorder {
	t.Helper()
	r := &routeRecorder{t: t, stop: make(chan struct{}), done: make(chan struct{}), version: version}
	spec, rv := r.get(namespace)
	r.add(routeShape(spec))
	go r.run(namespace, rv)
	t.Cleanup(r.close)
	return r
}

func (r *routeRecorder) get(namespace string) (*gatewayv1.HTTPRouteSpec, string) {
	r.t.Helper()
	ctx := r.t.Context()
	if r.version == "v1beta1" {
		route, err := env.gateway.GatewayV1beta1().HTTPRoutes(namespace).Get(ctx, "podinfo", metav1.GetOptions{})
		require.NoError(r.t, err)
		return &route.Spec, route.ResourceVersion
	}
	route, err := env.gateway.GatewayV1().HTTPRoutes(namespace).Get(ctx, "podinfo", metav1.GetOptions{})
	require.NoError(r.t, err)
	return &route.Spec, route.ResourceVersion
}

// run follows the watch, resuming after the last version seen when the
// server ends it.
func (r *routeRecorder) run(namespace, rv string) {
	defer close(r.done)
	ctx := r.t.Context()
	for {
		opts := metav1.ListOptions{FieldSelector: "metadata.name=podinfo", ResourceVersion: rv}
		var w watch.Interface
		var err error
		if r.version == "v1beta1" {
			w, err = env.gateway.GatewayV1beta1().HTTPRoutes(namespace).Watch(ctx, opts)
		} else {
			w, err = env.gateway.GatewayV1().HTTPRoutes(namespace).Watch(ctx, opts)
		}
		if err != nil {
			r.fail(err)
			return
		}
		for open := true; open; {
			select {
			case <-r.stop:
				w.Stop()
				return
			case ev, ok := <-w.ResultChan():
				if !ok {
					open = false
					break
				}
				switch route := ev.Object.(type) {
				case *gatewayv1.HTTPRoute:
					rv = route.ResourceVersion
					r.add(routeShape(&route.Spec))
				case *gatewayv1beta1.HTTPRoute:
					rv = route.ResourceVersion
					r.add(routeShape(&route.Spec))
				case *metav1.Status:
					r.fail(fmt.Errorf("watch: %s", route.Message))
					w.Stop()
					return
				}
			}
		}
	}
}

func (r *routeRecorder) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.watchErr == nil {
		r.watchErr = err
	}
}

func (r *routeRecorder) add(shape string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := len(r.shapes); n == 0 || r.shapes[n-1] != shape {
		r.shapes = append(r.shapes, shape)
	}
}

func (r *routeRecorder) close() {
	select {
	case <-r.stop:
	default:
		close(r.stop)
	}
	<-r.done
}

// seen returns the distinct shapes so far, oldest first.
func (r *routeRecorder) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	require.NoError(r.t, r.watchErr, "route watch")
	return slices.Clone(r.shapes)
}

// current returns the latest shape.
func (r *routeRecorder) current() string {
	s := r.seen()
	return s[len(s)-1]
}

// requireShapes checks that the route took exactly the given shapes, in
// order.
func (r *routeRecorder) requireShapes(want ...string) {
	r.t.Helper()
	assert.Equal(r.t, want, r.seen(), "HTTPRoute shapes, oldest first")
}
