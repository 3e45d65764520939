// Package integration tests Serin's API against a real etcd and
// kube-apiserver: the CRD schemas and their validation, the printer columns,
// and the generated clientset and informers. It also runs the operator
// in-process against that API server where the API server's own behaviour
// matters (a namespace being deleted, the order of watch events and
// answers, drift repaired from informer events), playing the parts of the
// kube-controller-manager the tests need.
package integration
