// Command driver runs the traces benchmark: Vigil and Jaeger v2 (all-in-one, Badger) one
// after the other in alternating rounds, each on a fresh data directory, fed the same
// generated traces by loadgen over OTLP gRPC, and prints one table per figure. run.sh builds
// the binaries and calls it; see README.md for what is measured and how.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vigilhq/vigil/bench/internal/proc"
	"github.com/vigilhq/vigil/bench/internal/report"
)

type config struct {
	workDir                   string
	vigilBin, jaegerBin       string
	lgBin                     string
	targets                   []string
	spans                     int64
	rounds                    int
	batch, conc               int
	lookups, searchReps       int
	drainWait                 time.Duration
	basePort                  int
	startTimeout, stopTimeout time.Duration
	seed                      uint64
	windowStart, windowEnd    time.Time
	minDuration, searchTags   string
}

func main() {
	var c config
	var targets string
	flag.StringVar(&c.workDir, "work-dir", "", "scratch directory for data directories and logs (required)")
	flag.StringVar(&c.vigilBin, "vigil", "bin/vigil", "vigil binary")
	flag.StringVar(&c.jaegerBin, "jaeger", "jaeger", "jaeger (v2 all-in-one) binary")
	flag.StringVar(&c.lgBin, "loadgen", "loadgen", "loadgen binary (bench/traces/loadgen)")
	flag.StringVar(&targets, "targets", "vigil,jaeger", "systems, in round order")
	flag.Int64Var(&c.spans, "spans", 10_000_000, "spans written per target and round, spread over one hour")
	flag.IntVar(&c.rounds, "rounds", 3, "rounds (each runs every target once)")
	flag.IntVar(&c.batch, "batch", 512, "spans per OTLP Export request")
	flag.IntVar(&c.conc, "concurrency", 4, "concurrent Export requests")
	flag.IntVar(&c.lookups, "lookups", 200, "timed trace-by-id lookups (distinct sampled traces)")
	flag.IntVar(&c.searchReps, "search-reps", 20, "timed runs of the search")
	flag.StringVar(&c.minDuration, "min-duration", "100ms", "minDuration of the search")
	flag.DurationVar(&c.drainWait, "drain-wait", 5*time.Minute, "longest wait for the last trace sent to become readable")
	flag.IntVar(&c.basePort, "base-port", 19900, "vigil on base (+1 OTLP gRPC, +2 OTLP HTTP), jaeger on base+10..15")
	flag.DurationVar(&c.startTimeout, "start-timeout", 10*time.Minute, "longest wait for a target to become ready")
	flag.DurationVar(&c.stopTimeout, "stop-timeout", 5*time.Minute, "longest wait for a graceful stop before SIGKILL")
	flag.Uint64Var(&c.seed, "seed", 1, "generator seed")
	flag.Parse()
	if c.workDir == "" {
		fmt.Fprintln(os.Stderr, "driver: -work-dir is required")
		os.Exit(2)
	}
	c.targets = strings.Split(targets, ",")
	c.searchTags = `{"http.route":"/api/checkout"}` // see loadgen/traces.go
	all := newTargets(c)
	for _, name := range c.targets {
		if all[name] == nil {
			fmt.Fprintf(os.Stderr, "driver: unknown target %q\n", name)
			os.Exit(2)
		}
	}
	// One window for every round and target: the hour that ended a few minutes ago.
	c.windowStart = time.Now().Truncate(time.Minute).Add(-65 * time.Minute)
	c.windowEnd = c.windowStart.Add(time.Hour)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer proc.KillAll()
	res := report.New(c.targets, "jaeger")
	var err error
	for round := 1; round <= c.rounds && err == nil; round++ {
		for _, name := range c.targets {
			if e := runOnce(ctx, c, all[name], round, res); e != nil {
				if ctx.Err() != nil {
					err = ctx.Err()
					break
				}
				logf("[%s round %d] FAILED: %v", name, round, e)
				res.Failure(fmt.Sprintf("%s, round %d: %v", name, round, e))
			}
		}
	}
	fmt.Printf("\n# Vigil traces benchmark: %d spans per target and round in a 1 h window, %d round(s), targets in order %s, OTLP gRPC %d x %d spans/request\n",
		c.spans, c.rounds, strings.Join(c.targets, ", "), c.conc, c.batch)
	res.Print(os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "driver:", err)
		proc.KillAll()
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// loadgenResult is the JSON summary loadgen prints last.
type loadgenResult struct {
	AcceptedSpans int64         `json:"accepted_spans"`
	RejectedSpans int64         `json:"rejected_spans"`
	Errors        int64         `json:"errors"`
	FirstError    string        `json:"first_error"`
	ElapsedSec    float64       `json:"elapsed_s"`
	SpansPerSec   float64       `json:"spans_per_s"`
	Samples       []sampleTrace `json:"samples"`
	Last          sampleTrace   `json:"last"`
}

type sampleTrace struct {
	ID    string `json:"id"`
	Spans int    `json:"spans"`
}

// runOnce is one target in one round: ingest, drain, lookups, search, stop, size on disk.
func runOnce(ctx context.Context, c config, t *target, round int, res *report.Results) error {
	tag := fmt.Sprintf("[%s round %d]", t.name, round)
	dir := filepath.Join(c.workDir, fmt.Sprintf("r%d-%s", round, t.name))
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return err
	}
	defer os.RemoveAll(data) // the next target gets the disk (and page cache) to itself
	spec, err := t.spec(data, dir)
	if err != nil {
		return err
	}
	p, readyIn, err := proc.Start(ctx, spec, filepath.Join(dir, "target.log"), c.startTimeout)
	if p != nil {
		defer p.Stop(c.stopTimeout)
	}
	if err != nil {
		return err
	}
	logf("%s ready in %.2fs (pid %d); logs in %s", tag, readyIn.Seconds(), p.Pid(), dir)

	var r loadgenResult
	err = proc.RunJSON(ctx, c.lgBin, filepath.Join(dir, "loadgen.log"), []string{
		"-endpoint", t.otlp, "-spans", strconv.FormatInt(c.spans, 10), "-batch", strconv.Itoa(c.batch),
		"-concurrency", strconv.Itoa(c.conc), "-seed", strconv.FormatUint(c.seed, 10),
		"-start-ms", strconv.FormatInt(c.windowStart.UnixMilli(), 10), "-window", "1h",
		"-samples", strconv.Itoa(c.lookups)}, &r)
	if err != nil {
		return err
	}
	logf("%s ingest: %d spans accepted in %.1fs = %.0f spans/s acknowledged, %d rejected, %d errors",
		tag, r.AcceptedSpans, r.ElapsedSec, r.SpansPerSec, r.RejectedSpans, r.Errors)
	if r.FirstError != "" {
		logf("%s first error: %s", tag, r.FirstError)
	}
	if r.AcceptedSpans == 0 || r.Last.ID == "" {
		return fmt.Errorf("nothing accepted: %s", r.FirstError)
	}

	// A pipeline may acknowledge before its store has the spans (Jaeger's batch processor):
	// the rate counts until the last trace sent reads back whole.
	t0 := time.Now()
	if err := waitTrace(ctx, t, r.Last, c.drainWait); err != nil {
		return fmt.Errorf("last trace: %w", err)
	}
	drain := time.Since(t0).Seconds()
	stored := float64(r.AcceptedSpans) / (r.ElapsedSec + drain)
	logf("%s last trace readable %.2fs after the last ack: %.0f spans/s stored", tag, drain, stored)
	res.Add(fmt.Sprintf("Ingest, OTLP gRPC at saturation, %d-span batches (until the last trace reads back)", c.batch),
		"spans/s", report.Higher, t.name, stored)

	// Trace by id: every sampled trace once (after one warm-up), each checked whole.
	if len(r.Samples) > 0 {
		if _, err := t.traceSpans(ctx, r.Samples[0].ID); err != nil {
			return err
		}
	}
	var lat []float64
	bad := 0
	for i, s := range r.Samples {
		if i >= c.lookups || ctx.Err() != nil {
			break
		}
		t1 := time.Now()
		n, err := t.traceSpans(ctx, s.ID)
		if err != nil {
			return err
		}
		lat = append(lat, time.Since(t1).Seconds())
		if n != s.Spans {
			if bad == 0 {
				logf("%s WARNING: trace %s has %d spans, %d were sent", tag, s.ID, n, s.Spans)
			}
			bad++
		}
	}
	if bad > 0 {
		res.Failure(fmt.Sprintf("%s %d of %d traces read back incomplete", tag, bad, len(lat)))
	}
	if len(lat) > 0 {
		p50, p99 := report.Quantile(lat, 0.5)*1000, report.Quantile(lat, 0.99)*1000
		logf("%s trace by id: %d lookups, p50 %.1f ms, p99 %.1f ms, %d incomplete", tag, len(lat), p50, p99, bad)
		res.Add(fmt.Sprintf("Trace by id (GET /api/traces/{id}) at %d spans, p50", c.spans), "ms", report.Lower, t.name, p50)
		res.Add(fmt.Sprintf("Trace by id (GET /api/traces/{id}) at %d spans, p99", c.spans), "ms", report.Lower, t.name, p99)
	}

	sq := searchQuery{service: "checkout", tags: c.searchTags, minDuration: c.minDuration,
		start: c.windowStart, end: c.windowEnd, limit: 20}
	lat = lat[:0]
	found := 0
	for i := 0; i <= c.searchReps && ctx.Err() == nil; i++ {
		t1 := time.Now()
		n, err := t.search(ctx, sq)
		if err != nil {
			return err
		}
		if i > 0 { // the first run warms caches
			lat = append(lat, time.Since(t1).Seconds())
		}
		found = n
	}
	if found == 0 {
		res.Failure(fmt.Sprintf("%s search found no trace; latency not recorded", tag))
		logf("%s WARNING: search found no trace; latency not recorded", tag)
	} else {
		p50, p99 := report.Quantile(lat, 0.5)*1000, report.Quantile(lat, 0.99)*1000
		logf("%s search service=checkout tags=%s minDuration=%s over 1h, limit 20: %d traces, p50 %.1f ms, p99 %.1f ms",
			tag, c.searchTags, c.minDuration, found, p50, p99)
		title := fmt.Sprintf("Search service + tag + minDuration=%s over 1 h, limit 20", c.minDuration)
		res.Add(title+", p50", "ms", report.Lower, t.name, p50)
		res.Add(title+", p99", "ms", report.Lower, t.name, p99)
		res.Add(title+": traces returned", "traces", report.Check, t.name, float64(found))
	}

	if peak, err := proc.StatusKiB(p.Pid(), "VmHWM"); err == nil {
		res.Add("RSS, peak (VmHWM) after ingest and queries", "MiB", report.Lower, t.name, peak/1024)
	}
	stopIn, err := p.Stop(c.stopTimeout)
	if err != nil {
		return err
	}
	store := t.storeDir(data)
	size := proc.DiskBytes(store)
	logf("%s stopped in %.1fs; data dir: %s", tag, stopIn.Seconds(), proc.DuBreakdown(data))
	logf("%s %s: %d bytes for %d spans = %.1f bytes/span; by file type: %s",
		tag, store, size, r.AcceptedSpans, float64(size)/float64(r.AcceptedSpans), proc.DuByExt(store))
	res.Add("Bytes on disk per span after stop", "bytes", report.Lower, t.name, float64(size)/float64(r.AcceptedSpans))
	return nil
}

// waitTrace polls until the trace reads back with all its spans, for at most max.
func waitTrace(ctx context.Context, t *target, s sampleTrace, max time.Duration) error {
	deadline := time.Now().Add(max)
	n := 0
	for time.Now().Before(deadline) {
		var err error
		if n, err = t.traceSpans(ctx, s.ID); err != nil {
			return err
		}
		if n >= s.Spans {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("trace %s has %d of its %d spans after %s", s.ID, n, s.Spans, max)
}
