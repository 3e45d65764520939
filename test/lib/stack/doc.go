// Package stack assembles the real-traffic world of `make demo` and the traffic e2e tests: a
// full control plane (test/cluster) whose Nodes are run by the local pod runner
// (test/kubelet), Service networking and DNS (test/servicenet), Traefik as the Gateway API
// implementation, Prometheus with Kubernetes service discovery, and the serin operator. It runs
// inside a sandbox world (test/sandbox): Start refuses to run anywhere else.
package stack
