package metrics

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// keptnDefaultDuration is an Analysis' timeframe when the query names none.
const keptnDefaultDuration = "1m"

// keptnQuery is a parsed keptn query.
type keptnQuery struct {
	resource        schema.GroupVersionResource
	namespace, name string
	// duration and args are the Analysis' timeframe.recent and spec.args.
	duration string
	args     map[string]string
}

// parseKeptnQuery parses Flagger's keptn query syntax,
// <keptnmetric|analysis>/<namespace>/<name>/<duration>/<arguments>: the
// type (plural names are accepted too), namespace and name are required;
// a keptnmetric query ignores the rest (Flagger's docs write
// keptnmetric/ns/name/2m/reporter=destination); an Analysis covers the last
// duration (default 1m) with arguments key1=value1;key2=value2.
//
// Like Flagger, everything but the argument values is read in lower case
// (Keptn turns an argument key into a template placeholder by capitalising
// its first letter, so keys must stay as Flagger sends them). Unlike
// Flagger, which lower-cases the whole query, drops an argument that is not
// key=value and cuts the arguments at the next slash, argument values keep
// their case and slashes (they end up in a backend's query), and a
// malformed argument or duration is an error.
func parseKeptnQuery(query string) (keptnQuery, error) {
	parts := strings.Split(strings.TrimSpace(query), "/")
	if len(parts) < 3 {
		return keptnQuery{}, errors.New("unexpected query format. query must be in the format <keptnmetric|analysis>/<namespace>/<resourceName>/<duration>/<arguments>")
	}
	q := keptnQuery{namespace: strings.ToLower(parts[1]), name: strings.ToLower(parts[2])}
	switch strings.ToLower(parts[0]) {
	case "keptnmetric", "keptnmetrics":
		q.resource = keptnMetrics
	case "analysis", "analyses":
		q.resource = keptnAnalyses
	default:
		return keptnQuery{}, errors.New("unexpected resource kind provided in the query. must be one of: ['keptnmetric', 'analysis']")
	}
	if q.namespace == "" || q.name == "" {
		return keptnQuery{}, fmt.Errorf("keptn query %q names no namespace or no resource name", query)
	}
	if q.resource == keptnMetrics {
		return q, nil
	}
	q.duration = keptnDefaultDuration
	if len(parts) > 3 && parts[3] != "" {
		q.duration = strings.ToLower(parts[3])
		if _, err := time.ParseDuration(q.duration); err != nil {
			return keptnQuery{}, fmt.Errorf("keptn analysis duration %q: %w", parts[3], err)
		}
	}
	args, err := parseKeptnArgs(strings.Join(parts[min(len(parts), 4):], "/"))
	if err != nil {
		return keptnQuery{}, err
	}
	q.args = args
	return q, nil
}

// parseKeptnArgs parses key1=value1;key2=value2 (empty items are skipped).
func parseKeptnArgs(s string) (map[string]string, error) {
	args := map[string]string{}
	for _, item := range strings.Split(s, ";") {
		if strings.TrimSpace(item) == "" {
			continue
		}
		key, value, ok := strings.Cut(item, "=")
		if !ok || key == "" {
			return nil, fmt.Errorf("keptn analysis argument %q is not key=value", item)
		}
		args[strings.ToLower(key)] = value
	}
	return args, nil
}
