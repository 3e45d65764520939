#!/usr/bin/env bash
# demo.sh is `make demo`: Flagger's Gateway API tutorial end to end on this machine, with real
# traffic through Traefik, in a network namespace of its own (see test/demo and test/lib/stack).
#
# Usage: hack/demo.sh up       build what is missing (with progress), then run the tutorial and
#                              leave the stack up; Ctrl-C stops everything
#        hack/demo.sh down     stop the stack that `up` left running
#        hack/demo.sh CMD...   run CMD in the stack's namespaces with its KUBECONFIG, e.g.
#                              hack/demo.sh kubectl get canaries -A
#
# Needs root (network namespaces), iproute2, and kubectl for `kubectl kustomize`.
set -euo pipefail
cd "$(dirname "$0")/.."

DIR=${SERIN_DEMO_DIR:-${TMPDIR:-/tmp}/serin-demo}
BIN=_output/bin
# The images the tutorial uses; podinfo@TAG is podinfo reporting TAG as its version.
PODINFO_TAGS=(podinfo@6.0.0 podinfo@6.0.1 podinfo@6.0.2)

log() { printf '%s demo: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# missing prints the test binaries that are not built yet, with their cold build time on 2 cores.
missing() {
	local k v
	declare -A dirs
	while IFS='=' read -r k v; do dirs[$k]=$v; done < <(hack/testbin.sh path 2>/dev/null)
	[ -x "${dirs[SERIN_ETCD_DIR]}/etcd" ] || echo "etcd (~1 min)"
	[ -x "${dirs[SERIN_KUBERNETES_DIR]}/kube-apiserver" ] || echo "Kubernetes v1.37 control plane (~7 min)"
	[ -x "${dirs[SERIN_KWOK_DIR]}/kwok" ] || echo "kwok (~1 min)"
	[ -x "${dirs[SERIN_PROMETHEUS_DIR]}/prometheus" ] || echo "Prometheus (~4.5 min)"
	[ -x "${dirs[SERIN_TRAEFIK_DIR]}/traefik" ] || echo "Traefik (~5 min, 3.4 GB of RAM)"
	[ -x "${dirs[SERIN_PODINFO_DIR]}/podinfo" ] || echo "podinfo (~30 s)"
}

up() {
	[ "$(id -u)" = 0 ] || die "the demo creates network namespaces: run it as root"
	command -v ip >/dev/null || die "iproute2 (ip) is not installed"
	command -v kubectl >/dev/null || die "kubectl is needed for 'kubectl kustomize'"
	local start todo
	start=$(date +%s)
	todo=$(missing)
	if [ -n "$todo" ]; then
		log "first run: building from the Go module proxy into ~/.cache/serin/testbin:"
		sed 's/^/    /' <<<"$todo" >&2
		log "that is about 19 minutes on 2 cores when nothing is cached; later runs skip it"
	fi
	hack/testbin.sh all prometheus traefik podinfo "${PODINFO_TAGS[@]}" >/dev/null
	log "building the demo driver"
	go build -o "$BIN/demo" ./test/demo
	log "ready to run after $(($(date +%s) - start))s; the tutorial takes about 4 minutes"
	"$BIN/demo" up -dir "$DIR" -serin "$BIN/serin" -loadtester "$BIN/loadtester"
	log "make demo took $(($(date +%s) - start))s"
	# The release as kubectl serin shows it, and why its last run rolled back.
	log "kubectl serin get podinfo -n test"
	# An absolute path: the command runs in the stack's mount namespace.
	"$0" "$PWD/$BIN/kubectl-serin" get podinfo -n test
	log "kubectl serin explain podinfo -n test"
	"$0" "$PWD/$BIN/kubectl-serin" explain podinfo -n test
}

case ${1:-} in
up) up ;;
down) if [ -x "$BIN/demo" ]; then "$BIN/demo" down -dir "$DIR"; else go run ./test/demo down -dir "$DIR"; fi ;;
"" | -h | --help) sed -n '2,12s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
*)
	[ -f "$DIR/demo.pid" ] && kill -0 "$(cat "$DIR/demo.pid")" 2>/dev/null || die "no demo is running (make demo)"
	exec nsenter -t "$(cat "$DIR/demo.pid")" -n -m env KUBECONFIG="$DIR/kubeconfig" "$@"
	;;
esac
