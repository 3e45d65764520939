// Package install tests Serin's installation as users run it: the kustomize
// directories render, apply (dry-run and for real) on a real control plane,
// and their workloads become Available on KWOK nodes; the operator's RBAC is
// an explicit allow-list and is enough to run the operator; the README's
// install commands run as written; `make build` stamps the version and the
// Dockerfiles package exactly those binaries.
//
// It also gives the e2e suite ServiceAccountKubeconfig, to run the operator
// under the role the manifests ship instead of as a cluster admin. The
// kustomize rendering needs kubectl ($SERIN_KUBECTL, else kubectl on PATH).
package install
