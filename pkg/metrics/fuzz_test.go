package metrics

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// FuzzRender renders arbitrary MetricTemplate queries. Whatever the query,
// Render returns a result or an error, never panics, and is deterministic.
// Beyond that, two round trips pin down what it does with the user's text:
// a query without "{{" is returned exactly as written, and any text followed
// by {{ name }} or {{ variables.<key> }} renders as that text (its own "{{"
// escaped) followed by the value, whatever characters the text and the
// values hold.
func FuzzRender(f *testing.F) {
	seeds := []string{
		"{{ name }}", "{{ namespace }}", "{{ target }}", "{{ service }}", "{{ ingress }}", "{{ route }}",
		"{{ interval }}", "{{ variables.direction }}", "{{name}}/{{namespace}}",
		`sum(rate(http_requests_total{namespace="{{ namespace }}",pod=~"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)",status!~"5.*"}[{{ interval }}]))`,
		"histogram_quantile(0.99,\n  sum(rate(le[{{ interval }}])) by (le))",
		"{{ variables.nope }}", "{{ .namespace }}", "{{ name ", `{{ name "x" }}`, "{{ deployment }}",
		`{{ range $k, $v := variables }}{{ $k }}={{ $v }},{{ end }}`, `{{ if eq (name) "podinfo" }}yes{{ else }}no{{ end }}`,
		`{{ index variables "direction" }}`, `{{ printf "%s-%d" name 3 }}`, `{{ define "t" }}{{ template "t" }}{{ end }}{{ template "t" }}`,
		"{{- name -}}", "{{/* comment */}}", "}}{{", "{{{{", "\x00{{ route }}\xff", "",
	}
	for _, s := range seeds {
		f.Add(s, "podinfo", "direction", "inbound")
	}
	f.Add("up{job=\"x\"} > 0 {", "a}}b", "x", "{{ name }}")
	f.Fuzz(func(t *testing.T, query, name, key, value string) {
		m := fullModel()
		m.Name = name
		m.Variables = map[string]string{key: value}

		out, err := Render(query, m)
		again, errAgain := Render(query, m)
		require.Equal(t, out, again, "Render is not deterministic")
		require.Equal(t, err == nil, errAgain == nil, "Render is not deterministic")
		if err != nil {
			require.Empty(t, out, "a failed render returns no query")
			require.True(t, strings.HasPrefix(err.Error(), "parsing query template") ||
				strings.HasPrefix(err.Error(), "rendering query template"), "error %q", err)
		}
		if !strings.Contains(query, "{{") {
			require.NoError(t, err, "a query without actions must render")
			require.Equal(t, query, out, "a query without actions is returned as written")
		}

		literal := escapeActions(query)
		out, err = Render(literal+"{{ name }}", m)
		require.NoError(t, err, "escaped text followed by {{ name }}: %q", literal)
		require.Equal(t, query+name, out)
		if isIdentifier(key) {
			out, err = Render(literal+"{{ variables."+key+" }}", m)
			require.NoError(t, err)
			require.Equal(t, query+value, out)
		}

		c := compact(query)
		require.Equal(t, c, compact(c), "compact is not idempotent")
		require.NotContains(t, c, "  ", "compact left a run of blanks")
		require.Equal(t, strings.Fields(query), strings.Fields(c), "compact changed the words")
	})
}

// escapeActions makes text render as itself: every "{" becomes an action
// that prints "{" (escaping only "{{" would let a trailing "{" run into the
// action that follows).
func escapeActions(text string) string {
	return strings.ReplaceAll(text, "{", `{{"{"}}`)
}

// isIdentifier reports whether key can follow "variables." in a template:
// a Go identifier (text/template field names).
func isIdentifier(key string) bool {
	if key == "" || !utf8.ValidString(key) {
		return false
	}
	for i, r := range key {
		letter := r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !letter && (i == 0 || r < '0' || r > '9') {
			return false
		}
	}
	return true
}
