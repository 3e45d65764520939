// Package graphite runs Serin's graphite metric provider against a real
// Graphite render API: VictoriaMetrics (built by hack/testbin.sh), fed with
// carbon's plaintext protocol. The Go Graphite servers themselves
// (go-carbon, carbonapi) are not on the Go module proxy here.
package graphite
