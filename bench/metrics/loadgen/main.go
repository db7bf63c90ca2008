// Command loadgen sends node_exporter-like metrics to a remote-write 1.0 or OTLP/HTTP endpoint
// as fast as the target accepts them (or at real-time pace), and prints what was accepted.
//
// Simulated time: every series gets one sample per -interval of simulated time, starting at
// -start-ms (or now - -start-ago). Step k is the scrape at start + k*interval. At saturation
// the shards move to the next step as soon as the target has acknowledged the previous one,
// so simulated time runs as fast as the target ingests; with -realtime a step is not sent
// before its time has come. No shard runs more than -max-lag steps ahead of the slowest, as
// scrapes of one instant arrive together in real life, and a TSDB head only takes samples
// within an hour of its newest one.
//
// Batching follows Prometheus's queue manager: each shard owns a fixed subset of the series
// (like its hash sharding), and sends them in requests of -batch samples, one TimeSeries per
// sample. A 5xx, a 429 or a connection error is retried with backoff (as Prometheus does);
// any other 4xx drops the batch and is counted as an error.
//
// The run ends after -duration, -samples, -sim-span or at -sim-end-ms, whichever comes first.
// The last line on stdout is a JSON summary (see result); progress goes to stderr.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type config struct {
	url         string
	protocol    string
	series      int
	hostPrefix  string
	seed        uint64
	interval    time.Duration
	batch       int
	shards      int
	maxLag      int
	duration    time.Duration
	samples     int64
	startMs     int64
	startAgo    time.Duration
	simEndMs    int64
	simSpan     time.Duration
	realtime    bool
	warmup      time.Duration
	timeout     time.Duration
	maxRetries  int
	progress    time.Duration
	printSeries bool
}

// result is the JSON summary printed at the end.
type result struct {
	Protocol        string           `json:"protocol"`
	URL             string           `json:"url"`
	Series          int              `json:"series"`
	Hosts           int              `json:"hosts"`
	Shards          int              `json:"shards"`
	Batch           int              `json:"batch"`
	AcceptedSamples int64            `json:"accepted_samples"`
	FailedSamples   int64            `json:"failed_samples"`
	Requests        int64            `json:"requests"`
	Errors          int64            `json:"errors"`
	Retries         int64            `json:"retries"`
	ErrorsByStatus  map[string]int64 `json:"errors_by_status,omitempty"`
	FirstError      string           `json:"first_error,omitempty"`
	ElapsedSec      float64          `json:"elapsed_s"`
	SamplesPerSec   float64          `json:"samples_per_s"`
	SteadyPerSec    float64          `json:"steady_samples_per_s"`
	FirstStepSec    float64          `json:"first_step_s"` // time until every series existed
	Steps           int64            `json:"steps"`        // steps completed by every shard
	SimStartMs      int64            `json:"sim_start_ms"`
	SimEndMs        int64            `json:"sim_end_ms"` // timestamp of the last complete step
	StopReason      string           `json:"stop_reason"`
}

func main() {
	var c config
	flag.StringVar(&c.url, "url", "http://127.0.0.1:9700/api/v1/write", "write endpoint (remote write 1.0, or OTLP/HTTP .../v1/metrics)")
	flag.StringVar(&c.protocol, "protocol", "rw", "rw (remote write 1.0, snappy protobuf) or otlp (OTLP/HTTP protobuf)")
	flag.IntVar(&c.series, "series", 10000, "active series")
	flag.StringVar(&c.hostPrefix, "host-prefix", "node", "instance names are <prefix>-NNNNN:9100")
	flag.Uint64Var(&c.seed, "seed", 1, "seed of the value generator")
	flag.DurationVar(&c.interval, "interval", 15*time.Second, "simulated scrape interval")
	flag.IntVar(&c.batch, "batch", 2000, "samples per request (Prometheus max_samples_per_send)")
	flag.IntVar(&c.shards, "shards", 4, "concurrent senders (Prometheus queue shards)")
	flag.IntVar(&c.maxLag, "max-lag", 2, "steps a shard may run ahead of the slowest")
	flag.DurationVar(&c.duration, "duration", 30*time.Second, "stop after this long (0: no limit)")
	flag.Int64Var(&c.samples, "samples", 0, "stop after this many samples (rounded up to whole steps; 0: no limit)")
	flag.Int64Var(&c.startMs, "start-ms", 0, "simulated time of the first step, Unix ms (0: now - start-ago)")
	flag.DurationVar(&c.startAgo, "start-ago", 0, "first step this long before now, when -start-ms is 0")
	flag.Int64Var(&c.simEndMs, "sim-end-ms", 0, "send no step after this Unix ms (0: no limit)")
	flag.DurationVar(&c.simSpan, "sim-span", 0, "stop once this much simulated time is covered (0: no limit)")
	flag.BoolVar(&c.realtime, "realtime", false, "send each step only once its simulated time has come (steady load instead of saturation)")
	flag.DurationVar(&c.warmup, "warmup", 5*time.Second, "steady rate excludes the first step (series creation) and this long after it")
	flag.DurationVar(&c.timeout, "timeout", 30*time.Second, "per-request timeout")
	flag.IntVar(&c.maxRetries, "max-retries", 10, "retries of a 5xx/429/connection error before a batch is dropped")
	flag.DurationVar(&c.progress, "progress", 5*time.Second, "progress line to stderr this often (0: none)")
	flag.BoolVar(&c.printSeries, "print-series-per-host", false, "print the number of series per simulated host and exit")
	flag.Parse()
	if c.printSeries {
		fmt.Println(seriesPerHost())
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := run(ctx, c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "loadgen: %s %d series: %d samples accepted in %.1fs = %.0f samples/s (steady %.0f/s), %d errors, %d retries, %d steps, stop: %s\n",
		res.Protocol, res.Series, res.AcceptedSamples, res.ElapsedSec, res.SamplesPerSec, res.SteadyPerSec, res.Errors, res.Retries, res.Steps, res.StopReason)
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
}

// gen is one run: the series split among shards, and what came back.
type gen struct {
	c      config
	client *http.Client

	accepted, failed, requests, errs, retries atomic.Int64

	mu         sync.Mutex
	byStatus   map[string]int64
	firstError string
	gate       *stepGate
}

func run(ctx context.Context, c config) (*result, error) {
	if c.protocol != "rw" && c.protocol != "otlp" {
		return nil, fmt.Errorf("unknown -protocol %q (want rw or otlp)", c.protocol)
	}
	if c.series <= 0 || c.batch <= 0 || c.shards <= 0 || c.interval <= 0 {
		return nil, errors.New("-series, -batch, -shards and -interval must be positive")
	}
	if c.duration == 0 && c.samples == 0 && c.simSpan == 0 && c.simEndMs == 0 {
		return nil, errors.New("set at least one of -duration, -samples, -sim-span, -sim-end-ms")
	}
	start := c.startMs
	if start == 0 {
		start = time.Now().Add(-c.startAgo).UnixMilli()
	}
	ivl := c.interval.Milliseconds()
	start -= start % ivl // scrapes land on whole intervals, like a Prometheus with no jitter
	maxSteps := int64(1<<62 - 1)
	if c.samples > 0 {
		maxSteps = (c.samples + int64(c.series) - 1) / int64(c.series)
	}
	if c.simSpan > 0 {
		maxSteps = min(maxSteps, c.simSpan.Milliseconds()/ivl)
	}
	if c.simEndMs > 0 {
		if c.simEndMs < start {
			return nil, fmt.Errorf("-sim-end-ms %d is before the first step %d", c.simEndMs, start)
		}
		maxSteps = min(maxSteps, (c.simEndMs-start)/ivl+1)
	}

	all := buildSeries(c.series, c.hostPrefix, c.seed)
	shards := make([][]*series, c.shards)
	for i := range all {
		shards[i%c.shards] = append(shards[i%c.shards], &all[i])
	}
	g := &gen{
		c: c,
		client: &http.Client{Timeout: c.timeout, Transport: &http.Transport{
			MaxIdleConnsPerHost: c.shards, DisableCompression: true, ForceAttemptHTTP2: false,
		}},
		byStatus: map[string]int64{},
		gate:     newStepGate(c.shards, c.maxLag),
	}
	runCtx := ctx
	if c.duration > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, c.duration)
		defer cancel()
	}
	stopGate := context.AfterFunc(runCtx, g.gate.wake)
	defer stopGate()

	began := time.Now()
	var firstStep atomic.Int64 // ns since began when every shard finished step 0
	type point struct {
		t time.Duration
		n int64
	}
	var timeline []point
	var tlMu sync.Mutex
	doneRep := make(chan struct{})
	go func() { // timeline for the steady rate, and progress lines
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		lastPrint := time.Now()
		for {
			select {
			case <-doneRep:
				return
			case now := <-tick.C:
				n := g.accepted.Load()
				tlMu.Lock()
				timeline = append(timeline, point{now.Sub(began), n})
				tlMu.Unlock()
				if firstStep.Load() == 0 && g.gate.minDone() >= 1 {
					firstStep.Store(int64(now.Sub(began)))
				}
				if c.progress > 0 && now.Sub(lastPrint) >= c.progress {
					lastPrint = now
					fmt.Fprintf(os.Stderr, "loadgen: %5.0fs %d samples (%.0f/s), step %d, %d errors, %d retries\n",
						now.Sub(began).Seconds(), n, float64(n)/now.Sub(began).Seconds(), g.gate.minDone(), g.errs.Load(), g.retries.Load())
				}
			}
		}
	}()

	var wg sync.WaitGroup
	shardErr := make([]error, c.shards)
	for i, ss := range shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			shardErr[i] = g.runShard(runCtx, i, ss, start, maxSteps)
		}()
	}
	wg.Wait()
	elapsed := time.Since(began)
	close(doneRep)
	for _, err := range shardErr {
		if err != nil {
			return nil, err
		}
	}

	steps := g.gate.minDone()
	res := &result{
		Protocol: c.protocol, URL: c.url, Series: c.series, Shards: c.shards, Batch: c.batch,
		Hosts:           (c.series + seriesPerHost() - 1) / seriesPerHost(),
		AcceptedSamples: g.accepted.Load(), FailedSamples: g.failed.Load(), Requests: g.requests.Load(),
		Errors: g.errs.Load(), Retries: g.retries.Load(), ErrorsByStatus: g.byStatus, FirstError: g.firstError,
		ElapsedSec: elapsed.Seconds(), Steps: steps, SimStartMs: start,
		SimEndMs: start + (steps-1)*ivl,
	}
	res.SamplesPerSec = float64(res.AcceptedSamples) / elapsed.Seconds()
	res.SteadyPerSec = res.SamplesPerSec
	if fs := time.Duration(firstStep.Load()); fs > 0 {
		res.FirstStepSec = fs.Seconds()
		from := fs + c.warmup
		for _, p := range timeline {
			if p.t >= from && elapsed-p.t >= time.Second {
				res.SteadyPerSec = float64(res.AcceptedSamples-p.n) / (elapsed - p.t).Seconds()
				break
			}
		}
	}
	switch {
	case ctx.Err() != nil:
		res.StopReason = "interrupted"
	case steps >= maxSteps:
		res.StopReason = "steps" // -samples, -sim-span or -sim-end-ms reached
	default:
		res.StopReason = "duration"
	}
	return res, nil
}

// runShard sends the shard's series step after step.
func (g *gen) runShard(ctx context.Context, shard int, ss []*series, start, maxSteps int64) error {
	var (
		rw   *rwEncoder
		otlp *otlpEncoder
	)
	if g.c.protocol == "rw" {
		rw = newRWEncoder(ss)
	} else {
		otlp = newOTLPEncoder(ss, time.UnixMilli(start).Add(-time.Hour))
	}
	r := rand.New(rand.NewPCG(g.c.seed, uint64(shard)))
	vs := make([]float64, g.c.batch)
	ivl := g.c.interval.Milliseconds()
	for step := int64(0); step < maxSteps; step++ {
		if !g.gate.wait(ctx, shard, step) {
			return nil
		}
		ts := start + step*ivl
		if g.c.realtime {
			if d := time.Until(time.UnixMilli(ts)); d > 0 {
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(d):
				}
			}
		}
		for from := 0; from < len(ss); from += g.c.batch {
			to := min(from+g.c.batch, len(ss))
			for i := from; i < to; i++ {
				vs[i-from] = ss[i].next(r, ts)
			}
			var body []byte
			if rw != nil {
				body = rw.encode(from, to, vs, ts)
			} else {
				var err error
				if body, err = otlp.encode(from, to, vs, ts); err != nil {
					return err
				}
			}
			if !g.send(ctx, body, int64(to-from)) {
				return nil
			}
		}
		g.gate.done(shard, step)
	}
	return nil
}

// send posts one batch, retrying as Prometheus's queue manager does. It returns false once
// ctx is done.
func (g *gen) send(ctx context.Context, body []byte, n int64) bool {
	backoff := 30 * time.Millisecond
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.c.url, bytes.NewReader(body))
		if err != nil {
			g.fail("request", err.Error(), n)
			return true
		}
		if g.c.protocol == "rw" {
			setRemoteWriteHeaders(req.Header)
		} else {
			setOTLPHeaders(req.Header)
		}
		g.requests.Add(1)
		resp, err := g.client.Do(req)
		var status int
		var msg []byte
		if err == nil {
			status = resp.StatusCode
			msg, _ = io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		if ctx.Err() != nil {
			return false // the run is over; this batch counts neither way
		}
		switch {
		case err == nil && status/100 == 2:
			rejected := int64(0)
			if g.c.protocol == "otlp" {
				rejected = min(otlpRejected(msg), n)
				if rejected > 0 {
					g.fail("partial", fmt.Sprintf("OTLP partial success: %d data points rejected: %s", rejected, msg), rejected)
				}
			}
			g.accepted.Add(n - rejected)
			return true
		case err == nil && status/100 == 4 && status != http.StatusTooManyRequests:
			g.fail(fmt.Sprint(status), fmt.Sprintf("HTTP %d: %s", status, bytes.TrimSpace(msg)), n)
			return true
		}
		if attempt >= g.c.maxRetries {
			what, detail := "conn", fmt.Sprint(err)
			if err == nil {
				what, detail = fmt.Sprint(status), fmt.Sprintf("HTTP %d: %s", status, bytes.TrimSpace(msg))
			}
			g.fail(what, detail+" (after retries)", n)
			return true
		}
		g.retries.Add(1)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

func (g *gen) fail(status, msg string, n int64) {
	g.errs.Add(1)
	g.failed.Add(n)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.byStatus[status]++
	if g.firstError == "" {
		if len(msg) > 300 {
			msg = msg[:300] + "..."
		}
		g.firstError = msg
		fmt.Fprintln(os.Stderr, "loadgen: first error:", msg)
	}
}

// stepGate keeps the shards within maxLag steps of each other.
type stepGate struct {
	mu     sync.Mutex
	cond   *sync.Cond
	steps  []int64 // steps completed, per shard
	maxLag int64
	closed bool
}

func newStepGate(shards, maxLag int) *stepGate {
	g := &stepGate{steps: make([]int64, shards), maxLag: int64(max(maxLag, 0))}
	g.cond = sync.NewCond(&g.mu)
	return g
}

func (g *stepGate) minLocked() int64 {
	m := g.steps[0]
	for _, s := range g.steps[1:] {
		m = min(m, s)
	}
	return m
}

func (g *stepGate) minDone() int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.minLocked()
}

// wait blocks until step may start; false if the run is over.
func (g *stepGate) wait(ctx context.Context, shard int, step int64) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for !g.closed && step-g.minLocked() > g.maxLag {
		g.cond.Wait()
	}
	return !g.closed && ctx.Err() == nil
}

func (g *stepGate) done(shard int, step int64) {
	g.mu.Lock()
	g.steps[shard] = step + 1
	g.mu.Unlock()
	g.cond.Broadcast()
}

// wake releases every waiter at the end of the run.
func (g *stepGate) wake() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	g.cond.Broadcast()
}
