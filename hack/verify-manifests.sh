#!/usr/bin/env bash
# Fails when a copy of a manifest is stale: the CRDs of the kustomize base and of the Helm chart
# must be those of artifacts/ (kubectl apply -k and helm install would install stale schemas), and
# the chart's RBAC rules those of the kustomize base. Run `make manifests`.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
status=0
check() {
	if ! diff -u "$root/$1" "$root/$2"; then
		echo "$2 differs from $1: run make manifests" >&2
		status=1
	fi
}
check artifacts/flagger/crd.yaml kustomize/base/crd.yaml
check artifacts/flagger/crd.yaml artifacts/charts/serin/files/crd.yaml
check kustomize/base/rbac.yaml artifacts/charts/serin/files/rbac.yaml
exit $status
