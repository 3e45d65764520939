// Package integration tests Serin's API against a real etcd and
// kube-apiserver: the CRD schemas and their validation, the printer columns,
// and the generated clientset and informers.
package integration
