#!/usr/bin/env bash
# Downloads Debian packages and what they depend on (not recommends) into a
# directory and prints the .deb paths, for the load tester image's layer:
#   hack/image/debs.sh _output/debs bash curl libtinfo6
# apt resolves against this machine's release and lists; the files are the
# image's inputs, so the same files give the same digest (hack/image lists
# them in the history). Pre-Depends are left out: they pull in dpkg, tar and
# awk, which an image without dpkg does not run; name a pre-dependency a
# program needs (bash's libtinfo6) on the command line. hack/image refuses packages
# whose programs miss a library, so a missing name fails the build.
set -euo pipefail
dir=$1; shift
[ $# -gt 0 ] || { echo "usage: $0 DIR PACKAGE..." >&2; exit 2; }
mkdir -p "$dir"
cd "$dir"

# apt-cache prints nothing useful before the first `apt-get update` on a
# fresh machine; refresh once when a package has no candidate.
if ! apt-cache policy "$1" 2>/dev/null | grep -q 'Candidate: [^(]'; then
	apt-get update -qq >&2
fi
# The closure over Depends, one apt-cache call per level. An alternative
# (A | B) is not followed: Debian's alternatives name tools for maintainer
# scripts (grep's "dpkg | install-info"), never a library a program loads.
pkgs=" "
todo="$*"
while [ -n "$todo" ]; do
	for p in $todo; do pkgs="$pkgs$p "; done
	next=
	for d in $(apt-cache depends --no-recommends --no-suggests --no-conflicts --no-breaks \
		--no-replaces --no-enhances --no-pre-depends $todo |
		awk '/^ +\|/ {skip=1; next} skip {skip=0; next} /^ +Depends: [^<]/ {print $2}' | sort -u); do
		case "$pkgs$next " in *" $d "*) ;; *) next="$next $d " ;; esac
	done
	todo=$next
done
# Versions pin what is downloaded and name the files; a cached file is
# reused. One apt-cache call for all: each costs seconds on a busy machine.
want=()
while read -r p v; do
	[ -n "$v" ] && [ "$v" != "(none)" ] || { echo "debs.sh: $p has no installable version" >&2; exit 1; }
	want+=("$p=$v")
done < <(apt-cache policy $pkgs | awk '/^[^ ]/ {sub(":$", "", $1); p=$1} /^  Candidate:/ {print p, $2}')
missing=()
for pv in "${want[@]}"; do
	compgen -G "${pv%%=*}_${pv#*=}_*.deb" >/dev/null || compgen -G "${pv%%=*}_$(printf %s "${pv#*=}" | sed 's/:/%3a/')_*.deb" >/dev/null || missing+=("$pv")
done
if [ ${#missing[@]} -gt 0 ]; then
	apt-get download -qq "${missing[@]}" >&2
fi
for pv in "${want[@]}"; do
	v=$(printf %s "${pv#*=}" | sed 's/:/%3a/')
	ls "$PWD/${pv%%=*}_${v}"_*.deb
done
