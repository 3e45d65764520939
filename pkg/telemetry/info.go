package telemetry

import "github.com/prometheus/client_golang/prometheus"

// Info returns flagger_info{version, mesh_provider}, always 1.
func Info(version, meshProvider string) prometheus.Collector {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "flagger_info",
		Help: "Build and configuration of the operator (always 1).",
	}, []string{"version", "mesh_provider"})
	g.WithLabelValues(version, meshProvider).Set(1)
	return g
}
