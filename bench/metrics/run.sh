#!/usr/bin/env bash
# Metrics benchmark: Vigil vs Prometheus (Debian package) vs VictoriaMetrics single-node, on
# this machine, alternating, with one load generator. Prints one table per figure.
# See bench/metrics/README.md. Run it on a quiet machine: never beside a build or a test.
#
#   bench/metrics/run.sh              # full run (hours): 100k and 1M series, 3 rounds
#   QUICK=1 bench/metrics/run.sh      # a few minutes: 10k series, 1 round, to check the script
#
# Every knob is an environment variable; the defaults are below.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"

if [[ "${QUICK:-0}" == 1 ]]; then
	: "${SERIES:=10000}" "${ROUNDS:=1}" "${INGEST:=10s}" "${OTLP:=5s}" "${HISTORY:=6h}"
	: "${QUERY_SERIES:=1000}" "${QUERY_REPS:=3}" "${COMPACT_WAIT:=30s}" "${RESTART_HEAD:=20m}"
fi
: "${SERIES:=100000,1000000}"        # active series; each count gets its own rounds and tables
: "${ROUNDS:=3}"                     # rounds; each runs every target once (ABCABC...)
: "${TARGETS:=vigil,prometheus,victoriametrics}"
: "${INGEST:=60s}"                   # remote-write saturation run per target and round
: "${OTLP:=30s}"                     # OTLP saturation run (0s: skip)
: "${SHARDS:=4}"                     # loadgen concurrency (Prometheus queue shards)
: "${BATCH:=2000}"                   # samples per request (max_samples_per_send)
: "${HISTORY:=25h}"                  # simulated history the queries read (24h window + 5m rate + slack)
: "${QUERY_SERIES:=10000}"           # series in that history (about 16 hosts)
: "${QUERY_REPS:=20}"                # timed runs per query and window
: "${COMPACT_WAIT:=3m}"              # longest wait for compaction / force merge
: "${RESTART_HEAD:=2h}"              # head span for Vigil's restart test (0s: skip)
: "${RESTART_TARGETS:=vigil}"        # add prometheus,victoriametrics to time theirs too
: "${RESTART_REPS:=1}"
: "${BASE_PORT:=19700}"              # vigil +0..2, prometheus +10, victoriametrics +20
: "${VM_VERSION:=v1.151.0}"
: "${VM_FLAGS:=-search.disableCache}"
: "${PEERS_DIR:=$HOME/.cache/vigil-bench/bin}"   # VictoriaMetrics is installed here, outside the repo
: "${BENCH_DIR:=$(mktemp -d /tmp/vigil-bench.XXXXXX)}"  # data dirs (removed after each run) and logs
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

# Peers.
if ! command -v prometheus >/dev/null; then
	say "installing Debian's prometheus package"
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus
fi
if pgrep -x prometheus >/dev/null || pgrep -x prometheus-node >/dev/null; then
	say "WARNING: a prometheus (or node exporter) service is running on this machine; it takes CPU from the benchmark"
fi
mkdir -p "$PEERS_DIR"
if [[ ! -x "$PEERS_DIR/victoria-metrics" ]]; then
	say "installing VictoriaMetrics $VM_VERSION into $PEERS_DIR"
	(cd /tmp && GOBIN="$PEERS_DIR" GOTOOLCHAIN=local go install "github.com/VictoriaMetrics/VictoriaMetrics/app/victoria-metrics@$VM_VERSION")
fi

# Vigil, and the benchmark's own tools (built outside the repo).
if [[ -z "$VIGIL_BIN" ]]; then
	make build
	VIGIL_BIN="$repo/bin/vigil"
fi
mkdir -p "$BENCH_DIR/bin"
go build -o "$BENCH_DIR/bin/loadgen" ./bench/metrics/loadgen
go build -o "$BENCH_DIR/bin/driver" ./bench/metrics/driver

say "prometheus: $(prometheus --version 2>&1 | head -1)"
say "victoria-metrics: $VM_VERSION ($PEERS_DIR/victoria-metrics)"
say "vigil: $("$VIGIL_BIN" version 2>&1 | head -1)"
say "work dir: $BENCH_DIR; $(nproc) cores; SERIES=$SERIES ROUNDS=$ROUNDS INGEST=$INGEST"

"$BENCH_DIR/bin/driver" -work-dir "$BENCH_DIR" \
	-vigil "$VIGIL_BIN" -prometheus "$(command -v prometheus)" \
	-victoria-metrics "$PEERS_DIR/victoria-metrics" -loadgen "$BENCH_DIR/bin/loadgen" \
	-vm-flags "$VM_FLAGS" -targets "$TARGETS" -series "$SERIES" -rounds "$ROUNDS" \
	-ingest "$INGEST" -otlp "$OTLP" -shards "$SHARDS" -batch "$BATCH" \
	-history "$HISTORY" -query-series "$QUERY_SERIES" -query-reps "$QUERY_REPS" \
	-compact-wait "$COMPACT_WAIT" -restart-head "$RESTART_HEAD" -restart-targets "$RESTART_TARGETS" \
	-restart-reps "$RESTART_REPS" -base-port "$BASE_PORT" >"$BENCH_DIR/results.txt" &
driver_pid=$!
status=0
wait "$driver_pid" || status=$?
driver_pid=
cat "$BENCH_DIR/results.txt"
say "tables saved in $BENCH_DIR/results.txt; logs in $BENCH_DIR/s*/"
exit "$status"
