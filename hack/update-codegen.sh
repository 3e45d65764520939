#!/usr/bin/env bash
# Regenerates deepcopy functions, the typed clientset, listers, informers and
# the CRDs from the types in pkg/apis. The generators are pinned in go.mod
# (hack/tools.go) and build offline from the module cache.
# hack/verify-codegen.sh runs it on a copy of the tree and compares.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$root
module=github.com/serin-dev/serin
apis=$module/pkg/apis/flagger/v1beta1
header=$root/hack/boilerplate.go.txt

tools=$(mktemp -d)
trap 'rm -rf "$tools"' EXIT
cd "$root"
for gen in deepcopy-gen client-gen lister-gen informer-gen; do
	go build -o "$tools/$gen" "k8s.io/code-generator/cmd/$gen"
done
go build -o "$tools/controller-gen" sigs.k8s.io/controller-tools/cmd/controller-gen

# Generated files are removed first so that a deleted type leaves nothing behind.
rm -rf "$out/pkg/client"
rm -f "$out/pkg/apis/flagger/v1beta1/zz_generated.deepcopy.go"

"$tools/deepcopy-gen" --go-header-file "$header" \
	--output-file zz_generated.deepcopy.go "$apis"

"$tools/client-gen" --go-header-file "$header" \
	--clientset-name versioned \
	--input-base "$module/pkg/apis" --input flagger/v1beta1 \
	--output-dir "$out/pkg/client/clientset" --output-pkg "$module/pkg/client/clientset"
"$tools/lister-gen" --go-header-file "$header" \
	--output-dir "$out/pkg/client/listers" --output-pkg "$module/pkg/client/listers" "$apis"
"$tools/informer-gen" --go-header-file "$header" \
	--versioned-clientset-package "$module/pkg/client/clientset/versioned" \
	--listers-package "$module/pkg/client/listers" \
	--output-dir "$out/pkg/client/informers" --output-pkg "$module/pkg/client/informers" "$apis"

# One CRD file per kind, then concatenated in Flagger's order into the single
# artifacts/flagger/crd.yaml that users and kustomize apply.
crds=$(mktemp -d)
trap 'rm -rf "$tools" "$crds"' EXIT
"$tools/controller-gen" crd:allowDangerousTypes=true \
	paths=./pkg/apis/... output:crd:dir="$crds"
mkdir -p "$out/artifacts/flagger"
{
	for kind in canaries metrictemplates alertproviders; do
		echo "---"
		cat "$crds/flagger.app_$kind.yaml"
	done
} | sed '1{/^---$/d}' > "$out/artifacts/flagger/crd.yaml"
