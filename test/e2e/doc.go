// Package e2e runs the tutorial's scenarios end to end: the serin binary
// against a real control plane (etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler, KWOK nodes) and a real Prometheus that scrapes a test
// exporter of Istio-style series, with the seed manifests as inputs. Each
// scenario has its own file and namespace and runs in parallel with the
// others.
package e2e
