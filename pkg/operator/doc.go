// Package operator wires a complete Serin operator from a *rest.Config: the
// clients, the shared informers, the routers, the workload, notifier, metrics
// and webhook plugins, the event recorder and the controller. cmd/serin adds
// only flags, leader election and the HTTP endpoints around it; tests start
// real operators in-process with New and Run, against any API server whose
// rest.Config they control (a wrapped transport, a fake clock).
package operator
