# Vigil: `make run` starts it on its embedded defaults (data in ./data); `make test` runs
# every test with the race detector.

GO        ?= go
BIN       := bin/vigil
PKG       := github.com/vigilhq/vigil/internal/buildinfo
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
BRANCH    ?= $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
BUILDDATE ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS   := -X $(PKG).Version=$(VERSION) -X $(PKG).Commit=$(COMMIT) \
             -X $(PKG).Branch=$(BRANCH) -X $(PKG).BuildDate=$(BUILDDATE)
FUZZTIME  ?= 10s
# Peer engines the integration tests drive (.ci/run installs them; tests skip, saying so, without).
export VIGIL_TEST_VICTORIALOGS ?= $(wildcard $(HOME)/.cache/vigil-bench/bin/victoria-logs-v1.52.1)
export VIGIL_TEST_VICTORIAMETRICS ?= $(wildcard $(HOME)/.cache/vigil-bench/bin/victoria-metrics-v1.151.0)
BENCHTIME ?= 1s

.PHONY: build run test e2e bench bench-metrics lint fuzz clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/vigil

run: build
	./$(BIN)

test:
	$(GO) test -race -timeout 20m ./...
	$(MAKE) e2e

# Browser tests of the web UI (web/e2e): Debian's chromium driven by playwright-core against a
# seeded vigil. Skipped, with the install hint, where /usr/bin/chromium is absent.
e2e:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "e2e: SKIPPED: /usr/bin/chromium not found; install it with: apt-get install -y chromium"; \
	else \
		$(MAKE) build && \
		{ [ -d web/e2e/node_modules ] || (cd web/e2e && npm ci --no-audit --no-fund); } && \
		node web/e2e/run.mjs; \
	fi

bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...

# Side by side with Debian's prometheus and VictoriaMetrics (see bench/metrics/README.md).
# QUICK=1 for a short validation run. Never run it beside a build or a test run.
bench-metrics:
	bench/metrics/run.sh

# kill -9 during ingest of all three signals, restart, check every acknowledged item; 20 rounds.
bench-crash: build
	$(GO) run ./bench/crash -bin $(BIN) -rounds 20

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Runs every fuzz target for FUZZTIME; the corpora live in each package's testdata/fuzz.
fuzz:
	@set -e; for f in $$(grep -rl --include='*_test.go' '^func Fuzz' .); do \
		dir=$$(dirname $$f); \
		for name in $$(grep -o '^func Fuzz[A-Za-z0-9_]*' $$f | sed 's/^func //'); do \
			echo "fuzz $$dir $$name"; \
			$(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) $$dir; \
		done; \
	done

clean:
	rm -rf bin
