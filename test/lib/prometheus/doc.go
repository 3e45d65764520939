// Package prometheus runs a real Prometheus server for Serin's end-to-end tests: the binary that
// `hack/testbin.sh prometheus` builds, started as a child process on a free loopback port with a
// generated configuration that scrapes the given targets every second, and stopped (its data
// directory removed) by Server.Stop. Children are killed with the test binary should it die.
// Nothing is downloaded or built at test time: a missing binary is an error naming the command
// that builds it.
package prometheus
