package metricsexporter

import (
	"fmt"
	"io"
)

// appRequestDuration is the histogram podinfo exports about itself, which Serin's builtin
// request-success-rate and request-duration metrics read (flagger-behaviour.md §4.10).
const appRequestDuration = "http_request_duration_seconds"

// appBucketBounds are the upper bounds in seconds of podinfo's histogram (client_golang's
// default buckets); the +Inf bucket is implied.
var appBucketBounds = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// appPodSuffix stands for a pod's ReplicaSet and pod hashes: a workload's series are those of
// one pod named <workload>-<hashes>, as Prometheus' Kubernetes service discovery would label
// them. The builtin queries' pod regex <target>-[0-9a-zA-Z]+(-[0-9a-zA-Z]+) then matches the
// canary's pods and not <target>-primary-....
const appPodSuffix = "-6b7f9c8d5-x4k2p"

// appStatuses are the status label values: index 0 for the successful requests, 1 for the
// 500s.
var appStatuses = [2]string{"200", "500"}

// histogram is a cumulative histogram over fixed bounds.
type histogram struct {
	// buckets[i] counts observations at or below bounds[i]; count doubles as +Inf.
	buckets []float64
	sum     float64
	count   float64
}

func newHistogram(bounds []float64) histogram {
	return histogram{buckets: make([]float64, len(bounds))}
}

// observe records n observations of value.
func (h *histogram) observe(bounds []float64, n, value float64) {
	for i, bound := range bounds {
		if value <= bound {
			h.buckets[i] += n
		}
	}
	h.sum += n * value
	h.count += n
}

// writeAppText writes podinfo's http_request_duration_seconds histogram of every workload, by
// status.
func writeAppText(w io.Writer, keys []workloadKey, workloads map[workloadKey]*workload) {
	fmt.Fprintf(w, "# HELP %s Seconds spent serving HTTP requests.\n# TYPE %s histogram\n", appRequestDuration, appRequestDuration)
	for _, k := range keys {
		for i, status := range appStatuses {
			h := workloads[k].app[i]
			l := fmt.Sprintf(`kubernetes_namespace="%s",kubernetes_pod_name="%s",status="%s"`,
				labelEscaper.Replace(k.namespace), labelEscaper.Replace(k.name+appPodSuffix), status)
			for j, bound := range appBucketBounds {
				fmt.Fprintf(w, "%s_bucket{%s,le=\"%s\"} %s\n", appRequestDuration, l, num(bound), num(h.buckets[j]))
			}
			fmt.Fprintf(w, "%s_bucket{%s,le=\"+Inf\"} %s\n", appRequestDuration, l, num(h.count))
			fmt.Fprintf(w, "%s_sum{%s} %s\n", appRequestDuration, l, num(h.sum))
			fmt.Fprintf(w, "%s_count{%s} %s\n", appRequestDuration, l, num(h.count))
		}
	}
}
