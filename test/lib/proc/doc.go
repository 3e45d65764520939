// Package proc runs the long-lived child processes of Serin's tests (etcd, kube-apiserver,
// Prometheus, the serin binary): it starts a binary with its output going to a log file, stops it
// with SIGTERM and then SIGKILL, and quotes the tail of that log in error messages. On Linux every
// child gets a parent-death signal and is forked from one OS thread that lives as long as the
// test binary, so that a child dies with the test binary (a panic, a test timeout, SIGKILL) and
// not earlier; Spawn does the same for an exec.Cmd the caller builds itself (namespaces, pipes,
// its own waiting), and is the one way a test program should start a child that must not
// outlive it.
package proc
