// Command driver runs the metrics benchmark: Vigil, Prometheus and VictoriaMetrics one after
// the other in alternating rounds (ABCABC...), each on a fresh data directory, fed by the same
// loadgen, and prints one table per figure. run.sh installs the peers, builds the binaries and
// calls it; see README.md for what is measured and how.
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
	workDir                               string
	vigilBin, prometheusBin, vmBin, lgBin string
	vmFlags                               []string
	targets                               []string
	series                                []int
	rounds                                int
	ingest, otlp                          time.Duration
	shards, batch                         int
	history                               time.Duration
	historyTimeout                        time.Duration
	querySeries, queryReps                int
	compactWait                           time.Duration
	restartHead                           time.Duration
	restartTargets                        []string
	restartReps                           int
	basePort                              int
	startTimeout                          time.Duration
}

const interval = 15 * time.Second

func main() {
	var c config
	var targets, series, restartTargets, vmFlags string
	flag.StringVar(&c.workDir, "work-dir", "", "scratch directory for data directories and logs (required)")
	flag.StringVar(&c.vigilBin, "vigil", "bin/vigil", "vigil binary")
	flag.StringVar(&c.prometheusBin, "prometheus", "prometheus", "prometheus binary")
	flag.StringVar(&c.vmBin, "victoria-metrics", "victoria-metrics", "victoria-metrics binary")
	flag.StringVar(&c.lgBin, "loadgen", "loadgen", "loadgen binary")
	flag.StringVar(&vmFlags, "vm-flags", "-search.disableCache", "extra VictoriaMetrics flags, space-separated")
	flag.StringVar(&targets, "targets", "vigil,prometheus,victoriametrics", "systems, in round order")
	flag.StringVar(&series, "series", "100000,1000000", "active series counts, each a full set of rounds")
	flag.IntVar(&c.rounds, "rounds", 3, "rounds (each runs every target once)")
	flag.DurationVar(&c.ingest, "ingest", 60*time.Second, "remote-write saturation run")
	flag.DurationVar(&c.otlp, "otlp", 30*time.Second, "OTLP saturation run (0: skip)")
	flag.IntVar(&c.shards, "shards", 4, "loadgen concurrency")
	flag.IntVar(&c.batch, "batch", 2000, "samples per request")
	flag.DurationVar(&c.history, "history", 25*time.Hour, "simulated history written before the queries")
	flag.DurationVar(&c.historyTimeout, "history-timeout", 30*time.Minute, "give up writing the history after this long")
	flag.IntVar(&c.querySeries, "query-series", 10000, "series of the history that the queries read")
	flag.IntVar(&c.queryReps, "query-reps", 20, "timed runs of each query")
	flag.DurationVar(&c.compactWait, "compact-wait", 3*time.Minute, "longest wait for compaction to settle")
	flag.DurationVar(&c.restartHead, "restart-head", 2*time.Hour, "simulated span of the head in the restart test (0: skip it)")
	flag.StringVar(&restartTargets, "restart-targets", "vigil", "systems whose restart is timed")
	flag.IntVar(&c.restartReps, "restart-reps", 1, "restarts timed per system")
	flag.IntVar(&c.basePort, "base-port", 19700, "vigil on base (+1, +2 OTLP), prometheus on base+10, victoriametrics on base+20")
	flag.DurationVar(&c.startTimeout, "start-timeout", 15*time.Minute, "longest wait for a target to become ready")
	flag.Parse()
	if c.workDir == "" {
		fmt.Fprintln(os.Stderr, "driver: -work-dir is required")
		os.Exit(2)
	}
	c.targets = splitList(targets)
	c.restartTargets = splitList(restartTargets)
	c.vmFlags = strings.Fields(vmFlags)
	for _, s := range splitList(series) {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "driver: bad -series %q\n", s)
			os.Exit(2)
		}
		c.series = append(c.series, n)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer proc.KillAll()
	b := &bench{c: c, all: newTargets(c), res: newResults()}
	for _, name := range append(append([]string{}, c.targets...), c.restartTargets...) {
		if b.all[name] == nil {
			fmt.Fprintf(os.Stderr, "driver: unknown target %q\n", name)
			os.Exit(2)
		}
	}
	err := b.run(ctx)
	b.res.print(os.Stdout, c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "driver:", err)
		proc.KillAll()
		os.Exit(1)
	}
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		out = append(out, f)
	}
	return out
}

type bench struct {
	c   config
	all map[string]*target
	res *results
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func (b *bench) run(ctx context.Context) error {
	for _, n := range b.c.series {
		for round := 1; round <= b.c.rounds; round++ {
			for _, name := range b.c.targets {
				if err := b.runOnce(ctx, b.all[name], n, round); err != nil {
					if ctx.Err() != nil {
						return ctx.Err()
					}
					logf("[%s %d series, round %d] FAILED: %v", name, n, round, err)
					b.res.failure(fmt.Sprintf("%s, %d series, round %d: %v", name, n, round, err))
				}
			}
		}
		if b.c.restartHead > 0 {
			for _, name := range b.c.restartTargets {
				if err := b.restartTest(ctx, b.all[name], n); err != nil {
					if ctx.Err() != nil {
						return ctx.Err()
					}
					logf("[%s %d series, restart] FAILED: %v", name, n, err)
					b.res.failure(fmt.Sprintf("%s, %d series, restart test: %v", name, n, err))
				}
			}
		}
	}
	return nil
}

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// loadgenArgs are the flags every run shares.
func (b *bench) loadgenArgs(url string, series int, prefix string) []string {
	return []string{"-url", url, "-series", strconv.Itoa(series), "-host-prefix", prefix,
		"-shards", strconv.Itoa(b.c.shards), "-batch", strconv.Itoa(b.c.batch), "-progress", "10s"}
}

// runOnce is one target in one round: ingest at saturation (remote write, then OTLP), RSS,
// the simulated history and the dashboard queries over it, then the size on disk.
func (b *bench) runOnce(ctx context.Context, t *target, n, round int) error {
	tag := fmt.Sprintf("[%s %d series, round %d]", t.name, n, round)
	dir := filepath.Join(b.c.workDir, fmt.Sprintf("s%d-r%d-%s", n, round, t.name))
	data, tlog, glog := filepath.Join(dir, "data"), filepath.Join(dir, "target.log"), filepath.Join(dir, "loadgen.log")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	defer os.RemoveAll(data) // the next target gets the disk (and page cache) to itself
	p, readyIn, err := start(ctx, t, data, dir, tlog, b.c.startTimeout)
	if p != nil {
		defer p.Stop(2 * time.Minute)
	}
	if err != nil {
		return err
	}
	logf("%s ready in %.2fs (pid %d); logs in %s", tag, readyIn.Seconds(), p.Pid(), dir)

	// Simulated time: the saturation runs write 8 days back (well inside every retention),
	// and stop before the history, which ends at now; every phase is later than the one
	// before, as a TSDB head only takes samples within an hour of its newest.
	now := time.Now().Truncate(interval)
	histStart := now.Add(-b.c.history)
	capAt := histStart.Add(-time.Hour)
	var total int64

	rss := sampleRSS(p.Pid())
	r, err := runLoadgen(ctx, b.c.lgBin, glog, append(b.loadgenArgs(t.writeURL(), n, "node"),
		"-start-ms", ms(now.Add(-8*24*time.Hour)), "-sim-end-ms", ms(capAt), "-duration", b.c.ingest.String())...)
	steady := rss.stop()
	if err != nil {
		return err
	}
	peak, _ := proc.StatusKiB(p.Pid(), "VmHWM")
	total += r.AcceptedSamples
	logf("%s remote write: %.0f samples/s steady (%.0f overall), %d errors, first step (series creation) %.1fs, %d steps, stop: %s; RSS %.0f MiB steady, %.0f MiB peak",
		tag, r.SteadyPerSec, r.SamplesPerSec, r.Errors, r.FirstStepSec, r.Steps, r.StopReason, steady, peak/1024)
	if r.FirstError != "" {
		logf("%s first error: %s", tag, r.FirstError)
	}
	b.res.add(n, "Ingest, remote write 1.0 at saturation", "samples/s", true, t.name, r.SteadyPerSec)
	b.res.add(n, "Ingest errors (remote write)", "failed requests", false, t.name, float64(r.Errors))
	b.res.add(n, "RSS, steady, during ingest", "MiB", false, t.name, steady)
	b.res.add(n, "RSS, peak (VmHWM) after ingest", "MiB", false, t.name, peak/1024)
	b.res.add(n, "RSS per active series (steady RSS / series)", "KiB", false, t.name, steady*1024/float64(n))

	next := time.UnixMilli(r.SimEndMs).Add(interval)
	switch {
	case b.c.otlp <= 0:
	case t.otlpURL == "":
		logf("%s OTLP: no OTLP metrics receiver, skipped", tag)
	case !next.Before(capAt):
		logf("%s OTLP: no simulated time left before the history, skipped", tag)
	default:
		o, err := runLoadgen(ctx, b.c.lgBin, glog, append(b.loadgenArgs(t.otlpURL, n, "otel"), "-protocol", "otlp",
			"-start-ms", ms(next), "-sim-end-ms", ms(capAt), "-duration", b.c.otlp.String())...)
		if err != nil {
			return err
		}
		total += o.AcceptedSamples
		logf("%s OTLP: %.0f samples/s steady (%.0f overall), %d errors", tag, o.SteadyPerSec, o.SamplesPerSec, o.Errors)
		if o.FirstError != "" {
			logf("%s first OTLP error: %s", tag, o.FirstError)
		}
		b.res.add(n, "Ingest, OTLP/HTTP protobuf at saturation", "samples/s", true, t.name, o.SteadyPerSec)
	}

	h, err := runLoadgen(ctx, b.c.lgBin, glog, append(b.loadgenArgs(t.writeURL(), b.c.querySeries, "qnode"),
		"-start-ms", ms(histStart), "-sim-end-ms", ms(now), "-duration", b.c.historyTimeout.String())...)
	if err != nil {
		return err
	}
	total += h.AcceptedSamples
	logf("%s history: %d series x %s written at %.0f samples/s, %d errors, stop: %s",
		tag, b.c.querySeries, b.c.history, h.SamplesPerSec, h.Errors, h.StopReason)
	if h.StopReason != "steps" {
		logf("%s WARNING: history incomplete (history-timeout %s); query figures cover less data", tag, b.c.historyTimeout)
	}
	b.res.add(n, fmt.Sprintf("Ingest, remote write, writing the %s history of %d series", b.c.history, b.c.querySeries),
		"samples/s", true, t.name, h.SamplesPerSec)

	if t.vm {
		// VictoriaMetrics makes freshly written rows searchable only after its next flush.
		if err := vmFlush(t); err != nil {
			return err
		}
	}
	end := time.UnixMilli(h.SimEndMs)
	for _, q := range dashboardQueries("qnode-00000:9100") {
		for _, w := range []struct {
			name         string
			window, step time.Duration
		}{{"1h", time.Hour, 15 * time.Second}, {"24h", 24 * time.Hour, time.Minute}} {
			lat, nSeries, err := queryLatency(ctx, t.base(), q.promql, end, w.window, w.step, b.c.queryReps)
			if err != nil {
				return err
			}
			if nSeries == 0 {
				// An empty answer is fast and meaningless: no figure rather than a wrong one.
				b.res.failure(fmt.Sprintf("%s query %q over %s returned no series; latency not recorded", tag, q.name, w.name))
				logf("%s WARNING: query %q over %s returned no series; latency not recorded", tag, q.name, w.name)
				continue
			}
			p50, p99 := report.Quantile(lat, 0.5)*1000, report.Quantile(lat, 0.99)*1000
			logf("%s query %q over %s (step %s): p50 %.1f ms, p99 %.1f ms, %d series returned",
				tag, q.name, w.name, w.step, p50, p99, nSeries)
			title := fmt.Sprintf("query_range %s, %s window (step %s)", q.name, w.name, w.step)
			b.res.add(n, title+", p50", "ms", false, t.name, p50)
			b.res.add(n, title+", p99", "ms", false, t.name, p99)
		}
	}

	var compBytes, compSamples int64
	if t.vm {
		if err := vmForceMerge(ctx, t, b.c.compactWait); err != nil {
			logf("%s WARNING: force merge: %v", tag, err)
		}
		compBytes = proc.DiskBytes(filepath.Join(data, "data")) + proc.DiskBytes(filepath.Join(data, "indexdb"))
		rows, err := scrapeMetric(t.metricsURL(), "vm_rows", `type="storage/`)
		if err != nil {
			return err
		}
		compSamples = int64(rows)
	} else {
		waitBlocksSettled(ctx, t.promTSDB(data), 15*time.Second, b.c.compactWait)
		var blocks []string
		compBytes, compSamples, blocks = promBlocks(t.promTSDB(data))
		logf("%s %d blocks", tag, len(blocks))
	}
	if compSamples > 0 {
		bps := float64(compBytes) / float64(compSamples)
		logf("%s compacted: %d bytes for %d samples = %.3f bytes/sample", tag, compBytes, compSamples, bps)
		b.res.add(n, "Bytes on disk per sample, compacted (see README)", "bytes", false, t.name, bps)
	}
	stopIn, err := p.Stop(2 * time.Minute)
	if err != nil {
		return err
	}
	rest := proc.DiskBytes(data)
	logf("%s data dir by top-level entry: %s", tag, duBreakdown(data))
	logf("%s stopped in %.1fs; whole data dir %d bytes for %d accepted samples = %.3f bytes/sample",
		tag, stopIn.Seconds(), rest, total, float64(rest)/float64(total))
	b.res.add(n, "Bytes on disk per sample, whole data dir after stop (incl. WAL/head)", "bytes", false, t.name, float64(rest)/float64(total))
	return nil
}

// restartTest fills a head of restartHead simulated time with n series, then times restarts.
func (b *bench) restartTest(ctx context.Context, t *target, n int) error {
	tag := fmt.Sprintf("[%s %d series, restart]", t.name, n)
	dir := filepath.Join(b.c.workDir, fmt.Sprintf("s%d-restart-%s", n, t.name))
	data, tlog, glog := filepath.Join(dir, "data"), filepath.Join(dir, "target.log"), filepath.Join(dir, "loadgen.log")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	defer os.RemoveAll(data)
	p, _, err := start(ctx, t, data, dir, tlog, b.c.startTimeout)
	if p != nil {
		defer func() { p.Stop(2 * time.Minute) }()
	}
	if err != nil {
		return err
	}
	now := time.Now().Truncate(interval)
	r, err := runLoadgen(ctx, b.c.lgBin, glog, append(b.loadgenArgs(t.writeURL(), n, "node"),
		"-start-ms", ms(now.Add(-b.c.restartHead)), "-sim-span", b.c.restartHead.String(), "-duration", b.c.historyTimeout.String())...)
	if err != nil {
		return err
	}
	logf("%s head filled: %d samples (%s of %d series) at %.0f samples/s, stop: %s",
		tag, r.AcceptedSamples, b.c.restartHead, n, r.SamplesPerSec, r.StopReason)
	for i := 0; i < b.c.restartReps; i++ {
		stopIn, err := p.Stop(5 * time.Minute)
		if err != nil {
			return err
		}
		var readyIn time.Duration
		p, readyIn, err = start(ctx, t, data, dir, tlog, b.c.startTimeout)
		if err != nil {
			return err
		}
		head := "n/a"
		if !t.vm {
			if v, err := scrapeMetric(t.metricsURL(), "prometheus_tsdb_head_series", ""); err == nil {
				head = strconv.FormatFloat(v, 'f', 0, 64)
			}
		}
		logf("%s stop %.1fs, start to ready %.2fs, head series after restart: %s", tag, stopIn.Seconds(), readyIn.Seconds(), head)
		b.res.add(n, fmt.Sprintf("Restart: start to ready with a %s head", b.c.restartHead), "s", false, t.name, readyIn.Seconds())
	}
	return nil
}
