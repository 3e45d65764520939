package metrics

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

func fullModel() Model {
	return Model{
		Name: "podinfo", Namespace: "test", Target: "podinfo-deploy", Service: "podinfo-svc",
		Ingress: "podinfo-ing", Route: "podinfo-route", Interval: "2m",
		Variables: map[string]string{"direction": "inbound"},
	}
}

func TestRender(t *testing.T) {
	tests := []struct {
		query string
		want  string
	}{
		{"{{ name }}", "podinfo"},
		{"{{ namespace }}", "test"},
		{"{{ target }}", "podinfo-deploy"},
		{"{{ service }}", "podinfo-svc"},
		{"{{ ingress }}", "podinfo-ing"},
		{"{{ route }}", "podinfo-route"},
		{"{{ interval }}", "2m"},
		{"{{ variables.direction }}", "inbound"},
		{"{{name}}/{{namespace}}", "podinfo/test"},
		{"rate(x[{{ interval }}])\n  by (le)", "rate(x[2m])\n  by (le)"},
		{"no template at all", "no template at all"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			got, err := Render(tt.query, fullModel())
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestRenderErrors(t *testing.T) {
	tests := map[string]struct {
		query string
		model Model
		want  string
	}{
		"missing variable":     {"{{ variables.nope }}", fullModel(), `map has no entry for key "nope"`},
		"no variables at all":  {"{{ variables.direction }}", Model{}, `map has no entry for key "direction"`},
		"unknown function":     {"{{ deployment }}", fullModel(), `function "deployment" not defined`},
		"field syntax of data": {"{{ .namespace }}", fullModel(), "namespace"},
		"unterminated action":  {"{{ name ", fullModel(), "parsing query template"},
		"function with an arg": {`{{ name "x" }}`, fullModel(), "wrong number of args"},
		"range over a number":  {"{{ range 1000000000 }}{{ end }}", fullModel(), "{{ range }} is not supported"},
		"range in a define":    {`{{ define "t" }}{{ if true }}{{ range variables }}x{{ end }}{{ end }}{{ end }}`, fullModel(), "{{ range }} is not supported"},
		"template call":        {`{{ define "t" }}x{{ end }}{{ template "t" }}`, fullModel(), "{{ template }} is not supported"},
		"block":                {`{{ block "t" . }}x{{ end }}`, fullModel(), "{{ template }} is not supported"},
		"too long":             {`{{ printf "%1000000d" 1 }}{{ printf "%1000000d" 2 }}`, fullModel(), "exceeds 1048576 bytes"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Render(tt.query, tt.model)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestNewModel(t *testing.T) {
	t.Run("defaults to the target name", func(t *testing.T) {
		m := NewModel(newCanary(), newMetric("error-rate"))
		assert.Equal(t, Model{
			Name: "podinfo", Namespace: "test", Target: "podinfo", Service: "podinfo",
			Ingress: "podinfo", Route: "podinfo", Interval: "1m",
		}, m)
	})
	t.Run("uses the references and the metric", func(t *testing.T) {
		c := newCanary(func(c *flaggerv1.Canary) {
			c.Name = "web"
			c.Spec.Service.Name = "frontend"
			c.Spec.IngressRef = &flaggerv1.IngressReference{Name: "web-ing"}
			c.Spec.RouteRef = &flaggerv1.ApisixRouteReference{Name: "web-route"}
		})
		vars := map[string]string{"k": "v"}
		m := NewModel(c, newMetric("x", func(m *flaggerv1.CanaryMetric) {
			m.Interval = "30s"
			m.TemplateVariables = vars
		}))
		assert.Equal(t, Model{
			Name: "web", Namespace: "test", Target: "podinfo", Service: "frontend",
			Ingress: "web-ing", Route: "web-route", Interval: "30s", Variables: vars,
		}, m)
		vars["k"] = "changed"
		assert.Equal(t, "v", m.Variables["k"], "the model must not alias the spec")
	})
}

// TestRenderSeedTemplates renders the MetricTemplates of the Gateway API
// tutorial for podinfo.test and checks the PromQL sent to Prometheus.
func TestRenderSeedTemplates(t *testing.T) {
	f, err := os.Open("../../test/testdata/seed/metric-templates.yaml")
	require.NoError(t, err)
	defer f.Close()

	queries := map[string]string{}
	dec := utilyaml.NewYAMLOrJSONDecoder(f, 4096)
	for {
		var mt flaggerv1.MetricTemplate
		if err := dec.Decode(&mt); err != nil {
			require.ErrorContains(t, err, "EOF")
			break
		}
		queries[mt.Name] = mt.Spec.Query
	}
	require.Len(t, queries, 2)

	model := NewModel(newCanary(), newMetric("error-rate", func(m *flaggerv1.CanaryMetric) { m.Interval = "30s" }))
	want := map[string]string{
		"latency": `histogram_quantile(0.99, sum( rate( istio_request_duration_milliseconds_bucket{ ` +
			`reporter="source", destination_workload_namespace=~"test", destination_workload=~"podinfo", }[30s] ) ) by (le) )/1000`,
		"error-rate": `100 - sum( rate( istio_requests_total{ reporter="source", destination_workload_namespace=~"test", ` +
			`destination_workload=~"podinfo", response_code!~"5.*" }[30s] ) ) / sum( rate( istio_requests_total{ ` +
			`reporter="source", destination_workload_namespace=~"test", destination_workload=~"podinfo", }[30s] ) ) * 100`,
	}
	for name, q := range queries {
		got, err := Render(q, model)
		require.NoError(t, err, name)
		assert.Equal(t, want[name], compact(got), name)
		assert.False(t, strings.Contains(got, "{{"), name)
	}
}

func TestCompact(t *testing.T) {
	assert.Equal(t, `sum(rate(x{a="b"}[1m])) / 2`, compact("\n  sum(rate(x{a=\"b\"}[1m]))\n\t/   2\n"))
	assert.Equal(t, "", compact(" \n\t "))
}

func TestRenderForArm(t *testing.T) {
	query := `sum(rate(http_requests_total{pod=~"{{ workload }}-[0-9a-z]+-[0-9a-z]+",arm="{{ arm }}"}[{{ interval }}])) by ({{ target }})`
	tests := []struct {
		arm  string
		want string
	}{
		{ArmPrimary, `sum(rate(http_requests_total{pod=~"podinfo-deploy-primary-[0-9a-z]+-[0-9a-z]+",arm="primary"}[2m])) by (podinfo-deploy)`},
		{ArmBaseline, `sum(rate(http_requests_total{pod=~"podinfo-deploy-baseline-[0-9a-z]+-[0-9a-z]+",arm="baseline"}[2m])) by (podinfo-deploy)`},
		{ArmCanary, `sum(rate(http_requests_total{pod=~"podinfo-deploy-[0-9a-z]+-[0-9a-z]+",arm="canary"}[2m])) by (podinfo-deploy)`},
	}
	for _, tt := range tests {
		t.Run(tt.arm, func(t *testing.T) {
			m := fullModel()
			got, err := Render(query, m.ForArm(tt.arm))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, fullModel(), m, "ForArm must not change its receiver")
		})
	}
}

func TestRenderForArmKeepsTheOtherVariables(t *testing.T) {
	const query = "{{ name }} {{ namespace }} {{ target }} {{ service }} {{ ingress }} {{ route }} {{ interval }} {{ variables.direction }}"
	plain, err := Render(query, fullModel())
	require.NoError(t, err)
	for _, arm := range arms {
		got, err := Render(query, fullModel().ForArm(arm))
		require.NoError(t, err)
		assert.Equal(t, plain, got, arm)
	}
}

func TestRenderWithoutArm(t *testing.T) {
	// A query that is not a comparison renders as it did before arms
	// existed: the two functions are as unknown as any other.
	for _, query := range []string{"{{ arm }}", "{{ workload }}"} {
		_, err := Render(query, fullModel())
		require.Error(t, err, query)
		assert.Contains(t, err.Error(), "not defined", query)
	}
}

func TestRenderUnknownArm(t *testing.T) {
	for _, arm := range []string{"Canary", "stable", "primary "} {
		_, err := Render("{{ target }}", fullModel().ForArm(arm))
		require.Error(t, err, arm)
		assert.Contains(t, err.Error(), "unknown arm", arm)
	}
	// Switching arms recomputes the workload.
	m := fullModel().ForArm(ArmBaseline).ForArm(ArmCanary)
	assert.Equal(t, "podinfo-deploy", m.Workload)
}
