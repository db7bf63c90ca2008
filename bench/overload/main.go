// Command overload drives Vigil far past what it sustains, with all three signals at once, and
// prints what happened (issue #9, "Proof"): offered and accepted rates, how many requests were
// refused with 429 / ResourceExhausted, peak RSS against the memory limit, and how many
// acknowledged items are missing afterwards (must be 0).
//
//	go run ./bench/overload -bin bin/vigil -duration 60s -memory-limit 1GiB
//
// Every worker sends as fast as Vigil answers and goes straight on after a refusal, so the
// offered rate is bounded only by the generator; it is printed next to the accepted rate.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/alecthomas/units"

	"github.com/vigilhq/vigil/bench/internal/proc"
)

func main() {
	var (
		bin      = flag.String("bin", "bin/vigil", "the vigil binary")
		duration = flag.Duration("duration", 60*time.Second, "how long to overload")
		memLimit = flag.String("memory-limit", "1GiB", "Vigil's --memory-limit")
		workers  = flag.Int("workers", 12, "concurrent senders per signal")
		basePort = flag.Int("base-port", 19950, "HTTP on this port, OTLP gRPC +1, OTLP HTTP +2")
		workDir  = flag.String("dir", "", "data dir and log (default: a fresh temp dir, removed on success)")
	)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer proc.KillAll()
	if err := run(ctx, *bin, *duration, *memLimit, *workers, *basePort, *workDir); err != nil {
		proc.KillAll()
		fmt.Fprintln(os.Stderr, "overload:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, bin string, duration time.Duration, memLimit string, workers, basePort int, workDir string) error {
	limit, err := units.ParseBase2Bytes(memLimit)
	if err != nil {
		return fmt.Errorf("-memory-limit: %w", err)
	}
	keep := workDir != ""
	if workDir == "" {
		if workDir, err = os.MkdirTemp("", "vigil-overload-*"); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(workDir, 0o755); err != nil {
		return err
	}
	logFile := filepath.Join(workDir, "vigil.log")
	spec := proc.Spec{
		Name: "vigil",
		Args: []string{bin, "--data-dir", filepath.Join(workDir, "data"), "--memory-limit", memLimit,
			"--http-listen", fmt.Sprintf("127.0.0.1:%d", basePort),
			"--otlp-grpc-listen", fmt.Sprintf("127.0.0.1:%d", basePort+1),
			"--otlp-http-listen", fmt.Sprintf("127.0.0.1:%d", basePort+2)},
		ReadyURL: fmt.Sprintf("http://127.0.0.1:%d/readyz", basePort),
		Ports:    []int{basePort, basePort + 1, basePort + 2},
	}
	p, _, err := proc.Start(ctx, spec, logFile, 5*time.Minute)
	if err != nil {
		return err
	}
	t := &target{http: fmt.Sprintf("http://127.0.0.1:%d", basePort), grpc: fmt.Sprintf("127.0.0.1:%d", basePort+1)}
	if err := t.dial(); err != nil {
		return err
	}
	defer t.close()

	fmt.Printf("# Vigil overload: %s, %d workers per signal, --memory-limit %s, work dir %s\n\n", duration, workers, memLimit, workDir)
	var peakRSS float64
	sample := func() {
		if kib, err := proc.StatusKiB(p.Pid(), "VmRSS"); err == nil && kib > peakRSS {
			peakRSS = kib
		}
	}
	start := time.Now()
	lctx, cancel := context.WithTimeout(ctx, duration)
	var wg sync.WaitGroup
	stats := map[string]*counts{"metrics": {}, "logs": {}, "traces": {}}
	for w := range workers {
		wg.Add(3)
		go func() { defer wg.Done(); t.metricsWorker(lctx, w, stats["metrics"]) }()
		go func() { defer wg.Done(); t.logsWorker(lctx, w, stats["logs"]) }()
		go func() { defer wg.Done(); t.tracesWorker(lctx, w, stats["traces"]) }()
	}
	tick := time.NewTicker(200 * time.Millisecond)
	for lctx.Err() == nil {
		select {
		case <-tick.C:
			sample()
		case <-lctx.Done():
		}
	}
	tick.Stop()
	cancel()
	wg.Wait()
	elapsed := time.Since(start)
	sample()
	hwm, _ := proc.StatusKiB(p.Pid(), "VmHWM")
	if ctx.Err() != nil {
		return ctx.Err()
	}
	alive := p.Alive()

	fmt.Printf("%-8s %14s %14s %9s %10s %10s %10s %8s\n", "signal", "offered/s", "accepted/s", "accepted", "2xx", "refused", "other", "lost")
	totalLost := 0
	for _, sig := range []string{"metrics", "logs", "traces"} {
		c := stats[sig]
		var lost int
		// Span metrics, which count the stored spans, are flushed every 15 s: read until they
		// cover what was acknowledged, or for two minutes.
		for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(5 * time.Second) {
			stored, err := t.stored(ctx, sig, start, time.Now())
			if err != nil {
				return fmt.Errorf("read back %s: %w", sig, err)
			}
			lost = 0
			for w, acked := range c.ackedByWorker() {
				if s := stored[w]; s < acked {
					lost += int(acked - s)
				}
			}
			if lost == 0 || sig != "traces" || time.Now().After(deadline) || ctx.Err() != nil {
				break
			}
		}
		totalLost += lost
		fmt.Printf("%-8s %14.0f %14.0f %8.1f%% %10d %10d %10d %8d\n", sig,
			float64(c.offered.Load())/elapsed.Seconds(), float64(c.acked.Load())/elapsed.Seconds(),
			100*float64(c.acked.Load())/max(1, float64(c.offered.Load())), c.ok.Load(), c.refused.Load(), c.other.Load(), lost)
	}
	fmt.Printf("\nitems are samples, log lines and spans; refused = 429 or ResourceExhausted; other = any other answer or none\n")
	fmt.Printf("peak RSS %.0f MiB (VmHWM %.0f MiB) against --memory-limit %s (%.0f MiB); process up after the run: %v\n",
		peakRSS/1024, hwm/1024, memLimit, float64(limit)/(1<<20), alive)
	fmt.Printf("lost acknowledged items: %d (acknowledged minus stored, per worker; exact when 'other' is 0)\n", totalLost)
	if _, err := p.Stop(time.Minute); err != nil {
		return err
	}
	if !alive || totalLost > 0 {
		return fmt.Errorf("process up: %v, lost acknowledged items: %d (see %s)", alive, totalLost, logFile)
	}
	if !keep {
		return os.RemoveAll(workDir)
	}
	return nil
}
