# Serin's build, test and verification entry points. Test binaries (etcd,
# kube-apiserver, ...) are built once by hack/testbin.sh into a cache outside
# the tree and reused.

GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/serin-dev/serin/pkg/version.Version=$(VERSION)
BUILD_FLAGS := -trimpath -ldflags "$(LDFLAGS)"
# -parallel: e2e scenarios mostly wait on analysis intervals, not on the CPU.
TEST_FLAGS ?= -count=1 -timeout 30m -parallel 16
UNIT_PKGS = $(shell $(GO) list ./... | grep -v -e /test/)
IMAGE_REPO ?= ghcr.io/serin-dev
# The first engine that answers: a docker client without a daemon does not.
# Recursive, so that only `make image` pays for the probe.
CONTAINER_ENGINE ?= $(shell for e in docker podman; do $$e info >/dev/null 2>&1 && echo $$e && break; done)

.PHONY: all build test test-unit test-integration test-e2e testbin verify codegen fmt vet clean
.PHONY: bench bench-compare test-crash test-judge
.PHONY: manifests image image-go image-check
.PHONY: demo demo-down test-e2e-traffic
.PHONY: test-chaos

all: build

build: ## Build the binaries into _output/bin.
	CGO_ENABLED=0 $(GO) build $(BUILD_FLAGS) -o _output/bin/ ./cmd/...

test: testbin ## Unit, integration and e2e tests (the README's test command).
	$(GO) test $(TEST_FLAGS) ./...

test-unit: ## Unit tests only: no binaries needed.
	$(GO) test $(TEST_FLAGS) $(UNIT_PKGS)

test-integration: testbin ## Tests against a real etcd and kube-apiserver.
	$(GO) test $(TEST_FLAGS) ./test/lib/cluster/... ./test/integration/...

# make test runs a sample of test/crash; this runs every kill point.
test-crash: testbin ## Interrupt every write of every release scenario and print the table (test/crash).
	@mkdir -p _output
	SERIN_CRASH_FULL=1 SERIN_CRASH_REPORT=$(CURDIR)/_output/crash-report.txt $(GO) test -count=1 -timeout 120m -parallel 8 ./test/crash/...; \
	status=$$?; cat _output/crash-report.txt 2>/dev/null; exit $$status

# make test runs 500 simulated releases per scenario; this runs 10,000.
test-judge: ## Monte Carlo releases of the statistical judge, with the measured rates (pkg/judge/RESULTS.md).
	SERIN_JUDGE_FULL=1 $(GO) test -count=1 -v -run 'MonteCarlo' ./pkg/judge/

test-e2e-traffic: ## Real traffic through Traefik: promotion split, zero errors, rollback (root; ~3 min warm).
	@# Without root the tests skip (they need network namespaces): build nothing for them then.
	if [ "$$(id -u)" = 0 ]; then hack/testbin.sh all prometheus traefik podinfo podinfo@6.0.0 podinfo@6.0.1 >/dev/null; fi
	@# -parallel 4: with 8 scenarios at once on two cores, Traefik once applied a route change
	@# more than one interval late, and the canary was scaled down under a gRPC call.
	SERIN_E2E_TRAFFIC=1 $(GO) test -count=1 -timeout 20m -parallel 4 -v ./test/traffic/...

demo: build ## The tutorial on this machine with real traffic through Traefik (root; see README).
	hack/demo.sh up

demo-down: ## Stop the stack that make demo left running.
	hack/demo.sh down

test-e2e: testbin ## Tests against the full control plane with KWOK nodes.
	$(GO) test $(TEST_FLAGS) ./test/e2e/...

test-chaos: testbin ## Long fault runs: kill -9, leader loss, SIGTERM, API server, Prometheus, webhooks (test/chaos/RESULTS.md).
	SERIN_CHAOS_LONG=1 $(GO) test -count=1 -timeout 60m -v ./test/chaos/...

# N canaries for `make bench`; BENCH_FLAGS adds flags (go run ./test/bench -h).
N ?= 100
BENCH_FLAGS ?=
bench: testbin ## Scale benchmark: N canaries through init, idle and a rollout (test/bench/RESULTS.md).
	$(GO) run ./test/bench -n $(N) $(BENCH_FLAGS)

bench-compare: testbin ## Flagger 1.44.0 (default flags, then Serin's limits) and Serin on the bench, one after the other, with a table of ratios.
	hack/testbin.sh flagger
	$(GO) run ./test/bench -compare -n $(N) $(BENCH_FLAGS)

# Every native Go fuzz target, as package:target. go test -fuzz takes one
# target of one package per run, hence the loop. FUZZTIME is per target (a
# duration, or Nx for N executions); FUZZ_PARALLEL is the number of workers.
# A duration can fail with a bare "context deadline exceeded" and no failing
# input when a loaded machine starves the workers at the deadline (a race in
# Go's fuzz coordinator, golang/go#75804, fixed in Go 1.27); CI uses a count,
# which has no deadline to race.
FUZZ_TARGETS = pkg/analysis:FuzzStep pkg/metrics:FuzzRender pkg/metrics:FuzzKubernetesQueries \
	pkg/loadtester:FuzzGateHandlers pkg/loadtester:FuzzTaskHandler \
	pkg/loadtester/shlex:FuzzLex pkg/loadtester/hey:FuzzParse \
	pkg/webhook:FuzzPayload pkg/webhook:FuzzCallResponse pkg/webhook:FuzzBudget \
	pkg/webhook/egress:FuzzPolicy pkg/judge:FuzzCounts
FUZZTIME ?= 10s
FUZZ_PARALLEL ?= 2
fuzz: ## Run every fuzz target for FUZZTIME (default 10s) each; a failing input lands in the package's testdata/fuzz.
	@failed=; for t in $(FUZZ_TARGETS); do \
		echo "== $$t ($(FUZZTIME))"; \
		$(GO) test ./$${t%%:*} -run '^$$' -fuzz "^$${t##*:}\$$" -fuzztime $(FUZZTIME) -parallel $(FUZZ_PARALLEL) || failed="$$failed $$t"; \
	done; if [ -n "$$failed" ]; then echo "fuzz: failed:$$failed" >&2; exit 1; fi

testbin: ## Build the pinned test binaries into the cache (skips what exists).
	hack/testbin.sh all prometheus victoriametrics helm

verify: fmt-check vet ## gofmt, go vet and stale generated code.
	hack/verify-codegen.sh
	hack/verify-manifests.sh

codegen: ## Regenerate clients, deepcopy and CRDs from pkg/apis.
	hack/update-codegen.sh

fmt: ## Format the code.
	gofmt -w $$(git ls-files '*.go')

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet: ## go vet.
	$(GO) vet ./...

manifests: ## Copy the CRDs from artifacts/ into the kustomize base and the chart, and the RBAC into the chart.
	cp artifacts/flagger/crd.yaml kustomize/base/crd.yaml
	cp artifacts/flagger/crd.yaml artifacts/charts/serin/files/crd.yaml
	cp kustomize/base/rbac.yaml artifacts/charts/serin/files/rbac.yaml

# IMAGE_BUILDER picks how `make image` builds: docker or podman (the
# Dockerfiles), or go (hack/image, no engine needed). Unset: the first engine
# that answers, else go.
IMAGE_BUILDER ?=
image: ## Build the images from `make build`'s binaries with docker or podman, or without an engine (IMAGE_BUILDER=go).
	@engine=$(or $(IMAGE_BUILDER),$(CONTAINER_ENGINE)); \
	if [ -z "$$engine" ] || [ "$$engine" = go ]; then \
		[ -n "$$engine" ] || echo "make image: no container engine answers (docker or podman with a running daemon): building with hack/image" >&2; \
		exec $(MAKE) --no-print-directory image-go; \
	fi; \
	set -ex; GOOS=linux $(MAKE) build; \
	$$engine build -f cmd/serin/Dockerfile -t $(IMAGE_REPO)/serin:$(VERSION) $(subst -label ,--label ,$(IMAGE_LABELS)) _output/bin; \
	$$engine build -f cmd/loadtester/Dockerfile -t $(IMAGE_REPO)/serin-loadtester:$(VERSION) $(subst -label ,--label ,$(IMAGE_LABELS)) _output/bin

# The go-built images: OCI layouts (for crane push, skopeo) and docker-load
# tarballs in IMAGE_DIR. Every file gets the commit's time, so one commit
# gives the same digests on every machine with the same Go release and
# Debian package versions (README: Images).
IMAGE_DIR ?= _output/images
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
# The Debian packages that give the load tester's tasks their programs
# (the Dockerfile's alpine has them): bash, also as /bin/sh for "cmd" tasks,
# and the tutorial's curl and grep. hack/image/debs.sh adds what they depend
# on; libtinfo6 and libpcre2-8-0 are bash's and grep's pre-dependencies.
LOADTESTER_DEBS ?= bash curl grep libtinfo6 libpcre2-8-0
# The CA bundle of both images: empty makes it from Debian's ca-certificates
# package (not this machine's /etc/ssl, which may hold local CAs); or a PEM file.
CA_CERTS ?=
IMAGE_LABELS = -label org.opencontainers.image.version=$(VERSION) \
	-label org.opencontainers.image.revision=$(shell git rev-parse HEAD 2>/dev/null) \
	-label org.opencontainers.image.source=https://github.com/serin-dev/serin \
	-label org.opencontainers.image.licenses=Apache-2.0
image-go: ## Build the images without a container engine (hack/image) into IMAGE_DIR.
	GOOS=linux $(MAKE) build
	@mkdir -p $(IMAGE_DIR) _output/tools
	cd hack/image && $(GO) build -trimpath -o $(CURDIR)/_output/tools/image .
	hack/image/debs.sh _output/debs $(LOADTESTER_DEBS) > $(IMAGE_DIR)/loadtester.debs
	$(if $(CA_CERTS),echo $(CA_CERTS),hack/image/debs.sh -n _output/debs ca-certificates) > $(IMAGE_DIR)/ca-certs
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) _output/tools/image -binary _output/bin/serin \
		-tag $(IMAGE_REPO)/serin:$(VERSION) -out $(IMAGE_DIR)/serin -tarball $(IMAGE_DIR)/serin.tar \
		-digest-file $(IMAGE_DIR)/serin.digest $(IMAGE_LABELS) -label org.opencontainers.image.title=serin \
		-ca-certs $$(cat $(IMAGE_DIR)/ca-certs)
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) _output/tools/image -binary _output/bin/loadtester \
		-tag $(IMAGE_REPO)/serin-loadtester:$(VERSION) -out $(IMAGE_DIR)/loadtester -tarball $(IMAGE_DIR)/loadtester.tar \
		-digest-file $(IMAGE_DIR)/loadtester.digest $(IMAGE_LABELS) -label org.opencontainers.image.title=serin-loadtester \
		-ca-certs $$(cat $(IMAGE_DIR)/ca-certs) \
		-symlink bin/sh=bash $$(sed 's/^/-deb /' $(IMAGE_DIR)/loadtester.debs)

# The second build runs with another umask and time zone, which must not
# show in the images either.
image-check: ## Build the go images twice and compare them byte for byte, then run the binaries from the unpacked layers.
	rm -rf _output/image-check
	$(MAKE) --no-print-directory image-go IMAGE_DIR=_output/image-check/a
	umask 077 && TZ=Pacific/Kiritimati $(MAKE) --no-print-directory image-go IMAGE_DIR=_output/image-check/b
	diff -r _output/image-check/a _output/image-check/b
	@echo "image-check: same digests:" && cat _output/image-check/a/*.digest
	cd hack/image && $(GO) vet . && SERIN_IMAGES=$(CURDIR)/_output/image-check/a SERIN_IMAGE_VERSION=$(VERSION) $(GO) test -count=1 -v -run . .

clean: ## Remove build output (the test-binary cache stays).
	rm -rf _output
