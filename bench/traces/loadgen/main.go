// Command loadgen sends generated traces (see traces.go) over OTLP gRPC to a collector
// endpoint — Vigil's or Jaeger's :4317 — in batches of -batch spans, as fast as the target
// accepts them, and prints what was accepted.
//
// -spans spans (rounded up to whole batches) are spread evenly over [-start-ms, +-window).
// Each of -concurrency senders has its own pre-built batch templates (traces.go) and one
// Export in flight. Unavailable and ResourceExhausted are retried with backoff, as the
// collector's exporters do; other errors drop the batch and count as errors. Partial-success
// rejections are subtracted from the accepted spans.
//
// The last line on stdout is a JSON summary (see result): with it come sample trace ids
// (with their span counts) spread over the run, and the last batch's first trace, which the
// driver reads back.
package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

type config struct {
	endpoint    string
	spans       int64
	batch       int
	concurrency int
	templates   int
	seed        uint64
	startMs     int64
	window      time.Duration
	timeout     time.Duration
	maxRetries  int
	samples     int
	progress    time.Duration
	dryRun      bool
}

// result is the JSON summary printed at the end.
type result struct {
	Endpoint      string        `json:"endpoint"`
	Batches       int64         `json:"batches"`
	AcceptedSpans int64         `json:"accepted_spans"`
	RejectedSpans int64         `json:"rejected_spans"`
	Errors        int64         `json:"errors"`
	Retries       int64         `json:"retries"`
	FirstError    string        `json:"first_error,omitempty"`
	ElapsedSec    float64       `json:"elapsed_s"`
	SpansPerSec   float64       `json:"spans_per_s"`
	Samples       []sampleTrace `json:"samples"`
	Last          sampleTrace   `json:"last"`
}

// sampleTrace is a sent trace the driver can look up.
type sampleTrace struct {
	ID    string `json:"id"`
	Spans int    `json:"spans"`
}

func main() {
	var c config
	flag.StringVar(&c.endpoint, "endpoint", "127.0.0.1:4317", "OTLP gRPC endpoint (plaintext)")
	flag.Int64Var(&c.spans, "spans", 1_000_000, "spans to send (rounded up to whole batches)")
	flag.IntVar(&c.batch, "batch", 512, "spans per Export request (whole traces of 5-30 spans)")
	flag.IntVar(&c.concurrency, "concurrency", 4, "concurrent senders")
	flag.IntVar(&c.templates, "templates", 8, "pre-built batch templates per sender")
	flag.Uint64Var(&c.seed, "seed", 1, "generator seed")
	flag.Int64Var(&c.startMs, "start-ms", 0, "time of the first batch, Unix ms (0: now - window)")
	flag.DurationVar(&c.window, "window", time.Hour, "the batches are spread over this much time")
	flag.DurationVar(&c.timeout, "timeout", time.Minute, "per-request timeout")
	flag.IntVar(&c.maxRetries, "max-retries", 10, "retries of Unavailable/ResourceExhausted before a batch is dropped")
	flag.IntVar(&c.samples, "samples", 500, "trace ids to report for lookups")
	flag.DurationVar(&c.progress, "progress", 10*time.Second, "progress line to stderr this often (0: none)")
	flag.BoolVar(&c.dryRun, "dry-run", false, "encode every request but send nothing: the generator's own ceiling")
	flag.Parse()
	if c.spans <= 0 || c.batch < 35 || c.concurrency <= 0 || c.templates <= 0 {
		fmt.Fprintln(os.Stderr, "loadgen: -spans, -concurrency and -templates must be positive, -batch at least 35")
		os.Exit(2)
	}
	start := time.UnixMilli(c.startMs)
	if c.startMs == 0 {
		start = time.Now().Add(-c.window)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := run(ctx, c, start)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "loadgen: %d spans accepted in %.1fs = %.0f spans/s, %d rejected, %d errors, %d retries\n",
		res.AcceptedSpans, res.ElapsedSec, res.SpansPerSec, res.RejectedSpans, res.Errors, res.Retries)
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
	if ctx.Err() != nil {
		os.Exit(1)
	}
}

type sender struct {
	c        config
	start    time.Time
	nBatches int64
	client   ptraceotlp.GRPCClient

	next                                    atomic.Int64
	accepted, rejected, errs, retries, sent atomic.Int64

	mu         sync.Mutex
	firstError string
	samples    map[int64]sampleTrace // by batch number
}

func run(ctx context.Context, c config, start time.Time) (*result, error) {
	conn, err := grpc.NewClient(c.endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(64<<20)))
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", c.endpoint, err)
	}
	defer conn.Close()
	s := &sender{c: c, start: start, client: ptraceotlp.NewGRPCClient(conn),
		nBatches: (c.spans + int64(c.batch) - 1) / int64(c.batch), samples: map[int64]sampleTrace{}}

	// Templates first (not timed): the generator's work per request is then a rewrite of ids
	// and times plus the protobuf encoding.
	tpls := make([][]*template, c.concurrency)
	for w := range tpls {
		r := rand.New(rand.NewPCG(c.seed, uint64(w)))
		for range c.templates {
			tpls[w] = append(tpls[w], newTemplate(r, c.batch))
		}
	}

	t0 := time.Now()
	done := make(chan struct{})
	if c.progress > 0 {
		go func() {
			tick := time.NewTicker(c.progress)
			defer tick.Stop()
			last, lastT := int64(0), t0
			for {
				select {
				case <-done:
					return
				case now := <-tick.C:
					a := s.accepted.Load()
					fmt.Fprintf(os.Stderr, "loadgen: %.0fs %d spans accepted, %.0f spans/s now, %d errors\n",
						now.Sub(t0).Seconds(), a, float64(a-last)/now.Sub(lastT).Seconds(), s.errs.Load())
					last, lastT = a, now
				}
			}
		}()
	}
	var wg sync.WaitGroup
	for w := range c.concurrency {
		wg.Go(func() { s.loop(ctx, tpls[w]) })
	}
	wg.Wait()
	close(done)
	el := time.Since(t0).Seconds()
	res := &result{Endpoint: c.endpoint, Batches: s.sent.Load(), AcceptedSpans: s.accepted.Load(),
		RejectedSpans: s.rejected.Load(), Errors: s.errs.Load(), Retries: s.retries.Load(),
		FirstError: s.firstError, ElapsedSec: el, SpansPerSec: float64(s.accepted.Load()) / el}
	for k := int64(0); k < s.nBatches; k++ {
		if st, ok := s.samples[k]; ok {
			if k == s.nBatches-1 {
				res.Last = st
			} else {
				res.Samples = append(res.Samples, st)
			}
		}
	}
	return res, nil
}

func (s *sender) loop(ctx context.Context, tpls []*template) {
	every := max(s.nBatches/int64(max(s.c.samples, 1)), 1)
	step := int64(s.c.window) / s.nBatches
	for i := 0; ctx.Err() == nil; i++ {
		k := s.next.Add(1) - 1
		if k >= s.nBatches {
			return
		}
		tp := tpls[i%len(tpls)]
		// The batch's spans start within a second of its base time.
		seq := uint64(k)
		tp.stamp(seq, s.start.UnixNano()+k*step)
		if s.send(ctx, tp) && (k%every == 0 || k == s.nBatches-1) {
			id := tp.traceID(seq, 0)
			s.mu.Lock()
			s.samples[k] = sampleTrace{ID: hex.EncodeToString(id[:]), Spans: tp.traces[0].spans}
			s.mu.Unlock()
		}
	}
}

// send exports one batch and reports whether it was accepted.
func (s *sender) send(ctx context.Context, tp *template) bool {
	req := ptraceotlp.NewExportRequestFromTraces(tp.td)
	n := int64(tp.td.SpanCount())
	if s.c.dryRun {
		if _, err := req.MarshalProto(); err != nil {
			s.errs.Add(1)
			s.fail(err.Error())
			return false
		}
		s.accepted.Add(n)
		s.sent.Add(1)
		return true
	}
	backoff := 100 * time.Millisecond
	for attempt := 0; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, s.c.timeout)
		resp, err := s.client.Export(cctx, req)
		cancel()
		if err == nil {
			rej := resp.PartialSuccess().RejectedSpans()
			if rej > 0 {
				s.rejected.Add(rej)
				s.fail(fmt.Sprintf("%d spans rejected: %s", rej, resp.PartialSuccess().ErrorMessage()))
			}
			s.accepted.Add(n - rej)
			s.sent.Add(1)
			return rej == 0
		}
		if ctx.Err() != nil {
			return false
		}
		code := status.Code(err)
		if (code != codes.Unavailable && code != codes.ResourceExhausted && code != codes.DeadlineExceeded) || attempt >= s.c.maxRetries {
			s.errs.Add(1)
			s.fail(fmt.Sprintf("after %d retries: %v", attempt, err))
			return false
		}
		s.retries.Add(1)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (s *sender) fail(msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.firstError == "" {
		s.firstError = msg
	}
}
