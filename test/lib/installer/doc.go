// Package installer installs Serin on a test control plane as users do:
// it renders the kustomize directories with kubectl, applies the operator's
// RBAC, and gives suites a kubeconfig that acts as the operator's
// ServiceAccount, so that they run the operator under the role the
// manifests ship instead of as a cluster admin. The kustomize rendering
// needs kubectl ($SERIN_KUBECTL, else kubectl on PATH); the Helm chart's
// (RenderChart, RunHelm) the helm that `hack/testbin.sh helm` builds.
package installer
