#!/usr/bin/env bash
# Fails when the CRDs of the kustomize base are not those of artifacts/
# (kubectl apply -k would install stale schemas): run `make manifests`.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if ! diff -u "$root/artifacts/flagger/crd.yaml" "$root/kustomize/base/crd.yaml"; then
	echo "kustomize/base/crd.yaml differs from artifacts/flagger/crd.yaml: run make manifests" >&2
	exit 1
fi
