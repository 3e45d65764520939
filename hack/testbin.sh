#!/usr/bin/env bash
# testbin.sh builds the pinned binaries that Serin's integration and e2e tests run (etcd,
# kube-apiserver, ...) from the Go module proxy into a cache keyed by component and version, and
# skips whatever is already there. test/lib/cluster finds them through `testbin.sh path`.
#
# Usage: hack/testbin.sh [core|all|path|NAME...]      (default: core)
#   core   etcd + kube-apiserver + keda-crd (integration tests)
#   all    core + kube-controller-manager + kube-scheduler + kwok (e2e tests)
#   path   print KEY=VALUE lines with the cache directories (for the Go harness and make)
#   NAME   etcd kube-apiserver kube-controller-manager kube-scheduler kubernetes kwok prometheus
#          traefik podinfo   (the real-traffic tier: make demo, make test-e2e-traffic)
#          flagger           Flagger itself, the operator Serin re-implements (make bench-compare)
#          victoriametrics   a Graphite render API fed by the carbon plaintext protocol (test/graphite)
#          keda-crd          KEDA's ScaledObject CRD, copied from the kedacore/keda/v2 module
#          helm              the Helm CLI that renders and installs artifacts/charts/serin
#          podinfo@TAG       podinfo reporting TAG as its version, as the image of that tag would
#                            (podinfo-6.9.2/versions/TAG/podinfo; seconds once podinfo is built)
#
# Cache: ${SERIN_TESTBIN:-${XDG_CACHE_HOME:-$HOME/.cache}/serin/testbin}, e.g.
#   etcd-v3.6.16/etcd  kubernetes-v1.37.2/kube-apiserver  kwok-v0.8.0/{kwok,stages/*.yaml}
# Scratch modules (one per component, so no tool's dependency versions leak into another's)
# live in .mods/ under the same directory.
set -euo pipefail

ETCD_VERSION=v3.6.16
K8S_VERSION=v1.37.2
KWOK_VERSION=v0.8.0
PROMETHEUS_VERSION=v0.316.0
TRAEFIK_VERSION=v3.6.12
# podinfo's go.mod has no /v6, so the proxy knows it only by pseudo-version; this one is 6.9.2.
PODINFO_VERSION=v1.8.1-0.20250910200901-e86405a8674e
PODINFO_RELEASE=6.9.2
FLAGGER_VERSION=v1.44.0
# VictoriaMetrics serves the Graphite render API and takes carbon's plaintext protocol; the Go
# Graphite servers (go-graphite/go-carbon, go-graphite/carbonapi) are not on the module proxy.
VICTORIAMETRICS_VERSION=v1.151.0
# The last KEDA whose go.mod this Go (1.26) accepts, so that `go mod download` extracts it.
KEDA_VERSION=v2.20.2
HELM_VERSION=v4.3.2

DIR=${SERIN_TESTBIN:-${XDG_CACHE_HOME:-$HOME/.cache}/serin/testbin}
case $DIR in /*) ;; *) DIR=$PWD/$DIR ;; esac
ETCD_DIR=$DIR/etcd-$ETCD_VERSION
K8S_DIR=$DIR/kubernetes-$K8S_VERSION
KWOK_DIR=$DIR/kwok-$KWOK_VERSION
PROMETHEUS_DIR=$DIR/prometheus-$PROMETHEUS_VERSION
TRAEFIK_DIR=$DIR/traefik-$TRAEFIK_VERSION
PODINFO_DIR=$DIR/podinfo-$PODINFO_RELEASE
FLAGGER_DIR=$DIR/flagger-$FLAGGER_VERSION
VICTORIAMETRICS_DIR=$DIR/victoriametrics-$VICTORIAMETRICS_VERSION
KEDA_DIR=$DIR/keda-$KEDA_VERSION
HELM_DIR=$DIR/helm-$HELM_VERSION
K8S_CMDS=(kube-apiserver kube-controller-manager kube-scheduler)
# The kwok stages that make fake nodes Ready and pods Running/Completed/deleted at once.
KWOK_STAGES=(node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml
	pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml)

# One set of build flags for every tool: CGO_ENABLED and -trimpath are part of Go's build cache
# key, so mixing settings would compile everything twice.
export CGO_ENABLED=0 GOWORK=off
GO_BUILD_FLAGS=(-trimpath)
LDFLAGS_BASE="-s -w"

log() { printf '%s testbin: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() { sed -n '2,17s/^# \{0,1\}//p' "$0" >&2; exit 2; }

print_paths() {
	printf 'SERIN_TESTBIN=%s\n' "$DIR"
	printf 'SERIN_ETCD_DIR=%s\n' "$ETCD_DIR"
	printf 'SERIN_KUBERNETES_DIR=%s\n' "$K8S_DIR"
	printf 'SERIN_KWOK_DIR=%s\n' "$KWOK_DIR"
	printf 'SERIN_PROMETHEUS_DIR=%s\n' "$PROMETHEUS_DIR"
	printf 'SERIN_TRAEFIK_DIR=%s\n' "$TRAEFIK_DIR"
	printf 'SERIN_PODINFO_DIR=%s\n' "$PODINFO_DIR"
	printf 'SERIN_FLAGGER_DIR=%s\n' "$FLAGGER_DIR"
	printf 'SERIN_VICTORIAMETRICS_DIR=%s\n' "$VICTORIAMETRICS_DIR"
	printf 'SERIN_KEDA_DIR=%s\n' "$KEDA_DIR"
	printf 'SERIN_HELM_DIR=%s\n' "$HELM_DIR"
}

# quiet CMD...: run a module command with its chatter (hundreds of "go: added" lines) sent to
# a log in the scratch module, shown only if it fails.
quiet() {
	if ! "$@" >go-cmd.log 2>&1; then
		cat go-cmd.log >&2
		die "failed: $*"
	fi
}

# scratch NAME: cd into the scratch module NAME (created on first use).
scratch() {
	local d=$DIR/.mods/$1
	mkdir -p "$d"
	cd "$d"
	[ -f go.mod ] || printf 'module serin.test/testbin/%s\n\ngo 1.26.0\n' "${1%%-v*}" >go.mod
}

# gobuild OUT PKG [LDFLAGS]: build PKG into OUT via a temporary file, so that an interrupted
# build never leaves a half-written binary behind.
gobuild() {
	local out=$1 pkg=$2 tmp
	mkdir -p "$(dirname "$out")"
	tmp=$(mktemp "$out.tmp.XXXXXX")
	if ! go build "${GO_BUILD_FLAGS[@]}" -ldflags "$LDFLAGS_BASE ${3:-}" -o "$tmp" "$pkg"; then
		rm -f "$tmp"
		return 1
	fi
	chmod 0755 "$tmp"
	mv -f "$tmp" "$out"
}

# timed LABEL ESTIMATE CMD...: run CMD and report how long it took against the cold estimate.
timed() {
	local label=$1 estimate=$2 start
	shift 2
	start=$(date +%s)
	log "$label: building (cold: $estimate on 2 cores; seconds with a warm Go build cache)"
	"$@"
	log "$label: done in $(($(date +%s) - start))s"
}

build_etcd() {
	local bin=$ETCD_DIR/etcd
	if [ -x "$bin" ]; then log "etcd $ETCD_VERSION: cached"; return; fi
	timed "etcd $ETCD_VERSION" "~1 min" _build_etcd "$bin"
}

_build_etcd() {
	(scratch "etcd-$ETCD_VERSION" &&
		quiet go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" &&
		gobuild "$1" go.etcd.io/etcd/server/v3)
}

# k8s_module writes the tools module for k8s.io/kubernetes: every staging module it requires at
# v0.0.0 (=> ./staging/...) is replaced by its published v0.X.Y twin.
k8s_module() {
	local modfile staging=v0.${K8S_VERSION#v1.}
	modfile=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
	[ -f "$modfile" ] || die "cannot find go.mod of k8s.io/kubernetes@$K8S_VERSION"
	{
		printf 'module serin.test/testbin/kubernetes\n\ngo 1.26.0\n\nrequire k8s.io/kubernetes %s\n\nreplace (\n' "$K8S_VERSION"
		# Only modules that kubernetes requires: the sample-* ones it merely replaces are unpublished.
		awk -v sv="$staging" '
			$1 ~ /^k8s\.io\// && $2 == "v0.0.0" { required[$1] = 1 }
			$1 ~ /^k8s\.io\// && $2 == "=>" && $3 ~ /^\.\/staging\// { staged[$1] = 1 }
			END { for (m in staged) if (m in required) printf "\t%s => %s %s\n", m, m, sv }
		' "$modfile" | sort
		printf ')\n'
	} >go.mod.in
	cat >tools.go <<-'EOF'
		//go:build tools

		// Package tools pins the Kubernetes commands that testbin.sh builds.
		package tools

		import (
			_ "k8s.io/kubernetes/cmd/kube-apiserver"
			_ "k8s.io/kubernetes/cmd/kube-controller-manager"
			_ "k8s.io/kubernetes/cmd/kube-scheduler"
		)
	EOF
	# go mod tidy takes ~20 s; redo it only when the generated module changed.
	if [ -f go.sum ] && [ -f go.mod.done ] && cmp -s go.mod.in go.mod.done; then return; fi
	cp go.mod.in go.mod
	quiet go mod tidy
	cp go.mod.in go.mod.done
}

build_kubernetes() {
	local missing=() c minor
	for c in "$@"; do [ -x "$K8S_DIR/$c" ] || missing+=("$c"); done
	if [ ${#missing[@]} -eq 0 ]; then log "kubernetes $K8S_VERSION ($*): cached"; return; fi
	minor=$(echo "$K8S_VERSION" | cut -d. -f2)
	# Without these /version reports v0.0.0-master, which trips clients that parse it.
	local ldf="-X k8s.io/component-base/version.gitVersion=$K8S_VERSION"
	ldf+=" -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
	ldf+=" -X k8s.io/component-base/version.gitTreeState=clean"
	ldf+=" -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION"
	ldf+=" -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
	(
		scratch "kubernetes-$K8S_VERSION"
		log "kubernetes $K8S_VERSION: preparing the tools module (~30 s cold)"
		k8s_module
		for c in "${missing[@]}"; do
			# kube-apiserver compiles most shared packages; the others reuse them.
			case $c in
			kube-apiserver) est="~4-5 min" ;;
			kube-controller-manager) est="~1.5 min after kube-apiserver, ~5 min alone" ;;
			*) est="~10 s after kube-apiserver, ~3 min alone" ;;
			esac
			timed "$c $K8S_VERSION" "$est" gobuild "$K8S_DIR/$c" "k8s.io/kubernetes/cmd/$c" "$ldf"
		done
	)
}

build_kwok() {
	local bin=$KWOK_DIR/kwok
	if [ -x "$bin" ]; then
		log "kwok $KWOK_VERSION: cached"
	else
		timed "kwok $KWOK_VERSION" "~1.2 min" _build_kwok "$bin"
	fi
	kwok_stages
}

_build_kwok() {
	(scratch "kwok-$KWOK_VERSION" &&
		quiet go get "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" &&
		gobuild "$1" sigs.k8s.io/kwok/cmd/kwok)
}

# kwok_stages copies the stage definitions kwok needs from the module zip, so that the harness
# finds them offline and without a module cache lookup.
kwok_stages() {
	local s src dst=$KWOK_DIR/stages missing=0
	for s in "${KWOK_STAGES[@]}"; do [ -f "$dst/$(basename "$s")" ] || missing=1; done
	[ $missing = 1 ] || return 0
	src=$(cd "$DIR" && go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[ -d "$src/kustomize/stage" ] || die "no kustomize/stage in sigs.k8s.io/kwok@$KWOK_VERSION"
	mkdir -p "$dst"
	for s in "${KWOK_STAGES[@]}"; do
		install -m 0644 "$src/kustomize/stage/$s" "$dst/$(basename "$s")"
	done
	log "kwok $KWOK_VERSION: copied ${#KWOK_STAGES[@]} stage files to $dst"
}

# keda_crd copies KEDA's ScaledObject CRD from its module, pinned like the binaries, so that
# the tests load the CRD KEDA ships rather than a hand-made copy (test/crash, test/integration).
keda_crd() {
	local src crd=keda.sh_scaledobjects.yaml
	if [ -f "$KEDA_DIR/$crd" ]; then log "keda $KEDA_VERSION CRD: cached"; return; fi
	src=$(cd "$DIR" && go mod download -json "github.com/kedacore/keda/v2@$KEDA_VERSION" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[ -f "$src/config/crd/bases/$crd" ] || die "no config/crd/bases/$crd in github.com/kedacore/keda/v2@$KEDA_VERSION"
	mkdir -p "$KEDA_DIR"
	install -m 0644 "$src/config/crd/bases/$crd" "$KEDA_DIR/$crd"
	log "keda $KEDA_VERSION: copied $crd to $KEDA_DIR"
}

build_prometheus() {
	local bin=$PROMETHEUS_DIR/prometheus
	if [ -x "$bin" ]; then log "prometheus $PROMETHEUS_VERSION: cached"; return; fi
	timed "prometheus $PROMETHEUS_VERSION" "~4.5 min (and ~3.3 GB RAM)" _build_prometheus "$bin"
}

_build_prometheus() {
	(scratch "prometheus-$PROMETHEUS_VERSION" &&
		quiet go get "github.com/prometheus/prometheus/cmd/prometheus@$PROMETHEUS_VERSION" &&
		gobuild "$1" github.com/prometheus/prometheus/cmd/prometheus \
			"-X github.com/prometheus/common/version.Version=${PROMETHEUS_VERSION#v}")
}

build_traefik() {
	local bin=$TRAEFIK_DIR/traefik
	if [ -x "$bin" ]; then log "traefik $TRAEFIK_VERSION: cached"; return; fi
	timed "traefik $TRAEFIK_VERSION" "~5 min (and ~3.4 GB RAM)" _build_traefik "$bin"
}

# Traefik v3.7 does not build from the module proxy (some of its DNS-provider dependencies answer
# 403 and it needs an unpublished nested module); v3.6.12 does, given the replace directives of
# its own go.mod, which a dependent module must repeat because replaces do not propagate.
_build_traefik() {
	(scratch "traefik-$TRAEFIK_VERSION" &&
		if ! grep -q '^replace' go.mod; then
			cat >>go.mod <<-'EOF'

				replace (
					github.com/abbot/go-http-auth => github.com/containous/go-http-auth v0.4.1-0.20200324110947-a37a7636d23e
					github.com/gorilla/mux => github.com/containous/mux v0.0.0-20250523120546-41b6ec3aed59
					github.com/mailgun/minheap => github.com/containous/minheap v0.0.0-20190809180810-6e71eb837595
				)
			EOF
		fi &&
		quiet go get "github.com/traefik/traefik/v3/cmd/traefik@$TRAEFIK_VERSION" &&
		gobuild "$1" github.com/traefik/traefik/v3/cmd/traefik \
			"-X github.com/traefik/traefik/v3/pkg/version.Version=${TRAEFIK_VERSION#v}")
}

build_podinfo() {
	local bin=$PODINFO_DIR/podinfo
	if [ -x "$bin" ]; then log "podinfo $PODINFO_RELEASE: cached"; return; fi
	timed "podinfo $PODINFO_RELEASE" "~1 min" _build_podinfo "$bin"
}

_build_podinfo() {
	(scratch "podinfo-$PODINFO_RELEASE" &&
		quiet go get "github.com/stefanprodan/podinfo/cmd/podinfo@$PODINFO_VERSION" &&
		gobuild "$1" github.com/stefanprodan/podinfo/cmd/podinfo)
}

# build_podinfo_version TAG: podinfo stamped with TAG as its version. podinfo sets its version
# at build time only, and the pod runner of the real-traffic tier maps podinfo:TAG to this.
build_podinfo_version() {
	local tag=$1 bin
	[[ $tag =~ ^[A-Za-z0-9._-]+$ ]] || die "podinfo@$tag: not an image tag"
	if [ "$tag" = "$PODINFO_RELEASE" ]; then build_podinfo; return; fi
	bin=$PODINFO_DIR/versions/$tag/podinfo
	if [ -x "$bin" ]; then log "podinfo@$tag: cached"; return; fi
	build_podinfo # the module and a warm build cache: only the link is left
	timed "podinfo@$tag" "~5 s once podinfo is built" _build_podinfo_version "$bin" "$tag"
}

_build_podinfo_version() {
	(scratch "podinfo-$PODINFO_RELEASE" &&
		gobuild "$1" github.com/stefanprodan/podinfo/cmd/podinfo \
			"-X github.com/stefanprodan/podinfo/pkg/version.VERSION=$2")
}

build_flagger() {
	local bin=$FLAGGER_DIR/flagger
	if [ -x "$bin" ]; then log "flagger $FLAGGER_VERSION: cached"; return; fi
	timed "flagger $FLAGGER_VERSION" "~5 min" _build_flagger "$bin"
}

# Flagger's version is in its source (pkg/version), so no -X is needed.
_build_flagger() {
	(scratch "flagger-$FLAGGER_VERSION" &&
		quiet go get "github.com/fluxcd/flagger/cmd/flagger@$FLAGGER_VERSION" &&
		gobuild "$1" github.com/fluxcd/flagger/cmd/flagger)
}

build_victoriametrics() {
	local bin=$VICTORIAMETRICS_DIR/victoria-metrics
	if [ -x "$bin" ]; then log "victoriametrics $VICTORIAMETRICS_VERSION: cached"; return; fi
	timed "victoriametrics $VICTORIAMETRICS_VERSION" "~4 min" _build_victoriametrics "$bin"
}

_build_victoriametrics() {
	(scratch "victoriametrics-$VICTORIAMETRICS_VERSION" &&
		quiet go get "github.com/VictoriaMetrics/VictoriaMetrics/app/victoria-metrics@$VICTORIAMETRICS_VERSION" &&
		gobuild "$1" github.com/VictoriaMetrics/VictoriaMetrics/app/victoria-metrics)
}

build_helm() {
	local bin=$HELM_DIR/helm
	if [ -x "$bin" ]; then log "helm $HELM_VERSION: cached"; return; fi
	# Measured: 578 CPU-seconds with an empty Go build cache (~5 min on 2 idle cores, 1.2 GB of
	# cache), 461 once the kubernetes build has compiled the k8s.io modules it shares.
	timed "helm $HELM_VERSION" "~5 min (~4 min after kubernetes)" _build_helm "$bin"
}

# Without the -X, `helm version` and the chart's .Capabilities.HelmVersion say v4.0.0-dev
# (helm's default); the chart does not depend on it, but a bug report should name the truth.
_build_helm() {
	(scratch "helm-$HELM_VERSION" &&
		quiet go get "helm.sh/helm/v4/cmd/helm@$HELM_VERSION" &&
		gobuild "$1" helm.sh/helm/v4/cmd/helm "-X helm.sh/helm/v4/internal/version.version=$HELM_VERSION")
}

main() {
	[ $# -gt 0 ] || set -- core
	local want=() a
	for a in "$@"; do
		case $a in
		path) print_paths; return ;;
		-h | --help | help) usage ;;
		core) want+=(etcd kube-apiserver keda-crd) ;;
		all) want+=(etcd "${K8S_CMDS[@]}" kwok keda-crd) ;;
		kubernetes) want+=("${K8S_CMDS[@]}") ;;
		etcd | kube-apiserver | kube-controller-manager | kube-scheduler | kwok | prometheus | traefik | podinfo | flagger | victoriametrics | keda-crd | helm) want+=("$a") ;;
		podinfo@*) want+=("$a") ;;
		*) log "unknown name: $a"; usage ;;
		esac
	done
	command -v go >/dev/null || die "go is not on PATH"
	mkdir -p "$DIR"
	# Serialise concurrent runs (parallel make targets, CI steps) on the same cache.
	exec 9>"$DIR/.lock"
	if ! flock -n 9; then
		log "waiting for another testbin.sh run to finish (lock: $DIR/.lock)"
		flock 9
	fi

	local start k8s=() w
	wants() { [[ " ${want[*]} " == *" $1 "* ]]; }
	start=$(date +%s)
	log "cache: $DIR"
	for w in "${want[@]}"; do
		case $w in kube-*) [[ " ${k8s[*]} " == *" $w "* ]] || k8s+=("$w") ;; esac
	done
	# A cold run of `all` takes ~9 min on 2 cores; a warm one a second.
	if wants etcd; then build_etcd; fi
	if [ ${#k8s[@]} -gt 0 ]; then build_kubernetes "${k8s[@]}"; fi
	if wants kwok; then build_kwok; fi
	if wants prometheus; then build_prometheus; fi
	if wants podinfo; then build_podinfo; fi
	if wants traefik; then build_traefik; fi
	if wants flagger; then build_flagger; fi
	if wants victoriametrics; then build_victoriametrics; fi
	if wants keda-crd; then keda_crd; fi
	if wants helm; then build_helm; fi
	for w in "${want[@]}"; do
		case $w in podinfo@*) build_podinfo_version "${w#podinfo@}" ;; esac
	done
	log "ready in $(($(date +%s) - start))s"
	print_paths
}

main "$@"
