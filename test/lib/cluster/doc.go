// Package cluster starts a throwaway Kubernetes control plane for Serin's integration and
// end-to-end tests: etcd and kube-apiserver, and optionally kube-controller-manager,
// kube-scheduler and KWOK with fake nodes, all as plain processes on free loopback ports. The
// binaries come from the cache that hack/testbin.sh fills; nothing is downloaded at test time.
//
// Child processes are tied to the test binary (they are killed if it dies, even by a panic) and
// are stopped by Cluster.Stop, which StartForTest and Main call for you.
package cluster
