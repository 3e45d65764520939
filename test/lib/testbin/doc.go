// Package testbin finds the binaries that Serin's integration and end-to-end tests run (etcd,
// kube-apiserver, KWOK, Prometheus, ...). hack/testbin.sh builds them and owns their pinned
// versions and cache layout; this package asks it where they are (`hack/testbin.sh path`) rather
// than repeating the versions, and words the error that tells a developer how to build a
// missing one. Nothing is downloaded or built at test time.
package testbin
