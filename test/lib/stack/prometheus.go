package stack

import (
	"encoding/json"
	"time"

	"github.com/prometheus/common/model"
)

// prometheusConfig scrapes Traefik, and every Pod annotated prometheus.io/scrape through
// Kubernetes service discovery, relabelled as Flagger's bundled Prometheus does
// (kubernetes_namespace, kubernetes_pod_name, the Pod's labels), so that the builtin
// request-success-rate and request-duration find the canary's own metrics. JSON is YAML.
func prometheusConfig(kubeconfig, traefikMetrics string, interval time.Duration) ([]byte, error) {
	d := model.Duration(interval).String()
	type m = map[string]any
	cfg := m{
		"global": m{"scrape_interval": d, "scrape_timeout": d, "evaluation_interval": d},
		"scrape_configs": []m{
			{"job_name": "traefik", "static_configs": []m{{"targets": []string{traefikMetrics}}}},
			{
				"job_name":              "kubernetes-pods",
				"kubernetes_sd_configs": []m{{"role": "pod", "kubeconfig_file": kubeconfig}},
				"relabel_configs": []m{
					{"action": "keep", "regex": "true", "source_labels": []string{"__meta_kubernetes_pod_annotation_prometheus_io_scrape"}},
					{"action": "replace", "regex": "(.+)", "source_labels": []string{"__meta_kubernetes_pod_annotation_prometheus_io_path"}, "target_label": "__metrics_path__"},
					{
						"action": "replace", "regex": `([^:]+)(?::\d+)?;(\d+)`, "replacement": "$1:$2",
						"source_labels": []string{"__address__", "__meta_kubernetes_pod_annotation_prometheus_io_port"},
						"target_label":  "__address__",
					},
					{"action": "labelmap", "regex": "__meta_kubernetes_pod_label_(.+)"},
					{"action": "replace", "source_labels": []string{"__meta_kubernetes_namespace"}, "target_label": "kubernetes_namespace"},
					{"action": "replace", "source_labels": []string{"__meta_kubernetes_pod_name"}, "target_label": "kubernetes_pod_name"},
				},
			},
		},
	}
	return json.MarshalIndent(cfg, "", "  ")
}
