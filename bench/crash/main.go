// Command crash is Vigil's crash loop (issue #9): it starts Vigil, ingests metrics (remote
// write), logs (JSON lines) and traces (OTLP/HTTP) at once, kills the process with SIGKILL at a
// random moment, restarts it on the same data directory, and checks that every item that got
// a 2xx — in this round and every round before — is there. It prints how many items it checked
// and lost (must be 0) and how long each restart took, and exits 1 if anything was lost.
//
//	go run ./bench/crash -bin bin/vigil -rounds 20
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/vigilhq/vigil/bench/internal/proc"
	"github.com/vigilhq/vigil/bench/internal/report"
)

func main() {
	var (
		bin      = flag.String("bin", "bin/vigil", "the vigil binary")
		rounds   = flag.Int("rounds", 20, "start, ingest, kill -9, restart and check this many times")
		minRun   = flag.Duration("min-run", 500*time.Millisecond, "shortest ingest before a kill")
		maxRun   = flag.Duration("max-run", 4*time.Second, "longest ingest before a kill")
		basePort = flag.Int("base-port", 19900, "HTTP on this port, OTLP gRPC +1, OTLP HTTP +2")
		workDir  = flag.String("dir", "", "data dir and log (default: a fresh temp dir, removed on success)")
		seed     = flag.Uint64("seed", uint64(time.Now().UnixNano()), "random seed for the kill moments")
	)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer proc.KillAll()
	if err := run(ctx, *bin, *rounds, *minRun, *maxRun, *basePort, *workDir, *seed); err != nil {
		proc.KillAll()
		fmt.Fprintln(os.Stderr, "crash:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, bin string, rounds int, minRun, maxRun time.Duration, basePort int, workDir string, seed uint64) error {
	keep := workDir != ""
	if workDir == "" {
		d, err := os.MkdirTemp("", "vigil-crash-*")
		if err != nil {
			return err
		}
		workDir = d
	}
	if err := os.MkdirAll(workDir, 0o755); err != nil {
		return err
	}
	dataDir, logFile := filepath.Join(workDir, "data"), filepath.Join(workDir, "vigil.log")
	spec := proc.Spec{
		Name: "vigil",
		Args: []string{bin, "--data-dir", dataDir,
			"--http-listen", fmt.Sprintf("127.0.0.1:%d", basePort),
			"--otlp-grpc-listen", fmt.Sprintf("127.0.0.1:%d", basePort+1),
			"--otlp-http-listen", fmt.Sprintf("127.0.0.1:%d", basePort+2)},
		ReadyURL: fmt.Sprintf("http://127.0.0.1:%d/readyz", basePort),
		Ports:    []int{basePort, basePort + 1, basePort + 2},
	}
	t := &targets{
		http: fmt.Sprintf("http://127.0.0.1:%d", basePort),
		otlp: fmt.Sprintf("http://127.0.0.1:%d", basePort+2),
	}
	rng := rand.New(rand.NewPCG(seed, 0))
	ledger := newLedger()
	var restarts []float64
	fmt.Printf("# Vigil crash loop: %d rounds, kill -9 after %s..%s of ingest (seed %d), work dir %s\n\n",
		rounds, minRun, maxRun, seed, workDir)
	fmt.Printf("%5s %10s %12s %12s %12s %10s %8s\n", "round", "restart", "metrics", "log lines", "spans", "checked", "lost")

	for round := 0; round <= rounds; round++ {
		p, took, err := proc.Start(ctx, spec, logFile, 10*time.Minute)
		if err != nil {
			return fmt.Errorf("round %d: %w", round, err)
		}
		if round > 0 {
			restarts = append(restarts, took.Seconds())
		}
		checked, lost, err := ledger.verify(ctx, t)
		if err != nil {
			return fmt.Errorf("round %d: check what was acknowledged: %w", round, err)
		}
		m, l, s := ledger.totals()
		fmt.Printf("%5d %9.2fs %12d %12d %12d %10d %8d\n", round, took.Seconds(), m, l, s, checked, lost)
		if lost > 0 {
			return fmt.Errorf("round %d: %d acknowledged items lost (see %s)", round, lost, logFile)
		}
		if round == rounds {
			if _, err := p.Stop(time.Minute); err != nil {
				return err
			}
			break
		}
		// Ingest every signal at once, then kill at a random moment mid-stream.
		runFor := minRun + time.Duration(rng.Int64N(int64(maxRun-minRun)+1))
		wctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for _, w := range t.writers(round, ledger) {
			wg.Add(1)
			go func() { defer wg.Done(); w(wctx) }()
		}
		select {
		case <-time.After(runFor):
		case <-ctx.Done():
		}
		p.Kill() // writers are still sending: some requests die in flight, unacknowledged
		cancel()
		wg.Wait()
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	m, l, s := ledger.totals()
	fmt.Printf("\nchecked after every restart: %d samples, %d log lines, %d spans acknowledged in all; lost: 0\n", m, l, s)
	fmt.Printf("restart to ready after kill -9: median %.2fs, max %.2fs over %d restarts\n",
		report.Median(restarts), report.Quantile(restarts, 1), len(restarts))
	if !keep {
		return os.RemoveAll(workDir)
	}
	return nil
}

// writers returns one ingest loop per signal and worker for this round; each records what got
// a 2xx in the ledger.
func (t *targets) writers(round int, l *ledger) []func(context.Context) {
	var ws []func(context.Context)
	for w := range 2 {
		ws = append(ws,
			func(ctx context.Context) { t.writeMetrics(ctx, round, w, l) },
			func(ctx context.Context) { t.writeLogs(ctx, round, w, l) },
			func(ctx context.Context) { t.writeTraces(ctx, round, w, l) },
		)
	}
	return ws
}
