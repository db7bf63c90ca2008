package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
	"github.com/vigilhq/vigil/bench/internal/readback"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

const (
	logBatchLines = 100
	spansPerTrace = 5
	// pause between two requests of one writer: the loop proves durability, not speed, and a
	// bounded volume keeps every check exact and quick.
	pause = 5 * time.Millisecond
)

type targets struct {
	http, otlp string
}

var client = &http.Client{Timeout: 30 * time.Second}

// post sends body and reports whether the answer was a 2xx (an acknowledgement).
func post(ctx context.Context, url, contentType string, body []byte, header map[string]string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", contentType)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode/100 == 2
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// ledger holds every acknowledged item, by round.
type ledger struct {
	mu      sync.Mutex
	samples map[[2]int][]int64  // (round, writer) -> acknowledged sample timestamps (ms)
	batches map[int][]string    // round -> acknowledged log batch ids
	traces  map[string]struct{} // acknowledged trace ids (hex)
	window  map[int][2]time.Time
}

func newLedger() *ledger {
	return &ledger{samples: map[[2]int][]int64{}, batches: map[int][]string{}, traces: map[string]struct{}{}, window: map[int][2]time.Time{}}
}

func (l *ledger) totals() (samples, lines, spans int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, ts := range l.samples {
		samples += len(ts)
	}
	for _, b := range l.batches {
		lines += len(b) * logBatchLines
	}
	return samples, lines, len(l.traces) * spansPerTrace
}

// seen widens round's time window to include t.
func (l *ledger) seen(round int, t time.Time) {
	w, ok := l.window[round]
	if !ok || t.Before(w[0]) {
		w[0] = t
	}
	if t.After(w[1]) {
		w[1] = t
	}
	l.window[round] = w
}

// writeMetrics remote-writes one series per (round, writer), one sample a millisecond apart
// per request.
func (t *targets) writeMetrics(ctx context.Context, round, writer int, l *ledger) {
	base := time.Now().UnixMilli()
	for i := int64(0); i < 1_000_000; i++ {
		ts := base + i
		wr := &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{{
			Labels: []prompb.Label{{Name: "__name__", Value: "crash_items"},
				{Name: "round", Value: strconv.Itoa(round)}, {Name: "writer", Value: strconv.Itoa(writer)}},
			Samples: []prompb.Sample{{Value: float64(i), Timestamp: ts}},
		}}}
		raw, err := wr.Marshal()
		if err != nil {
			panic(err) // a bug in this program, not in Vigil
		}
		if post(ctx, t.http+"/api/v1/write", "application/x-protobuf", snappy.Encode(nil, raw),
			map[string]string{"Content-Encoding": "snappy", "X-Prometheus-Remote-Write-Version": "0.1.0"}) {
			l.mu.Lock()
			k := [2]int{round, writer}
			l.samples[k] = append(l.samples[k], ts)
			l.mu.Unlock()
		}
		if !sleepCtx(ctx, pause) {
			return
		}
	}
}

// writeLogs sends batches of JSON lines; every line carries its round and batch id.
func (t *targets) writeLogs(ctx context.Context, round, writer int, l *ledger) {
	for i := 0; i < 1_000_000; i++ {
		id := fmt.Sprintf("r%d-w%d-b%d", round, writer, i)
		now := time.Now().UTC()
		var buf bytes.Buffer
		for j := range logBatchLines {
			fmt.Fprintf(&buf, `{"ts":%q,"level":"info","service":"crash","msg":"crash loop line %d of batch %s","crash_round":"r%d","crash_batch":%q}`+"\n",
				now.Add(time.Duration(j)*time.Microsecond).Format(time.RFC3339Nano), j, id, round, id)
		}
		if post(ctx, t.http+"/api/v1/logs", "application/x-ndjson", buf.Bytes(), nil) {
			l.mu.Lock()
			l.batches[round] = append(l.batches[round], id)
			l.seen(round, now)
			l.mu.Unlock()
		}
		if !sleepCtx(ctx, pause) {
			return
		}
	}
}

// writeTraces sends one trace of spansPerTrace nested spans per OTLP/HTTP request.
func (t *targets) writeTraces(ctx context.Context, round, writer int, l *ledger) {
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(round*10+writer)))
	for i := 0; i < 1_000_000; i++ {
		var tid pcommon.TraceID
		for k := range tid {
			tid[k] = byte(rng.UintN(256))
		}
		td := ptrace.NewTraces()
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", "crash-"+strconv.Itoa(writer))
		ss := rs.ScopeSpans().AppendEmpty()
		start := time.Now()
		var parent pcommon.SpanID
		for s := range spansPerTrace {
			sp := ss.Spans().AppendEmpty()
			sp.SetTraceID(tid)
			sid := pcommon.SpanID{byte(s + 1), byte(rng.UintN(256)), byte(rng.UintN(256)), 1, 2, 3, 4, 5}
			sp.SetSpanID(sid)
			sp.SetParentSpanID(parent)
			parent = sid
			sp.SetName("crash-op-" + strconv.Itoa(s))
			sp.SetStartTimestamp(pcommon.NewTimestampFromTime(start.Add(time.Duration(s) * time.Millisecond)))
			sp.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(time.Duration(20-s) * time.Millisecond)))
			sp.Attributes().PutInt("crash.round", int64(round))
		}
		body, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
		if err != nil {
			panic(err)
		}
		if post(ctx, t.otlp+"/v1/traces", "application/x-protobuf", body, nil) {
			l.mu.Lock()
			l.traces[hex.EncodeToString(tid[:])] = struct{}{}
			l.mu.Unlock()
		}
		if !sleepCtx(ctx, pause) {
			return
		}
	}
}

// verify checks every acknowledged item and returns how many it checked and how many are
// missing.
func (l *ledger) verify(ctx context.Context, t *targets) (checked, lost int, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var missing []string
	note := func(s string) {
		if len(missing) < 10 {
			missing = append(missing, s)
		}
	}
	for k, acked := range l.samples {
		got, err := t.samples(ctx, k[0], k[1], acked)
		if err != nil {
			return 0, 0, err
		}
		for _, ts := range acked {
			checked++
			if !got[ts] {
				lost++
				note(fmt.Sprintf("sample round %d writer %d at %d", k[0], k[1], ts))
			}
		}
	}
	for round, acked := range l.batches {
		counts, err := t.logBatches(ctx, round, l.window[round])
		if err != nil {
			return 0, 0, err
		}
		for _, id := range acked {
			checked += logBatchLines
			if n := counts[id]; n < logBatchLines {
				lost += logBatchLines - int(n)
				note(fmt.Sprintf("log batch %s: %d of %d lines", id, n, logBatchLines))
			}
		}
	}
	for id := range l.traces {
		n, err := t.traceSpans(ctx, id)
		if err != nil {
			return 0, 0, err
		}
		checked += spansPerTrace
		if n < spansPerTrace {
			lost += spansPerTrace - n
			note(fmt.Sprintf("trace %s: %d of %d spans", id, n, spansPerTrace))
		}
	}
	if lost > 0 {
		fmt.Println("missing, first few:", missing)
	}
	return checked, lost, nil
}

// samples reads back every sample of the (round, writer) series over the acknowledged span.
func (t *targets) samples(ctx context.Context, round, writer int, acked []int64) (map[int64]bool, error) {
	first, last := acked[0], acked[0]
	for _, ts := range acked {
		first, last = min(first, ts), max(last, ts)
	}
	rangeMs := last - first + 1000
	q := fmt.Sprintf(`crash_items{round="%d",writer="%d"}[%dms]`, round, writer, rangeMs)
	var r struct {
		Data struct {
			Result []struct {
				Values [][2]any `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	u := t.http + "/api/v1/query?" + url.Values{"query": {q}, "time": {strconv.FormatFloat(float64(last)/1000, 'f', 3, 64)}}.Encode()
	if err := readback.GetJSON(ctx, client, u, &r); err != nil {
		return nil, err
	}
	got := map[int64]bool{}
	for _, s := range r.Data.Result {
		for _, v := range s.Values {
			if f, ok := v[0].(float64); ok {
				got[int64(f*1000+0.5)] = true
			}
		}
	}
	return got, nil
}

// logBatches counts the stored lines of each batch of round, in one field-values query.
func (t *targets) logBatches(ctx context.Context, round int, window [2]time.Time) (map[string]int64, error) {
	return readback.LogFieldValues(ctx, client, t.http, "crash_batch", fmt.Sprintf("crash_round:r%d", round),
		window[0].Add(-time.Minute), window[1].Add(time.Minute), 5000)
}

// traceSpans counts the spans Vigil returns for one trace id.
func (t *targets) traceSpans(ctx context.Context, id string) (int, error) {
	var r struct {
		Data []struct {
			Spans []json.RawMessage `json:"spans"`
		} `json:"data"`
	}
	if err := readback.GetJSON(ctx, client, t.http+"/api/traces/"+id, &r); err != nil {
		return 0, err
	}
	n := 0
	for _, tr := range r.Data {
		n += len(tr.Spans)
	}
	return n, nil
}
