package metricsexporter

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Metric names, as Istio's standard metrics spell them.
const (
	requestsTotal   = "istio_requests_total"
	requestDuration = "istio_request_duration_milliseconds"
)

// labelEscaper escapes a label value for the text format.
var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// writeText writes the counters of every workload in the Prometheus text format, sorted so
// that the output is deterministic.
func writeText(w io.Writer, workloads map[workloadKey]*workload) {
	keys := make([]workloadKey, 0, len(workloads))
	for k := range workloads {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b workloadKey) int {
		return cmp.Or(cmp.Compare(a.namespace, b.namespace), cmp.Compare(a.name, b.name))
	})

	fmt.Fprintf(w, "# HELP %s Total number of requests.\n# TYPE %s counter\n", requestsTotal, requestsTotal)
	for _, k := range keys {
		c := workloads[k].counters
		fmt.Fprintf(w, "%s{%s,response_code=\"200\"} %s\n", requestsTotal, labels(k), num(c.ok))
		fmt.Fprintf(w, "%s{%s,response_code=\"500\"} %s\n", requestsTotal, labels(k), num(c.errors))
	}

	fmt.Fprintf(w, "# HELP %s Request duration in milliseconds.\n# TYPE %s histogram\n", requestDuration, requestDuration)
	for _, k := range keys {
		c, l := workloads[k].counters, labels(k)
		for i, bound := range bucketBounds {
			fmt.Fprintf(w, "%s_bucket{%s,le=\"%s\"} %s\n", requestDuration, l, num(bound), num(c.buckets[i]))
		}
		fmt.Fprintf(w, "%s_bucket{%s,le=\"+Inf\"} %s\n", requestDuration, l, num(c.count))
		fmt.Fprintf(w, "%s_sum{%s} %s\n", requestDuration, l, num(c.sumMillis))
		fmt.Fprintf(w, "%s_count{%s} %s\n", requestDuration, l, num(c.count))
	}
	writeAppText(w, keys, workloads)
}

// labels returns the labels that identify a workload's series, as the source-side Envoy of a
// caller reports them.
func labels(k workloadKey) string {
	return fmt.Sprintf(`reporter="source",destination_workload_namespace="%s",destination_workload="%s"`,
		labelEscaper.Replace(k.namespace), labelEscaper.Replace(k.name))
}

// num formats a sample value or bucket bound without an exponent, e.g. 3600000 or 0.5.
func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
