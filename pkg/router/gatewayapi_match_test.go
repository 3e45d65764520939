package router

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

func TestMapMatch(t *testing.T) {
	regex := ptrTo(gatewayv1.PathMatchRegularExpression)
	headerExact := ptrTo(gatewayv1.HeaderMatchExact)
	headerRe := ptrTo(gatewayv1.HeaderMatchRegularExpression)
	queryExact := ptrTo(gatewayv1.QueryParamMatchExact)
	queryRe := ptrTo(gatewayv1.QueryParamMatchRegularExpression)

	tests := []struct {
		name     string
		in       flaggerv1.HTTPMatchRequest
		want     gatewayv1.HTTPRouteMatch
		errField string
	}{
		{name: "uri exact", in: flaggerv1.HTTPMatchRequest{URI: &flaggerv1.StringMatch{Exact: "/a"}},
			want: gatewayv1.HTTPRouteMatch{Path: &gatewayv1.HTTPPathMatch{Type: ptrTo(gatewayv1.PathMatchExact), Value: ptrTo("/a")}}},
		{name: "uri prefix", in: flaggerv1.HTTPMatchRequest{URI: &flaggerv1.StringMatch{Prefix: "/a"}},
			want: gatewayv1.HTTPRouteMatch{Path: pathPrefix("/a")}},
		{name: "uri regex", in: flaggerv1.HTTPMatchRequest{URI: &flaggerv1.StringMatch{Regex: "/a/[0-9]+"}},
			want: gatewayv1.HTTPRouteMatch{Path: &gatewayv1.HTTPPathMatch{Type: regex, Value: ptrTo("/a/[0-9]+")}}},
		{name: "uri suffix becomes a regex", in: flaggerv1.HTTPMatchRequest{URI: &flaggerv1.StringMatch{Suffix: ".json"}},
			want: gatewayv1.HTTPRouteMatch{Path: &gatewayv1.HTTPPathMatch{Type: regex, Value: ptrTo(`.*\.json$`)}}},
		{name: "empty uri", in: flaggerv1.HTTPMatchRequest{URI: &flaggerv1.StringMatch{}}, errField: "m.uri"},
		{name: "method exact", in: flaggerv1.HTTPMatchRequest{Method: &flaggerv1.StringMatch{Exact: "POST"}},
			want: gatewayv1.HTTPRouteMatch{Method: ptrTo(gatewayv1.HTTPMethodPost)}},
		{name: "method regex", in: flaggerv1.HTTPMatchRequest{Method: &flaggerv1.StringMatch{Regex: "GET|POST"}}, errField: "m.method"},
		{name: "unknown method", in: flaggerv1.HTTPMatchRequest{Method: &flaggerv1.StringMatch{Exact: "get"}}, errField: "m.method"},
		{name: "headers, sorted", in: flaggerv1.HTTPMatchRequest{Headers: map[string]flaggerv1.StringMatch{
			"x-d": {Suffix: "+1"}, "x-c": {Prefix: "a.b"}, "x-b": {Regex: "b+"}, "x-a": {Exact: "a"},
		}}, want: gatewayv1.HTTPRouteMatch{Headers: []gatewayv1.HTTPHeaderMatch{
			{Type: headerExact, Name: "x-a", Value: "a"},
			{Type: headerRe, Name: "x-b", Value: "b+"},
			{Type: headerRe, Name: "x-c", Value: `^a\.b.*`},
			{Type: headerRe, Name: "x-d", Value: `.*\+1$`},
		}}},
		{name: "empty header", in: flaggerv1.HTTPMatchRequest{Headers: map[string]flaggerv1.StringMatch{"x-a": {}}}, errField: "m.headers[x-a]"},
		{name: "query params", in: flaggerv1.HTTPMatchRequest{QueryParams: map[string]flaggerv1.StringMatch{
			"b": {Regex: "1|2"}, "a": {Exact: "x"},
		}}, want: gatewayv1.HTTPRouteMatch{QueryParams: []gatewayv1.HTTPQueryParamMatch{
			{Type: queryExact, Name: "a", Value: "x"},
			{Type: queryRe, Name: "b", Value: "1|2"},
		}}},
		{name: "Istio-only fields are ignored", in: flaggerv1.HTTPMatchRequest{
			Authority: &flaggerv1.StringMatch{Exact: "a"}, Scheme: &flaggerv1.StringMatch{Exact: "https"}, Port: 80,
			SourceLabels: map[string]string{"a": "b"}, IgnoreURICase: true, Gateways: []string{"mesh"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mapMatch("m", &tt.in)
			if tt.errField != "" {
				var unsupported *UnsupportedError
				require.ErrorAs(t, err, &unsupported)
				assert.Equal(t, tt.errField, unsupported.Field)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestMapMatchesNarrowing(t *testing.T) {
	in := []flaggerv1.HTTPMatchRequest{
		{SourceLabels: map[string]string{"app": "a"}},
		{Headers: map[string]flaggerv1.StringMatch{"x": {Exact: "1"}}},
	}
	got, errs := mapMatches("f", in, false)
	assert.Empty(t, errs)
	assert.Len(t, got, 2, "an empty service match is the default match")

	got, errs = mapMatches("f", in, true)
	require.Len(t, errs, 1)
	assert.Equal(t, "f[0]", errs[0].(*UnsupportedError).Field)
	assert.Len(t, got, 1)
}

func TestMergeMatches(t *testing.T) {
	ab := []gatewayv1.HTTPRouteMatch{
		{Path: pathPrefix("/beta"), Method: ptrTo(gatewayv1.HTTPMethodGet), QueryParams: []gatewayv1.HTTPQueryParamMatch{{Name: "v", Value: "2"}}},
	}
	assert.Equal(t, ab, mergeMatches(ab, nil))
	svc := []gatewayv1.HTTPRouteMatch{{Path: pathPrefix("/api")}, defaultMatch()}
	assert.Equal(t, svc, mergeMatches(nil, svc))

	assert.Equal(t, []gatewayv1.HTTPRouteMatch{
		// The service path wins when it narrows; the A/B method and
		// parameters are kept.
		{Path: pathPrefix("/api"), Method: ptrTo(gatewayv1.HTTPMethodGet), QueryParams: ab[0].QueryParams},
		{Path: pathPrefix("/beta"), Method: ptrTo(gatewayv1.HTTPMethodGet), QueryParams: ab[0].QueryParams},
	}, mergeMatches(ab, svc))
}
