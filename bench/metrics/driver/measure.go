package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vigilhq/vigil/bench/internal/proc"
	"github.com/vigilhq/vigil/bench/internal/report"
)

// loadgenResult is the JSON line loadgen prints last.
type loadgenResult struct {
	AcceptedSamples int64            `json:"accepted_samples"`
	Errors          int64            `json:"errors"`
	ErrorsByStatus  map[string]int64 `json:"errors_by_status"`
	FirstError      string           `json:"first_error"`
	SamplesPerSec   float64          `json:"samples_per_s"`
	SteadyPerSec    float64          `json:"steady_samples_per_s"`
	FirstStepSec    float64          `json:"first_step_s"`
	Steps           int64            `json:"steps"`
	SimStartMs      int64            `json:"sim_start_ms"`
	SimEndMs        int64            `json:"sim_end_ms"`
	StopReason      string           `json:"stop_reason"`
	ElapsedSec      float64          `json:"elapsed_s"`
}

// runLoadgen runs the generator with args, its progress going to log.
func runLoadgen(ctx context.Context, bin, log string, args ...string) (*loadgenResult, error) {
	lf, err := os.OpenFile(log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer lf.Close()
	fmt.Fprintf(lf, "\n$ loadgen %s\n", strings.Join(args, " "))
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &out, lf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("loadgen %s: %w (see %s)", strings.Join(args, " "), err, log)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var r loadgenResult
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		return nil, fmt.Errorf("loadgen output %q: %w", out.String(), err)
	}
	return &r, nil
}

// rssSampler records VmRSS once a second until stopped.
type rssSampler struct {
	mu      sync.Mutex
	samples []float64 // KiB
	stopc   chan struct{}
	done    chan struct{}
}

func sampleRSS(pid int) *rssSampler {
	s := &rssSampler{stopc: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-s.stopc:
				return
			case <-tick.C:
				if v, err := proc.StatusKiB(pid, "VmRSS"); err == nil {
					s.mu.Lock()
					s.samples = append(s.samples, v)
					s.mu.Unlock()
				}
			}
		}
	}()
	return s
}

// stop returns the median VmRSS over the second half of the run, in MiB: the plateau once
// every series exists, not the peak of its creation.
func (s *rssSampler) stop() float64 {
	close(s.stopc)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.samples) == 0 {
		return 0
	}
	return report.Median(s.samples[len(s.samples)/2:]) / 1024
}

// promBlocks sums the on-disk size and the sample count (from meta.json) of the persisted
// blocks of a Prometheus TSDB: the compacted part, without WAL and head chunks.
func promBlocks(dir string) (bytes, samples int64, blocks []string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !e.IsDir() || len(e.Name()) != 26 { // ULID
			continue
		}
		raw, err := os.ReadFile(filepath.Join(dir, e.Name(), "meta.json"))
		if err != nil {
			continue
		}
		var meta struct {
			Stats struct {
				NumSamples int64 `json:"numSamples"`
			} `json:"stats"`
		}
		if json.Unmarshal(raw, &meta) != nil {
			continue
		}
		bytes += proc.DiskBytes(filepath.Join(dir, e.Name()))
		samples += meta.Stats.NumSamples
		blocks = append(blocks, e.Name())
	}
	sort.Strings(blocks)
	return bytes, samples, blocks
}

// waitBlocksSettled waits until the block list has not changed for quiet, or for at most max:
// Prometheus's TSDB compacts the head and merges blocks in the background.
func waitBlocksSettled(ctx context.Context, dir string, quiet, max time.Duration) {
	_, _, last := promBlocks(dir)
	since := time.Now()
	deadline := time.Now().Add(max)
	for time.Now().Before(deadline) && time.Since(since) < quiet {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
		_, _, cur := promBlocks(dir)
		if strings.Join(cur, ",") != strings.Join(last, ",") {
			last, since = cur, time.Now()
		}
	}
}

// scrapeMetric sums the values of the series of name (with the label filter, if any, a
// substring of the series' label text) on a /metrics page.
func scrapeMetric(u, name, filter string) (float64, error) {
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Get(u)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var sum float64
	found := false
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		if rest == "" || (rest[0] != ' ' && rest[0] != '{') || !strings.Contains(rest, filter) {
			continue
		}
		f := strings.Fields(rest[strings.LastIndex(rest, "}")+1:])
		if len(f) == 0 {
			continue
		}
		if v, err := strconv.ParseFloat(f[0], 64); err == nil {
			sum += v
			found = true
		}
	}
	if !found {
		return 0, fmt.Errorf("%s%s not on %s", name, filter, u)
	}
	return sum, sc.Err()
}

// vmFlush asks VictoriaMetrics to make every row written so far searchable.
func vmFlush(t *target) error {
	resp, err := (&http.Client{Timeout: 5 * time.Minute}).Get(t.base() + "/internal/force_flush")
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("/internal/force_flush: HTTP %d", resp.StatusCode)
	}
	return nil
}

// duBreakdown lists the disk usage of each top-level entry of dir.
func duBreakdown(dir string) string {
	entries, _ := os.ReadDir(dir)
	var parts []string
	for _, e := range entries {
		parts = append(parts, fmt.Sprintf("%s=%s", e.Name(), proc.MiB(proc.DiskBytes(filepath.Join(dir, e.Name())))))
		if e.IsDir() && (e.Name() == "metrics" || e.Name() == "data") { // one level deeper into the TSDB
			sub, _ := os.ReadDir(filepath.Join(dir, e.Name()))
			for _, s := range sub {
				if len(s.Name()) != 26 { // not a block
					parts = append(parts, fmt.Sprintf("%s/%s=%s", e.Name(), s.Name(), proc.MiB(proc.DiskBytes(filepath.Join(dir, e.Name(), s.Name())))))
				}
			}
		}
	}
	return strings.Join(parts, " ")
}

// vmForceMerge flushes VictoriaMetrics' in-memory parts and merges every partition, waiting
// (at most max) for the merges to finish.
func vmForceMerge(ctx context.Context, t *target, max time.Duration) error {
	c := &http.Client{Timeout: 10 * time.Minute}
	for _, p := range []string{"/internal/force_flush", "/internal/force_merge"} {
		resp, err := c.Get(t.base() + p)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("%s: HTTP %d", p, resp.StatusCode)
		}
	}
	deadline := time.Now().Add(max)
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
		active, err := scrapeMetric(t.metricsURL(), "vm_active_force_merges", "")
		if err != nil {
			return err
		}
		if active == 0 {
			return nil
		}
	}
	return fmt.Errorf("force merge still running after %s", max)
}

// dashboardQuery is one panel of a node_exporter dashboard.
type dashboardQuery struct{ name, promql string }

func dashboardQueries(host string) []dashboardQuery {
	return []dashboardQuery{
		{"cpu by mode, all hosts", `sum by (mode) (rate(node_cpu_seconds_total{job="node"}[5m]))`},
		{"cpu busy %, one host", fmt.Sprintf(`100 * (1 - avg(rate(node_cpu_seconds_total{job="node",instance=%q,mode="idle"}[5m])))`, host)},
	}
}

// queryLatency runs q over [end-window, end] reps times after one warm-up, one at a time, and
// returns the latencies in seconds and the number of series in the answer.
func queryLatency(ctx context.Context, base, q string, end time.Time, window, step time.Duration, reps int) ([]float64, int, error) {
	v := url.Values{}
	v.Set("query", q)
	v.Set("start", strconv.FormatInt(end.Add(-window).Unix(), 10))
	v.Set("end", strconv.FormatInt(end.Unix(), 10))
	v.Set("step", strconv.Itoa(int(step.Seconds())))
	u := base + "/api/v1/query_range?" + v.Encode()
	c := &http.Client{Timeout: 5 * time.Minute}
	var lat []float64
	nSeries := 0
	for i := 0; i <= reps; i++ {
		if ctx.Err() != nil {
			return nil, 0, ctx.Err()
		}
		t0 := time.Now()
		resp, err := c.Get(u)
		if err != nil {
			return nil, 0, err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		d := time.Since(t0).Seconds()
		if err != nil {
			return nil, 0, err
		}
		var r struct {
			Status string `json:"status"`
			Error  string `json:"error"`
			Data   struct {
				Result []json.RawMessage `json:"result"`
			} `json:"data"`
		}
		if err := json.Unmarshal(body, &r); err != nil || r.Status != "success" {
			return nil, 0, fmt.Errorf("query_range %s: HTTP %d: %.300s", q, resp.StatusCode, body)
		}
		if i == 0 {
			nSeries = len(r.Data.Result)
			continue // warm-up: page cache, postings, parsed query
		}
		lat = append(lat, d)
	}
	return lat, nSeries, nil
}
