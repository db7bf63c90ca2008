#!/usr/bin/env bash
# Traces benchmark: Vigil vs Jaeger v2 all-in-one (Badger store), on this machine,
# alternating, fed the same generated traces over OTLP gRPC. Prints one table per figure.
# See bench/traces/README.md. Run it on a quiet machine: never beside a build or a test.
#
#   bench/traces/run.sh            # full run: 10M spans per target and round, 3 rounds
#   QUICK=1 bench/traces/run.sh    # a few minutes: 200k spans, 1 round, to check the script
#
# Every knob is an environment variable; the defaults are below.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"

if [[ "${QUICK:-0}" == 1 ]]; then
	: "${SPANS:=200000}" "${ROUNDS:=1}" "${LOOKUPS:=50}" "${SEARCH_REPS:=5}"
fi
: "${SPANS:=10000000}"               # spans per target and round, spread over a 1 h window
: "${ROUNDS:=3}"                     # rounds; each runs every target once (ABAB...)
: "${TARGETS:=vigil,jaeger}"
: "${BATCH:=512}"                    # spans per OTLP Export request
: "${CONCURRENCY:=4}"                # Export requests in flight
: "${LOOKUPS:=200}"                  # timed trace-by-id lookups
: "${SEARCH_REPS:=20}"               # timed runs of the search
: "${MIN_DURATION:=100ms}"           # minDuration of the search
: "${DRAIN_WAIT:=5m}"                # longest wait for the last trace to read back
: "${SEED:=1}"                       # generator seed: the same seed, the same traces
: "${BASE_PORT:=19900}"              # vigil +0..2, jaeger +10..15
: "${JAEGER_VERSION:=v1.76.0}"
: "${JAEGER_BUILD_TIMEOUT:=1800}"    # seconds; the build is large
: "${PEERS_DIR:=$HOME/.cache/vigil-bench/bin}"   # Jaeger is built here, outside the repo
: "${BENCH_DIR:=$(mktemp -d /tmp/vigil-bench-traces.XXXXXX)}"  # data dirs (removed after each run) and logs
: "${VIGIL_BIN:=}"                   # a prebuilt vigil to measure instead of `make build`'s bin/vigil
: "${JAEGER_BIN:=}"                  # a prebuilt jaeger v2 binary instead of building one

driver_pid=
cleanup() {
	if [[ -n "$driver_pid" ]] && kill -0 "$driver_pid" 2>/dev/null; then
		kill -TERM "$driver_pid" 2>/dev/null || true   # the driver kills its targets
		for _ in $(seq 100); do kill -0 "$driver_pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$driver_pid" 2>/dev/null || true
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { echo "run.sh: $*" >&2; }

# Peer: Jaeger v2 built in a scratch module outside the repo (it is not `go install`able:
# its go.mod has replace directives), as its own docs build it.
mkdir -p "$PEERS_DIR"
if [[ -z "$JAEGER_BIN" && ",$TARGETS," == *,jaeger,* ]]; then
	JAEGER_BIN="$PEERS_DIR/jaeger-$JAEGER_VERSION"
	if [[ ! -x "$JAEGER_BIN" ]]; then
		src="$PEERS_DIR/../jaeger-$JAEGER_VERSION-src"
		mkdir -p "$src"
		say "building Jaeger $JAEGER_VERSION in $src (takes a while; at most ${JAEGER_BUILD_TIMEOUT}s)"
		if ! (cd "$src" && export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false &&
			{ [[ -f go.mod ]] || go mod init scratch; } &&
			timeout "$JAEGER_BUILD_TIMEOUT" go get -tool "github.com/jaegertracing/jaeger/cmd/jaeger@$JAEGER_VERSION" &&
			timeout "$JAEGER_BUILD_TIMEOUT" go build -o "$JAEGER_BIN.tmp" github.com/jaegertracing/jaeger/cmd/jaeger &&
			mv "$JAEGER_BIN.tmp" "$JAEGER_BIN"); then
			say "WARNING: building Jaeger failed (see above); measuring Vigil alone"
			TARGETS=$(echo ",$TARGETS," | sed 's/,jaeger,/,/g; s/^,//; s/,$//')
		fi
	fi
fi

# Vigil, and the benchmark's own tools (built outside the repo).
if [[ -z "$VIGIL_BIN" ]]; then
	make build
	VIGIL_BIN="$repo/bin/vigil"
fi
mkdir -p "$BENCH_DIR/bin"
go build -o "$BENCH_DIR/bin/loadgen" ./bench/traces/loadgen
go build -o "$BENCH_DIR/bin/driver" ./bench/traces/driver

[[ -n "$JAEGER_BIN" && -x "$JAEGER_BIN" ]] && say "jaeger: $("$JAEGER_BIN" version 2>/dev/null | head -c 200 || echo "$JAEGER_VERSION") ($JAEGER_BIN)"
say "vigil: $("$VIGIL_BIN" version 2>&1 | head -1)"
say "work dir: $BENCH_DIR; $(nproc) cores; SPANS=$SPANS ROUNDS=$ROUNDS BATCH=$BATCH CONCURRENCY=$CONCURRENCY TARGETS=$TARGETS"

"$BENCH_DIR/bin/driver" -work-dir "$BENCH_DIR" \
	-vigil "$VIGIL_BIN" -jaeger "$JAEGER_BIN" -loadgen "$BENCH_DIR/bin/loadgen" \
	-targets "$TARGETS" -spans "$SPANS" -rounds "$ROUNDS" -batch "$BATCH" -concurrency "$CONCURRENCY" \
	-lookups "$LOOKUPS" -search-reps "$SEARCH_REPS" -min-duration "$MIN_DURATION" -drain-wait "$DRAIN_WAIT" \
	-seed "$SEED" -base-port "$BASE_PORT" >"$BENCH_DIR/results.txt" &
driver_pid=$!
status=0
wait "$driver_pid" || status=$?
driver_pid=
cat "$BENCH_DIR/results.txt"
say "tables saved in $BENCH_DIR/results.txt; logs in $BENCH_DIR/r*/"
exit "$status"
