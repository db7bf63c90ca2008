#!/usr/bin/env bash
# Logs benchmark: Vigil vs VictoriaLogs single-node, on this machine, alternating, fed the
# same generated JSON lines. Prints one table per figure. See bench/logs/README.md.
# Run it on a quiet machine: never beside a build or a test.
#
#   bench/logs/run.sh              # full run: 10M lines per target and round, 3 rounds
#   QUICK=1 bench/logs/run.sh      # a few minutes: 200k lines, 1 round, to check the script
#
# Every knob is an environment variable; the defaults are below.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"

if [[ "${QUICK:-0}" == 1 ]]; then
	: "${LINES:=200000}" "${ROUNDS:=1}" "${QUERY_REPS:=5}" "${FLUSH_WAIT:=1m}"
fi
: "${LINES:=10000000}"               # lines per target and round, spread over a 1 h window
: "${ROUNDS:=3}"                     # rounds; each runs every target once (ABAB...)
: "${TARGETS:=vigil,victorialogs}"
: "${BATCH:=5000}"                   # lines per request (~1.5 MB)
: "${CONCURRENCY:=4}"                # requests in flight
: "${QUERY_REPS:=20}"                # timed runs per query
: "${QUERY_LIMIT:=100}"              # lines each query returns (the newest)
: "${FLUSH_WAIT:=3m}"                # longest wait for the WAL / in-memory parts to drain
: "${SEED:=1}"                       # generator seed: the same seed, the same lines
: "${BASE_PORT:=19800}"              # vigil +0..2, victorialogs +10
: "${VL_VERSION:=v1.52.1}"
: "${PEERS_DIR:=$HOME/.cache/vigil-bench/bin}"   # VictoriaLogs is installed here, outside the repo
: "${BENCH_DIR:=$(mktemp -d /tmp/vigil-bench-logs.XXXXXX)}"  # data dirs (removed after each run) and logs
: "${VIGIL_BIN:=}"                   # a prebuilt vigil to measure instead of `make build`'s bin/vigil

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

# Peer, installed outside the repo.
mkdir -p "$PEERS_DIR"
vl="$PEERS_DIR/victoria-logs-$VL_VERSION"
if [[ ! -x "$vl" ]]; then
	say "installing VictoriaLogs $VL_VERSION into $PEERS_DIR"
	tmp=$(mktemp -d /tmp/vigil-bench-gobin.XXXXXX)
	(cd /tmp && GOBIN="$tmp" GOTOOLCHAIN=local go install "github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs@$VL_VERSION")
	mv "$tmp/victoria-logs" "$vl"
	rmdir "$tmp"
fi

# Vigil, and the benchmark's own tools (built outside the repo).
if [[ -z "$VIGIL_BIN" ]]; then
	make build
	VIGIL_BIN="$repo/bin/vigil"
fi
mkdir -p "$BENCH_DIR/bin"
go build -o "$BENCH_DIR/bin/loadgen" ./bench/logs/loadgen
go build -o "$BENCH_DIR/bin/driver" ./bench/logs/driver

say "victoria-logs: $VL_VERSION ($vl)"
say "vigil: $("$VIGIL_BIN" version 2>&1 | head -1)"
say "work dir: $BENCH_DIR; $(nproc) cores; LINES=$LINES ROUNDS=$ROUNDS BATCH=$BATCH CONCURRENCY=$CONCURRENCY"
say "sample line: $("$BENCH_DIR/bin/loadgen" -print 1)"

"$BENCH_DIR/bin/driver" -work-dir "$BENCH_DIR" \
	-vigil "$VIGIL_BIN" -victoria-logs "$vl" -loadgen "$BENCH_DIR/bin/loadgen" \
	-targets "$TARGETS" -lines "$LINES" -rounds "$ROUNDS" -batch "$BATCH" -concurrency "$CONCURRENCY" \
	-query-reps "$QUERY_REPS" -query-limit "$QUERY_LIMIT" -flush-wait "$FLUSH_WAIT" -seed "$SEED" \
	-base-port "$BASE_PORT" >"$BENCH_DIR/results.txt" &
driver_pid=$!
status=0
wait "$driver_pid" || status=$?
driver_pid=
cat "$BENCH_DIR/results.txt"
say "tables saved in $BENCH_DIR/results.txt; logs in $BENCH_DIR/r*/"
exit "$status"
