// Command loadgen sends generated JSON log lines (see lines.go) to a JSON-lines endpoint —
// Vigil's POST /api/v1/logs or VictoriaLogs' /insert/jsonline — as fast as the target
// accepts them, and prints what was accepted.
//
// -lines lines are spread evenly over [-start-ms, -start-ms + -window). Each of -concurrency
// senders takes the next batch of -batch lines, builds it and POSTs it (uncompressed,
// application/x-ndjson), one request in flight per sender. A 5xx, a 429 or a connection
// error is retried with backoff; another 4xx drops the batch and counts as an error. Vigil's
// partial-success answer ({"accepted":N,"rejected":M}) is honoured; a 2xx without one counts
// every line of the batch as accepted.
//
// The last line on stdout is a JSON summary (see result); progress goes to stderr.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
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
	lines       int64
	batch       int
	concurrency int
	seed        uint64
	startMs     int64
	window      time.Duration
	timeout     time.Duration
	maxRetries  int
	progress    time.Duration
	print       int
}

// result is the JSON summary printed at the end.
type result struct {
	URL           string  `json:"url"`
	Lines         int64   `json:"lines"`
	AcceptedLines int64   `json:"accepted_lines"`
	RejectedLines int64   `json:"rejected_lines"`
	RawBytes      int64   `json:"raw_bytes"` // of the accepted batches, newlines included
	Requests      int64   `json:"requests"`
	Errors        int64   `json:"errors"`
	Retries       int64   `json:"retries"`
	FirstError    string  `json:"first_error,omitempty"`
	ElapsedSec    float64 `json:"elapsed_s"`
	LinesPerSec   float64 `json:"lines_per_s"`
	MBPerSec      float64 `json:"mb_per_s"`
}

func main() {
	var c config
	flag.StringVar(&c.url, "url", "http://127.0.0.1:9700/api/v1/logs", "JSON-lines endpoint")
	flag.Int64Var(&c.lines, "lines", 1_000_000, "lines to send")
	flag.IntVar(&c.batch, "batch", 5000, "lines per request")
	flag.IntVar(&c.concurrency, "concurrency", 4, "concurrent senders")
	flag.Uint64Var(&c.seed, "seed", 1, "generator seed: the same seed sends the same lines")
	flag.Int64Var(&c.startMs, "start-ms", 0, "time of the first line, Unix ms (0: now - window)")
	flag.DurationVar(&c.window, "window", time.Hour, "the lines are spread over this much time")
	flag.DurationVar(&c.timeout, "timeout", time.Minute, "per-request timeout")
	flag.IntVar(&c.maxRetries, "max-retries", 10, "retries of a 5xx/429/connection error before a batch is dropped")
	flag.DurationVar(&c.progress, "progress", 10*time.Second, "progress line to stderr this often (0: none)")
	flag.IntVar(&c.print, "print", 0, "print this many lines to stdout and exit (to look at the data)")
	flag.Parse()
	start := time.UnixMilli(c.startMs)
	if c.startMs == 0 {
		start = time.Now().Add(-c.window)
	}
	if c.print > 0 {
		var b []byte
		for i := range int64(c.print) {
			b = appendLine(b[:0], c.seed, i, c.lines, start, c.window)
			fmt.Printf("%s\n", b)
		}
		return
	}
	if c.lines <= 0 || c.batch <= 0 || c.concurrency <= 0 {
		fmt.Fprintln(os.Stderr, "loadgen: -lines, -batch and -concurrency must be positive")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res := run(ctx, c, start)
	fmt.Fprintf(os.Stderr, "loadgen: %d/%d lines accepted in %.1fs = %.0f lines/s (%.1f MB/s), %d rejected, %d errors, %d retries\n",
		res.AcceptedLines, res.Lines, res.ElapsedSec, res.LinesPerSec, res.MBPerSec, res.RejectedLines, res.Errors, res.Retries)
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
	if ctx.Err() != nil {
		os.Exit(1)
	}
}

type sender struct {
	c      config
	start  time.Time
	client *http.Client

	next                                             atomic.Int64 // next batch number
	accepted, rejected, raw, requests, errs, retries atomic.Int64

	mu         sync.Mutex
	firstError string
}

func run(ctx context.Context, c config, start time.Time) result {
	s := &sender{c: c, start: start, client: &http.Client{
		Timeout:   c.timeout,
		Transport: &http.Transport{MaxIdleConnsPerHost: c.concurrency, DisableCompression: true},
	}}
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
					fmt.Fprintf(os.Stderr, "loadgen: %.0fs %d lines accepted, %.0f lines/s now, %d errors\n",
						now.Sub(t0).Seconds(), a, float64(a-last)/now.Sub(lastT).Seconds(), s.errs.Load())
					last, lastT = a, now
				}
			}
		}()
	}
	var wg sync.WaitGroup
	for range c.concurrency {
		wg.Go(func() { s.loop(ctx) })
	}
	wg.Wait()
	close(done)
	el := time.Since(t0).Seconds()
	return result{
		URL: c.url, Lines: c.lines, AcceptedLines: s.accepted.Load(), RejectedLines: s.rejected.Load(),
		RawBytes: s.raw.Load(), Requests: s.requests.Load(), Errors: s.errs.Load(), Retries: s.retries.Load(),
		FirstError: s.firstError, ElapsedSec: el,
		LinesPerSec: float64(s.accepted.Load()) / el, MBPerSec: float64(s.raw.Load()) / el / 1e6,
	}
}

func (s *sender) loop(ctx context.Context) {
	var body []byte
	nBatches := (s.c.lines + int64(s.c.batch) - 1) / int64(s.c.batch)
	for ctx.Err() == nil {
		k := s.next.Add(1) - 1
		if k >= nBatches {
			return
		}
		lo, hi := k*int64(s.c.batch), min((k+1)*int64(s.c.batch), s.c.lines)
		body = body[:0]
		for i := lo; i < hi; i++ {
			body = appendLine(body, s.c.seed, i, s.c.lines, s.start, s.c.window)
			body = append(body, '\n')
		}
		s.send(ctx, body, hi-lo)
	}
}

// send posts one batch, retrying what a log shipper would retry.
func (s *sender) send(ctx context.Context, body []byte, n int64) {
	backoff := 100 * time.Millisecond
	for attempt := 0; ; attempt++ {
		s.requests.Add(1)
		status, answer, err := s.post(ctx, body)
		switch {
		case err == nil && status/100 == 2:
			var pr struct {
				Accepted *int64 `json:"accepted"`
				Rejected int64  `json:"rejected"`
			}
			acc := n
			if json.Unmarshal(answer, &pr) == nil && pr.Accepted != nil {
				acc = *pr.Accepted
				s.rejected.Add(pr.Rejected)
				if pr.Rejected > 0 {
					s.fail(fmt.Sprintf("%d lines rejected: %.300s", pr.Rejected, answer))
				}
			}
			s.accepted.Add(acc)
			s.raw.Add(int64(len(body)))
			return
		case ctx.Err() != nil:
			return
		case err == nil && status != http.StatusTooManyRequests && status/100 == 4:
			s.errs.Add(1)
			s.fail(fmt.Sprintf("HTTP %d: %.300s", status, answer))
			return
		}
		if attempt >= s.c.maxRetries {
			s.errs.Add(1)
			s.fail(fmt.Sprintf("gave up after %d retries: HTTP %d: %v %.300s", attempt, status, err, answer))
			return
		}
		s.retries.Add(1)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (s *sender) post(ctx context.Context, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.c.url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, answer, err
}

func (s *sender) fail(msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.firstError == "" {
		s.firstError = msg
	}
}
