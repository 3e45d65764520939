package metrics

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/template"
	"text/template/parse"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// Model is what a query template can see of a canary and one of its metrics.
type Model struct {
	// Name is the Canary's name.
	Name string
	// Namespace is the Canary's namespace.
	Namespace string
	// Target is spec.targetRef.name.
	Target string
	// Service is spec.service.name, or the target name.
	Service string
	// Ingress is spec.ingressRef.name, or the target name.
	Ingress string
	// Route is spec.routeRef.name, or the target name.
	Route string
	// Interval is the metric's query window (default 1m).
	Interval string
	// Variables are the metric's templateVariables.
	Variables map[string]string

	// Arm is the arm of a compared metric being queried (ArmPrimary,
	// ArmBaseline or ArmCanary), set by ForArm; empty for every other query.
	Arm string
	// Workload is the Deployment of Arm, set by ForArm.
	Workload string
}

// The arms of a metric compared with the baseline (analysis.metrics[].compare):
// the judge queries its template once per arm.
const (
	ArmPrimary  = "primary"
	ArmBaseline = "baseline"
	ArmCanary   = "canary"
)

// arms are the values of Model.Arm that Render accepts besides "".
var arms = []string{ArmPrimary, ArmBaseline, ArmCanary}

// ForArm returns m for one arm of a compared metric: {{ arm }} renders as
// arm and {{ workload }} as that arm's Deployment, <target>-primary,
// <target>-baseline or <target> (the names pkg/canary gives them), so that
// one template serves the three arms. Every other variable keeps its value;
// in particular {{ target }} stays the target's name, as in Flagger, where
// it always means the canary. An arm other than the three makes Render fail.
//
// A Model not made by ForArm (every query that is not a comparison) defines
// neither function: a template that uses them fails as it does today
// (function "arm" not defined), so Flagger templates render exactly as
// before.
func (m Model) ForArm(arm string) Model {
	m.Arm = arm
	m.Workload = ""
	switch arm {
	case ArmPrimary:
		m.Workload = m.Target + "-primary"
	case ArmBaseline:
		m.Workload = m.Target + "-baseline"
	case ArmCanary:
		m.Workload = m.Target
	}
	return m
}

// NewModel builds the template model of one metric of a canary, applying
// Flagger's defaults for the service, ingress, route and interval.
func NewModel(c *flaggerv1.Canary, metric flaggerv1.CanaryMetric) Model {
	target := c.Spec.TargetRef.Name
	service, _, _ := c.GetServiceNames()
	m := Model{
		Name:      c.Name,
		Namespace: c.Namespace,
		Target:    target,
		Service:   service,
		Ingress:   target,
		Route:     target,
		Interval:  metric.GetMetricInterval(),
		Variables: maps.Clone(metric.TemplateVariables),
	}
	if c.Spec.IngressRef != nil {
		m.Ingress = c.Spec.IngressRef.Name
	}
	if c.Spec.RouteRef != nil {
		m.Route = c.Spec.RouteRef.Name
	}
	return m
}

// funcs exposes the model as niladic template functions, so queries written
// for Flagger ({{ namespace }}, not {{ .namespace }}) work unchanged.
func (m Model) funcs() template.FuncMap {
	vars := m.Variables
	if vars == nil {
		// A nil map would make every {{ variables.x }} fail the same way
		// anyway; an empty one keeps the error message about the key.
		vars = map[string]string{}
	}
	constant := func(s string) func() string { return func() string { return s } }
	funcs := template.FuncMap{
		"name":      constant(m.Name),
		"namespace": constant(m.Namespace),
		"target":    constant(m.Target),
		"service":   constant(m.Service),
		"ingress":   constant(m.Ingress),
		"route":     constant(m.Route),
		"interval":  constant(m.Interval),
		"variables": func() map[string]string { return vars },
	}
	if m.Arm != "" {
		funcs["arm"] = constant(m.Arm)
		funcs["workload"] = constant(m.Workload)
	}
	return funcs
}

// maxQueryBytes bounds a rendered query; a real one is a few hundred bytes.
const maxQueryBytes = 1 << 20

// Render executes a query template for a model. A reference to a missing
// variable ({{ variables.nope }}), an unknown function, a syntax error, a
// {{ range }} or {{ template }} action, or a result over maxQueryBytes is an
// error; the result is otherwise returned as written, whitespace included.
//
// Unlike Flagger, {{ range }} and {{ template }} are refused: without them a
// template runs in time linear in its length, with them a MetricTemplate
// could hang the operator's worker for good ({{ range 1000000000 }}, nested
// ranges over the variables, templates that call each other twice at each
// level), and no query needs them. Found by FuzzRender.
//
// A model for an arm (ForArm) adds {{ arm }} and {{ workload }}; an unknown
// arm is an error whatever the query.
func Render(query string, m Model) (string, error) {
	if m.Arm != "" && !slices.Contains(arms, m.Arm) {
		return "", fmt.Errorf("rendering query template: unknown arm %q (want %s, %s or %s)",
			m.Arm, ArmPrimary, ArmBaseline, ArmCanary)
	}
	t, err := template.New("query").Option("missingkey=error").Funcs(m.funcs()).Parse(query)
	if err != nil {
		return "", fmt.Errorf("parsing query template: %w", err)
	}
	for _, tt := range t.Templates() {
		if tt.Tree == nil {
			continue
		}
		if action := loop(tt.Tree.Root); action != "" {
			return "", fmt.Errorf("parsing query template: {{ %s }} is not supported", action)
		}
	}
	b := &boundedBuilder{}
	if err := t.Execute(b, nil); err != nil {
		return "", fmt.Errorf("rendering query template: %w", err)
	}
	return b.String(), nil
}

// loop returns the first action of a template's tree that can repeat work,
// range or template, or "" when there is none.
func loop(n parse.Node) string {
	switch n := n.(type) {
	case *parse.RangeNode:
		return "range"
	case *parse.TemplateNode:
		return "template"
	case *parse.ListNode:
		if n == nil {
			return ""
		}
		for _, c := range n.Nodes {
			if action := loop(c); action != "" {
				return action
			}
		}
	case *parse.IfNode:
		return cmp.Or(loop(n.List), loop(n.ElseList))
	case *parse.WithNode:
		return cmp.Or(loop(n.List), loop(n.ElseList))
	}
	return ""
}

// boundedBuilder is a strings.Builder that fails past maxQueryBytes, which
// stops the template's execution.
type boundedBuilder struct {
	strings.Builder
}

func (b *boundedBuilder) Write(p []byte) (int, error) {
	if b.Len()+len(p) > maxQueryBytes {
		return 0, fmt.Errorf("the query exceeds %d bytes", maxQueryBytes)
	}
	return b.Builder.Write(p)
}

// compact collapses every run of whitespace into one space, as Flagger does
// before sending a query, so multi-line templates make one-line queries.
func compact(query string) string {
	return strings.Join(strings.Fields(query), " ")
}
