// Command vigil is the whole Vigil observability stack in one process: see the README.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	vmetrics "github.com/VictoriaMetrics/metrics"
	"go.yaml.in/yaml/v3"

	"github.com/vigilhq/vigil/internal/buildinfo"
)

func main() {
	// Type and help lines in /metrics let the TSDB and Grafana know counters from gauges.
	vmetrics.ExposeMetadata(true)

	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		cancel() // graceful: stop accepting, flush, close stores
		<-sigs
		fmt.Fprintln(os.Stderr, "vigil: second signal, exiting at once without a clean shutdown")
		os.Exit(1)
	}()

	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case isUsageError(err):
		fmt.Fprintln(os.Stderr, "vigil:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "vigil:", err)
		os.Exit(1)
	}
}

// run is the whole program, minus process-level concerns (signals, exit codes), so that
// tests can drive it: it returns when ctx ends and everything has stopped.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "version" {
		bi := buildinfo.Get()
		fmt.Fprintf(stdout, "vigil %s (commit %s, branch %s, built %s, %s)\n", bi.Version, bi.Commit, bi.Branch, bi.BuildDate, bi.GoVersion)
		return nil
	}
	c, err := parseArgs(args, stderr)
	if err != nil {
		return err
	}
	cfg, err := c.load()
	if err != nil {
		return usageError{err}
	}
	if c.printConfig {
		enc := yaml.NewEncoder(stdout)
		enc.SetIndent(2)
		if err := enc.Encode(cfg); err != nil {
			return fmt.Errorf("print config: %w", err)
		}
		return enc.Close()
	}
	level := new(slog.LevelVar)
	lvl, _ := parseLogLevel(cfg.LogLevel)
	level.Set(lvl)
	log := newLogger(cfg, level, stderr)
	a, err := newApp(c, cfg, log, level)
	if err != nil {
		return err
	}
	return a.run(ctx)
}
