// Command driver runs the logs benchmark: Vigil and VictoriaLogs one after the other in
// alternating rounds, each on a fresh data directory, fed the same generated lines by
// loadgen, and prints one table per figure. run.sh installs VictoriaLogs, builds the binaries
// and calls it; see README.md for what is measured and how.
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
	vigilBin, vlBin           string
	lgBin                     string
	targets                   []string
	lines                     int64
	rounds                    int
	batch, conc               int
	queryReps                 int
	queryLimit                int
	flushWait                 time.Duration
	basePort                  int
	startTimeout, stopTimeout time.Duration
	seed                      uint64
	windowStart, windowEnd    time.Time
}

func main() {
	var c config
	var targets string
	flag.StringVar(&c.workDir, "work-dir", "", "scratch directory for data directories and logs (required)")
	flag.StringVar(&c.vigilBin, "vigil", "bin/vigil", "vigil binary")
	flag.StringVar(&c.vlBin, "victoria-logs", "victoria-logs", "victoria-logs binary")
	flag.StringVar(&c.lgBin, "loadgen", "loadgen", "loadgen binary (bench/logs/loadgen)")
	flag.StringVar(&targets, "targets", "vigil,victorialogs", "systems, in round order")
	flag.Int64Var(&c.lines, "lines", 10_000_000, "lines written per target and round, spread over one hour")
	flag.IntVar(&c.rounds, "rounds", 3, "rounds (each runs every target once)")
	flag.IntVar(&c.batch, "batch", 5000, "lines per request")
	flag.IntVar(&c.conc, "concurrency", 4, "concurrent requests")
	flag.IntVar(&c.queryReps, "query-reps", 20, "timed runs of each query")
	flag.IntVar(&c.queryLimit, "query-limit", 100, "lines each query returns (the newest)")
	flag.DurationVar(&c.flushWait, "flush-wait", 3*time.Minute, "longest wait for the written lines to leave the WAL / in-memory parts")
	flag.IntVar(&c.basePort, "base-port", 19800, "vigil on base (+1, +2 OTLP), victorialogs on base+10")
	flag.DurationVar(&c.startTimeout, "start-timeout", 10*time.Minute, "longest wait for a target to become ready")
	flag.DurationVar(&c.stopTimeout, "stop-timeout", 5*time.Minute, "longest wait for a graceful stop before SIGKILL")
	flag.Uint64Var(&c.seed, "seed", 1, "generator seed")
	flag.Parse()
	if c.workDir == "" {
		fmt.Fprintln(os.Stderr, "driver: -work-dir is required")
		os.Exit(2)
	}
	c.targets = strings.Split(targets, ",")
	all := newTargets(c)
	for _, name := range c.targets {
		if all[name] == nil {
			fmt.Fprintf(os.Stderr, "driver: unknown target %q\n", name)
			os.Exit(2)
		}
	}
	// One window for every round and target, so each gets the same lines at the same times:
	// the hour that ended a few minutes ago (inside every retention and partition scheme).
	c.windowStart = time.Now().Truncate(time.Minute).Add(-65 * time.Minute)
	c.windowEnd = c.windowStart.Add(time.Hour)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer proc.KillAll()
	res := report.New(c.targets, "victorialogs")
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
	fmt.Printf("\n# Vigil logs benchmark: %d lines per target and round in a 1 h window, %d round(s), targets in order %s, %d x %d lines/request\n",
		c.lines, c.rounds, strings.Join(c.targets, ", "), c.conc, c.batch)
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
	AcceptedLines int64   `json:"accepted_lines"`
	RejectedLines int64   `json:"rejected_lines"`
	RawBytes      int64   `json:"raw_bytes"`
	Errors        int64   `json:"errors"`
	FirstError    string  `json:"first_error"`
	ElapsedSec    float64 `json:"elapsed_s"`
	LinesPerSec   float64 `json:"lines_per_s"`
	MBPerSec      float64 `json:"mb_per_s"`
}

// runOnce is one target in one round: ingest, wait for the flush, queries, stop, size on disk.
func runOnce(ctx context.Context, c config, t *target, round int, res *report.Results) error {
	tag := fmt.Sprintf("[%s round %d]", t.name, round)
	dir := filepath.Join(c.workDir, fmt.Sprintf("r%d-%s", round, t.name))
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(dir, 0o755); err != nil {
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
		"-url", t.ingestURL, "-lines", strconv.FormatInt(c.lines, 10), "-batch", strconv.Itoa(c.batch),
		"-concurrency", strconv.Itoa(c.conc), "-seed", strconv.FormatUint(c.seed, 10),
		"-start-ms", strconv.FormatInt(c.windowStart.UnixMilli(), 10), "-window", "1h"}, &r)
	if err != nil {
		return err
	}
	logf("%s ingest: %d lines accepted in %.1fs = %.0f lines/s (%.1f MB/s), %d rejected, %d errors",
		tag, r.AcceptedLines, r.ElapsedSec, r.LinesPerSec, r.MBPerSec, r.RejectedLines, r.Errors)
	if r.FirstError != "" {
		logf("%s first error: %s", tag, r.FirstError)
	}
	if r.AcceptedLines == 0 {
		return fmt.Errorf("no line accepted: %s", r.FirstError)
	}
	res.Add("Ingest, JSON lines over HTTP at saturation", "lines/s", report.Higher, t.name, r.LinesPerSec)

	t0 := time.Now()
	if err := t.flush(ctx, data, c.flushWait); err != nil {
		logf("%s WARNING: flush: %v", tag, err)
	}
	logf("%s flushed in %.1fs", tag, time.Since(t0).Seconds())

	for _, q := range queries {
		hits, err := t.count(ctx, q, c.windowStart, c.windowEnd)
		if err != nil {
			return fmt.Errorf("count %s: %w", q.name, err)
		}
		lat, n, err := queryLatency(ctx, t, q, c.windowStart, c.windowEnd, c.queryLimit, c.queryReps)
		if err != nil {
			return fmt.Errorf("query %s: %w", q.name, err)
		}
		if n == 0 {
			res.Failure(fmt.Sprintf("%s %s returned no lines; latency not recorded", tag, q.name))
			logf("%s WARNING: %s returned no lines; latency not recorded", tag, q.name)
			continue
		}
		p50, p99 := report.Quantile(lat, 0.5)*1000, report.Quantile(lat, 0.99)*1000
		logf("%s %s (%s): %d hits in the window, newest %d returned; p50 %.1f ms, p99 %.1f ms",
			tag, q.name, t.queryText(q), hits, n, p50, p99)
		title := fmt.Sprintf("Query %s over %d lines in 1 h, newest %d returned", q.name, c.lines, c.queryLimit)
		res.Add(title+", p50", "ms", report.Lower, t.name, p50)
		res.Add(title+", p99", "ms", report.Lower, t.name, p99)
		res.Add(fmt.Sprintf("Hits counted for %s in the window", q.name), "lines", report.Check, t.name, float64(hits))
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
	logf("%s stopped in %.1fs; data dir: %s", tag, stopIn.Seconds(), proc.DuBreakdown(data, "logs", "partitions"))
	logf("%s %s: %d bytes for %d lines = %.1f bytes/line (raw %.1f bytes/line, ratio %.3f); by file type: %s", tag, store, size, r.AcceptedLines,
		float64(size)/float64(r.AcceptedLines), float64(r.RawBytes)/float64(r.AcceptedLines), float64(size)/float64(r.RawBytes), proc.DuByExt(store))
	res.Add("Bytes on disk per line after flush and stop", "bytes", report.Lower, t.name, float64(size)/float64(r.AcceptedLines))
	res.Add("Bytes on disk / raw bytes sent", "ratio", report.Lower, t.name, float64(size)/float64(r.RawBytes))
	return nil
}
