// Package install tests Serin's installation as users run it: the kustomize
// directories render, apply (dry-run and for real) on a real control plane,
// and their workloads become Available on KWOK nodes; the operator's RBAC is
// an explicit allow-list and is enough to run the operator; the README's
// install commands run as written; `make build` stamps the version and the
// Dockerfiles package exactly those binaries.
//
// The helpers other suites share with it are in test/lib/installer.
package install
