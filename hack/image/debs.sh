#!/usr/bin/env bash
# Downloads Debian packages and what they depend on (not recommends) into a
# directory and prints the .deb paths, for the load tester image's layer:
#   hack/image/debs.sh _output/debs bash curl libtinfo6
# apt resolves against this machine's release and lists; the files are the
# image's inputs, so the same files give the same digest (hack/image lists
# them in the history). Pre-Depends are left out: they pull in dpkg, tar and
# awk, which an image without dpkg does not run; name a pre-dependency a
# program needs (bash's libtinfo6) on the command line. hack/image refuses
# packages whose programs miss a library, so a missing name fails the build.
# With -n, only the named packages (the CA certificates, whose bundle
# hack/image reads from the package, need none of their dependencies).
set -euo pipefail
nodeps=
if [ "${1:-}" = -n ]; then nodeps=1; shift; fi
dir=${1:-}; shift || true
[ $# -gt 0 ] || { echo "usage: $0 [-n] DIR PACKAGE..." >&2; exit 2; }
mkdir -p "$dir"
cd "$dir"

# resolve sets want to package=version for the closure over Depends, one
# apt-cache call per level. An alternative (A | B) is not followed: Debian's
# alternatives name tools for maintainer scripts (grep's "dpkg |
# install-info"), never a library a program loads.
resolve() {
	local pkgs=" " todo="$*" next d p v
	while [ -n "$todo" ] && [ -z "$nodeps" ]; do
		for p in $todo; do pkgs="$pkgs$p "; done
		next=
		for d in $(apt-cache depends --no-recommends --no-suggests --no-conflicts --no-breaks \
			--no-replaces --no-enhances --no-pre-depends $todo |
			awk '/^ +\|/ {skip=1; next} skip {skip=0; next} /^ +Depends: [^<]/ {print $2}' | sort -u); do
			case "$pkgs$next " in *" $d "*) ;; *) next="$next $d " ;; esac
		done
		todo=$next
	done
	[ -z "$nodeps" ] || pkgs=" $* "
	# One apt-cache call for all versions: each costs seconds on a busy machine.
	want=()
	while read -r p v; do
		[ -n "$v" ] && [ "$v" != "(none)" ] || { echo "debs.sh: $p has no installable version" >&2; return 1; }
		want+=("$p=$v")
	done < <(apt-cache policy $pkgs | awk '/^[^ ]/ {sub(":$", "", $1); p=$1} /^  Candidate:/ {print p, $2}')
	for p in "$@"; do
		case " ${want[*]} " in *" $p="*) ;; *) echo "debs.sh: no package $p here" >&2; return 1 ;; esac
	done
}

# file is the name apt-get download gives package=version (an epoch's colon
# is escaped), without the architecture.
file() { printf '%s_%s' "${1%%=*}" "$(printf %s "${1#*=}" | sed 's/:/%3a/')"; }

# fetch downloads the packages not already here.
fetch() {
	local missing=() pv
	for pv in "${want[@]}"; do
		compgen -G "$(file "$pv")_*.deb" >/dev/null || missing+=("$pv")
	done
	[ ${#missing[@]} -eq 0 ] || apt-get download -qq -o APT::Sandbox::User=root "${missing[@]}" >&2
}

# Lists from before the mirror's last update name versions it no longer
# has (or none, before the first `apt-get update`): refresh once and retry.
if ! { resolve "$@" && fetch; }; then
	echo "debs.sh: refreshing the package lists (apt-get update)" >&2
	apt-get update -qq >&2
	resolve "$@"
	fetch
fi
for pv in "${want[@]}"; do
	ls "$PWD/$(file "$pv")"_*.deb
done
