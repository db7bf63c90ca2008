package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
	"github.com/vigilhq/vigil/bench/internal/readback"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/status"
)

const (
	seriesPerRequest  = 100
	samplesPerSeries  = 20 // 2,000 samples a request
	linesPerRequest   = 1000
	tracesPerRequest  = 50
	spansPerTrace     = 10 // 500 spans a request
	perRequestTimeout = 30 * time.Second
)

// counts is one signal's tally; acked items are also kept per worker for the read-back.
type counts struct {
	offered, acked     atomic.Int64 // items
	ok, refused, other atomic.Int64 // requests
	mu                 sync.Mutex
	byWorker           map[int]int64
}

func (c *counts) answer(worker int, items int64, outcome string) {
	c.offered.Add(items)
	switch outcome {
	case "ok":
		c.ok.Add(1)
		c.acked.Add(items)
		c.mu.Lock()
		if c.byWorker == nil {
			c.byWorker = map[int]int64{}
		}
		c.byWorker[worker] += items
		c.mu.Unlock()
	case "refused":
		c.refused.Add(1)
	default:
		c.other.Add(1)
	}
}

func (c *counts) ackedByWorker() map[int]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[int]int64, len(c.byWorker))
	for w, n := range c.byWorker {
		out[w] = n
	}
	return out
}

type target struct {
	http, grpc string
	conn       *grpc.ClientConn
	traces     ptraceotlp.GRPCClient
}

var client = &http.Client{Timeout: perRequestTimeout, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

func (t *target) dial() error {
	conn, err := grpc.NewClient(t.grpc, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.UseCompressor(gzip.Name)))
	if err != nil {
		return err
	}
	t.conn, t.traces = conn, ptraceotlp.NewGRPCClient(conn)
	return nil
}

func (t *target) close() { _ = t.conn.Close() }

func (t *target) post(ctx context.Context, path, contentType string, body []byte, header map[string]string) string {
	rctx, cancel := context.WithTimeout(ctx, perRequestTimeout)
	defer cancel()
	// Not rctx's parent ctx: a request in flight when the run ends must finish, so its answer
	// is known; the run's end only stops new requests.
	req, err := http.NewRequestWithContext(context.WithoutCancel(rctx), http.MethodPost, t.http+path, bytes.NewReader(body))
	if err != nil {
		return "other"
	}
	req.Header.Set("Content-Type", contentType)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "other"
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	switch {
	case resp.StatusCode/100 == 2:
		return "ok"
	case resp.StatusCode == http.StatusTooManyRequests:
		return "refused"
	default:
		return "other"
	}
}

// metricsWorker remote-writes 100 series of its own with 20 new samples each per request.
func (t *target) metricsWorker(ctx context.Context, w int, c *counts) {
	ts := time.Now().UnixMilli()
	wr := &prompb.WriteRequest{Timeseries: make([]prompb.TimeSeries, seriesPerRequest)}
	for s := range wr.Timeseries {
		wr.Timeseries[s].Labels = []prompb.Label{{Name: "__name__", Value: "overload_items"},
			{Name: "series", Value: strconv.Itoa(s)}, {Name: "w", Value: strconv.Itoa(w)}}
		wr.Timeseries[s].Samples = make([]prompb.Sample, samplesPerSeries)
	}
	for ctx.Err() == nil {
		for s := range wr.Timeseries {
			for i := range wr.Timeseries[s].Samples {
				wr.Timeseries[s].Samples[i] = prompb.Sample{Value: float64(i), Timestamp: ts + int64(i)}
			}
		}
		ts += samplesPerSeries
		raw, err := wr.Marshal()
		if err != nil {
			panic(err)
		}
		out := t.post(ctx, "/api/v1/write", "application/x-protobuf", snappy.Encode(nil, raw),
			map[string]string{"Content-Encoding": "snappy", "X-Prometheus-Remote-Write-Version": "0.1.0"})
		c.answer(w, seriesPerRequest*samplesPerSeries, out)
	}
}

// logsWorker sends 1,000 JSON lines (~250 bytes) per request, each tagged with its worker.
func (t *target) logsWorker(ctx context.Context, w int, c *counts) {
	levels := []string{"info", "info", "info", "warn", "error"}
	var buf bytes.Buffer
	for i := 0; ctx.Err() == nil; i++ {
		buf.Reset()
		now := time.Now().UTC()
		for j := range linesPerRequest {
			fmt.Fprintf(&buf, `{"ts":%q,"level":%q,"service":"overload","msg":"request %d of batch %d done in %dms status=%d","ow":"w%d","path":"/api/items/%d"}`+"\n",
				now.Add(time.Duration(j)*time.Microsecond).Format(time.RFC3339Nano), levels[j%len(levels)], j, i, j%500, 200+j%5, w, j%97)
		}
		c.answer(w, linesPerRequest, t.post(ctx, "/api/v1/logs", "application/x-ndjson", buf.Bytes(), nil))
	}
}

// tracesWorker exports 50 traces of 10 spans per OTLP gRPC call, as service overload-<w>.
func (t *target) tracesWorker(ctx context.Context, w int, c *counts) {
	rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
	for ctx.Err() == nil {
		td := ptrace.NewTraces()
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", "overload-"+strconv.Itoa(w))
		ss := rs.ScopeSpans().AppendEmpty()
		start := time.Now()
		for range tracesPerRequest {
			var tid pcommon.TraceID
			for k := range tid {
				tid[k] = byte(rng.UintN(256))
			}
			var parent pcommon.SpanID
			for s := range spansPerTrace {
				sp := ss.Spans().AppendEmpty()
				sp.SetTraceID(tid)
				sid := pcommon.SpanID{byte(s + 1), byte(rng.UintN(256)), byte(rng.UintN(256)), byte(rng.UintN(256)), 1, 2, 3, 4}
				sp.SetSpanID(sid)
				sp.SetParentSpanID(parent)
				parent = sid
				sp.SetName("op-" + strconv.Itoa(s))
				sp.SetKind(ptrace.SpanKindServer)
				sp.SetStartTimestamp(pcommon.NewTimestampFromTime(start.Add(time.Duration(s) * time.Millisecond)))
				sp.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(time.Duration(30-s) * time.Millisecond)))
				sp.Attributes().PutStr("http.route", "/api/items/{id}")
				sp.Attributes().PutInt("http.status_code", 200)
			}
		}
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), perRequestTimeout)
		_, err := t.traces.Export(rctx, ptraceotlp.NewExportRequestFromTraces(td))
		cancel()
		out := "ok"
		switch status.Code(err) {
		case codes.OK:
		case codes.ResourceExhausted:
			out = "refused"
		default:
			out = "other"
		}
		c.answer(w, tracesPerRequest*spansPerTrace, out)
	}
}

// stored reads back, per worker, how many items of sig Vigil holds for the run's window.
func (t *target) stored(ctx context.Context, sig string, start, end time.Time) (map[int]int64, error) {
	out := map[int]int64{}
	switch sig {
	case "metrics":
		q := fmt.Sprintf(`sum by (w) (count_over_time(overload_items[%ds]))`, int(end.Sub(start).Seconds())+120)
		return out, t.promVector(ctx, q, end.Add(time.Minute), "w", out)
	case "traces":
		return out, t.promVector(ctx, `sum by (service_name) (traces_span_metrics_calls_total{service_name=~"overload-.*"})`, time.Now(), "service_name", out)
	case "logs":
		counts, err := readback.LogFieldValues(ctx, client, t.http, "ow", "service:overload", start.Add(-time.Minute), end.Add(time.Minute), 1000)
		if err != nil {
			return nil, err
		}
		for v, n := range counts {
			var w int
			if _, err := fmt.Sscanf(v, "w%d", &w); err == nil {
				out[w] = n
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown signal %q", sig)
}

// promVector runs an instant query and adds each result's value to out under the integer
// found at the end of its label.
func (t *target) promVector(ctx context.Context, q string, at time.Time, label string, out map[int]int64) error {
	var r struct {
		Data struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	u := t.http + "/api/v1/query?" + url.Values{"query": {q}, "time": {strconv.FormatInt(at.Unix(), 10)}}.Encode()
	if err := readback.GetJSON(ctx, client, u, &r); err != nil {
		return err
	}
	for _, s := range r.Data.Result {
		v := s.Metric[label]
		i := len(v)
		for i > 0 && v[i-1] >= '0' && v[i-1] <= '9' {
			i--
		}
		w, err := strconv.Atoi(v[i:])
		if err != nil {
			continue
		}
		f, _ := strconv.ParseFloat(fmt.Sprint(s.Value[1]), 64)
		out[w] += int64(f)
	}
	return nil
}
