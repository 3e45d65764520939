package loadtester

import "github.com/prometheus/client_golang/prometheus"

// metrics are the load tester's own series; they live on the registry the
// caller passes, never the global one.
type metrics struct {
	commands   *prometheus.CounterVec
	failures   *prometheus.CounterVec
	denied     *prometheus.CounterVec
	skipped    prometheus.Counter
	running    prometheus.Gauge
	gateChecks *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "serin_loadtester_commands_total",
			Help: "Commands started, by task type (cmd, hey, bash, kubectl, helm).",
		}, []string{"type"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "serin_loadtester_command_failures_total",
			Help: "Commands that failed or timed out, by task type.",
		}, []string{"type"}),
		// A refusal is worth an alert: either a canary's hook lost a
		// command it needs, or someone probes the load tester.
		denied: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "serin_loadtester_commands_denied_total",
			Help: "Commands refused by -allow-cmd, by task type (cmd, bash, kubectl, helm).",
		}, []string{"type"}),
		skipped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "serin_loadtester_commands_skipped_total",
			Help: "Asynchronous commands not started because the same command of the same canary was still running.",
		}),
		running: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "serin_loadtester_commands_running",
			Help: "Commands running now.",
		}),
		gateChecks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "serin_loadtester_gate_checks_total",
			Help: "Gate checks answered, by gate kind (gate, rollback) and result (open, closed).",
		}, []string{"kind", "result"}),
	}
	reg.MustRegister(m.commands, m.failures, m.denied, m.skipped, m.running, m.gateChecks)
	return m
}
