#!/usr/bin/env bash
# Fails when the generated code or the CRDs are stale: regenerates them in a
# copy of the tree and compares with what is checked in.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
copy=$(mktemp -d)
trap 'rm -rf "$copy"' EXIT

tar -C "$root" --exclude=.git -cf - . | tar -C "$copy" -xf -
"$copy/hack/update-codegen.sh" >/dev/null

status=0
for path in pkg/client pkg/apis artifacts/flagger; do
	if ! diff -ruN "$root/$path" "$copy/$path"; then
		status=1
	fi
done
if [ "$status" != 0 ]; then
	echo "generated code is stale: run hack/update-codegen.sh" >&2
fi
exit "$status"
