package forward

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.uber.org/goleak"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/vigilhq/vigil/logs"
	"github.com/vigilhq/vigil/traces"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// bleve (under the log store) starts its analysis workers once, at package init.
		goleak.IgnoreTopFunction("github.com/blevesearch/bleve_index_api.AnalysisWorker"))
}

// otlpHTTPReceiver is an OTLP/HTTP logs endpoint answering with codes in turn (then 200),
// keeping the bodies it accepted.
type otlpHTTPReceiver struct {
	mu       sync.Mutex
	codes    []int
	accepted []plogotlp.ExportRequest
	calls    int
	maxBody  int // the largest body accepted, uncompressed
}

func (r *otlpHTTPReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var body io.Reader = req.Body
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		body = zr
	}
	raw, _ := io.ReadAll(body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if len(r.codes) > 0 {
		code := r.codes[0]
		r.codes = r.codes[1:]
		if code == 429 {
			w.Header().Set("Retry-After", "1")
		}
		http.Error(w, "not now", code)
		return
	}
	er := plogotlp.NewExportRequest()
	if err := er.UnmarshalProto(raw); err != nil || req.URL.Path != "/v1/logs" || req.Header.Get("X-Scope-OrgID") != "team-a" {
		http.Error(w, fmt.Sprintf("bad request %s: %v", req.URL.Path, err), 400)
		return
	}
	r.accepted = append(r.accepted, er)
	r.maxBody = max(r.maxBody, len(raw))
	w.WriteHeader(200)
}

func (r *otlpHTTPReceiver) records() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, er := range r.accepted {
		n += er.Logs().LogRecordCount()
	}
	return n
}

func openLogStore(t *testing.T) *logs.Store {
	t.Helper()
	s, err := logs.Open(t.TempDir(), logs.DefaultOptions(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func newTestForwarder(t *testing.T, dir string, opts ...EndpointOptions) (*Forwarder, *metrics.Set) {
	t.Helper()
	set := metrics.NewSet()
	f := New(dir, set, nil)
	if err := f.Apply(opts); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f, set
}

func counter(set *metrics.Set, name string) uint64 { return set.GetOrCreateCounter(name).Get() }

func testRecords(n int) []logs.Record {
	recs := make([]logs.Record, n)
	for i := range recs {
		recs[i] = logs.Record{Time: time.Now(), Service: "checkout", Level: "error", Message: fmt.Sprintf("line %d", i),
			Raw: []byte(fmt.Sprintf(`{"msg":"line %d"}`, i))}
	}
	return recs
}

func waitUntil(t *testing.T, what string, f func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if f() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// TestHTTPSenderRetriesThenDelivers: 429 with Retry-After, 503 and 401 are retried; the batch
// then arrives whole (gzip, headers, path) and is counted as sent.
func TestHTTPSenderRetriesThenDelivers(t *testing.T) {
	recv := &otlpHTTPReceiver{codes: []int{429, 503, 401}}
	srv := httptest.NewServer(recv)
	defer srv.Close()
	f, set := newTestForwarder(t, t.TempDir(), EndpointOptions{Name: "h", Protocol: ProtocolHTTP, Endpoint: srv.URL,
		Headers: map[string]string{"X-Scope-OrgID": "team-a"}, RetryInitial: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond})
	tee := f.LogSink(openLogStore(t))
	if err := tee.WriteLogs(context.Background(), testRecords(50)); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "50 records at the receiver", func() bool { return recv.records() == 50 })
	waitUntil(t, "sent counted", func() bool { return counter(set, `vigil_forward_sent_total{endpoint="h",signal="logs"}`) == 50 })
	if r := counter(set, `vigil_forward_retries_total{endpoint="h",signal="logs"}`); r != 3 {
		t.Errorf("%d retries, want 3", r)
	}
	lr := recv.accepted[0].Logs().ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(7)
	if lr.Body().Str() != "line 7" || lr.SeverityText() != "error" {
		t.Errorf("record 7: %v %s", lr.Body().AsRaw(), lr.SeverityText())
	}
}

// TestHTTPSenderDropsWhatTheEndpointRefuses: a 400 is permanent: the batch is dropped,
// counted, and the next one goes through.
func TestHTTPSenderDropsWhatTheEndpointRefuses(t *testing.T) {
	recv := &otlpHTTPReceiver{codes: []int{400}}
	srv := httptest.NewServer(recv)
	defer srv.Close()
	f, set := newTestForwarder(t, t.TempDir(), EndpointOptions{Name: "h", Protocol: ProtocolHTTP, Endpoint: srv.URL,
		Headers: map[string]string{"X-Scope-OrgID": "team-a"}, Compression: "none"})
	tee := f.LogSink(openLogStore(t))
	if err := tee.WriteLogs(context.Background(), testRecords(5)); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the refused batch counted", func() bool {
		return counter(set, `vigil_forward_dropped_total{endpoint="h",signal="logs",reason="rejected"}`) == 5
	})
	if err := tee.WriteLogs(context.Background(), testRecords(3)); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the next batch at the receiver", func() bool { return recv.records() == 3 })
	if r := counter(set, `vigil_forward_retries_total{endpoint="h",signal="logs"}`); r != 0 {
		t.Errorf("a permanent error was retried %d times", r)
	}
}

// otlpGRPCReceiver is an OTLP gRPC traces endpoint failing with errs in turn.
type otlpGRPCReceiver struct {
	ptraceotlp.UnimplementedGRPCServer
	mu    sync.Mutex
	errs  []error
	spans int
}

func (r *otlpGRPCReceiver) Export(_ context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.errs) > 0 {
		err := r.errs[0]
		r.errs = r.errs[1:]
		return ptraceotlp.NewExportResponse(), err
	}
	r.spans += req.Traces().SpanCount()
	return ptraceotlp.NewExportResponse(), nil
}

func (r *otlpGRPCReceiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.spans
}

func startGRPCReceiver(t *testing.T, r *otlpGRPCReceiver) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	ptraceotlp.RegisterGRPCServer(srv, r)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(srv.Stop)
	return l.Addr().String()
}

func testSpans(n int) []traces.Span {
	now := time.Now()
	spans := make([]traces.Span, n)
	for i := range spans {
		spans[i] = traces.Span{TraceID: traces.TraceID{1, byte(i)}, SpanID: traces.SpanID{byte(i + 1)}, Service: "checkout",
			Name: "pay", Kind: traces.SpanKindServer, Start: now, End: now.Add(time.Millisecond)}
	}
	return spans
}

func openSpanStore(t *testing.T) *traces.DB {
	t.Helper()
	db, err := traces.Open(t.TempDir(), traces.DefaultOptions(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// TestGRPCSenderHonoursRetryInfoAndDropsInvalid: ResourceExhausted with RetryInfo,
// Unavailable and Unauthenticated are retried; InvalidArgument, and ResourceExhausted without
// RetryInfo, drop the batch.
func TestGRPCSenderHonoursRetryInfoAndDropsInvalid(t *testing.T) {
	st, err := status.New(codes.ResourceExhausted, "slow down").WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(50 * time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	recv := &otlpGRPCReceiver{errs: []error{st.Err(), status.Error(codes.Unavailable, "restarting"), status.Error(codes.Unauthenticated, "token expired")}}
	addr := startGRPCReceiver(t, recv)
	f, set := newTestForwarder(t, t.TempDir(), EndpointOptions{Name: "g", Protocol: ProtocolGRPC, Endpoint: addr, Insecure: true,
		RetryInitial: 10 * time.Millisecond, Signals: []Signal{SignalTraces}})
	tee := f.TraceSink(openSpanStore(t))
	if err := tee.WriteSpans(context.Background(), testSpans(20)); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "20 spans at the receiver", func() bool { return recv.count() == 20 })
	if r := counter(set, `vigil_forward_retries_total{endpoint="g",signal="traces"}`); r != 3 {
		t.Errorf("%d retries, want 3", r)
	}

	recv.mu.Lock()
	recv.errs = []error{status.Error(codes.InvalidArgument, "bad span"), status.Error(codes.ResourceExhausted, "too big, no retry info")}
	recv.mu.Unlock()
	for range 2 {
		if err := tee.WriteSpans(context.Background(), testSpans(4)); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, "both batches dropped", func() bool {
		return counter(set, `vigil_forward_dropped_total{endpoint="g",signal="traces",reason="rejected"}`) == 8
	})
	// Logs are not selected: the tee passes them by.
	if err := f.LogSink(openLogStore(t)).WriteLogs(context.Background(), testRecords(2)); err != nil {
		t.Fatal(err)
	}
	if n := counter(set, `vigil_forward_queued_total{endpoint="g",signal="logs"}`); n != 0 {
		t.Errorf("%d log records queued for a traces-only endpoint", n)
	}
}

// TestBackpressureRefusesBeforeStoring: with a full queue the tee refuses with an error the
// log edge maps to 429 (logs.ErrBusy) and that carries a retry delay, and nothing reaches the
// local store.
func TestBackpressureRefusesBeforeStoring(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	f, _ := newTestForwarder(t, t.TempDir(), EndpointOptions{Name: "b", Protocol: ProtocolHTTP, Endpoint: "http://" + dead,
		Queue: QueueOptions{MaxBytes: 16 << 10, OnFull: Backpressure}})
	var stored int
	store := logWriterFunc(func(_ context.Context, b []logs.Record) error { stored += len(b); return nil })
	tee := f.LogSink(store)
	var refusal error
	for i := 0; i < 1000 && refusal == nil; i++ {
		recs := testRecords(20)
		for j := range recs {
			recs[j].Message = fmt.Sprintf("%d-%d-%x", i, j, uint64(i*1000+j)*0x9e3779b97f4a7c15)
		}
		refusal = tee.WriteLogs(context.Background(), recs)
		if refusal == nil && stored != (i+1)*20 {
			t.Fatalf("stored %d after %d accepted batches", stored, i+1)
		}
	}
	if refusal == nil {
		t.Fatal("a 16 KiB queue never filled")
	}
	var rl interface{ RetryAfter() time.Duration }
	if !errors.Is(refusal, logs.ErrBusy) || !errors.Is(refusal, ErrQueueFull) || !errors.As(refusal, &rl) || rl.RetryAfter() <= 0 {
		t.Errorf("refusal %v is not busy with a retry delay", refusal)
	}
	if stored%20 != 0 {
		t.Errorf("part of a refused batch was stored: %d", stored)
	}
}

// logWriterFunc adapts a function to LogWriter, to see exactly what the tee hands the store.
type logWriterFunc func(context.Context, []logs.Record) error

func (f logWriterFunc) WriteLogs(ctx context.Context, b []logs.Record) error { return f(ctx, b) }

// TestApplyKeepsWhatWasQueued: data queued for an endpoint that was down is sent once a reload
// points the same endpoint name at a live receiver, the queued batches merged into one request.
func TestApplyKeepsWhatWasQueued(t *testing.T) {
	dir := t.TempDir()
	f, _ := newTestForwarder(t, dir, EndpointOptions{Name: "h", Protocol: ProtocolHTTP, Endpoint: "http://127.0.0.1:1"})
	tee := f.LogSink(openLogStore(t))
	for range 3 {
		if err := tee.WriteLogs(context.Background(), testRecords(10)); err != nil {
			t.Fatal(err)
		}
	}
	recv := &otlpHTTPReceiver{}
	srv := httptest.NewServer(recv)
	defer srv.Close()
	if err := f.Apply([]EndpointOptions{{Name: "h", Protocol: ProtocolHTTP, Endpoint: srv.URL, Headers: map[string]string{"X-Scope-OrgID": "team-a"}}}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the queued records after the reload", func() bool { return recv.records() == 30 })
	recv.mu.Lock()
	defer recv.mu.Unlock()
	if len(recv.accepted) != 1 {
		t.Errorf("3 queued batches sent in %d requests, want 1 (merged up to max_batch_size)", len(recv.accepted))
	}
}

// TestLargeBatchesAreSplit: a batch whose request would be over max_batch_size goes as
// several requests under it (receivers cap a message, gRPC's default at 4 MiB).
func TestLargeBatchesAreSplit(t *testing.T) {
	recv := &otlpHTTPReceiver{}
	srv := httptest.NewServer(recv)
	defer srv.Close()
	const maxBatch = 64 << 10
	f, set := newTestForwarder(t, t.TempDir(), EndpointOptions{Name: "h", Protocol: ProtocolHTTP, Endpoint: srv.URL,
		Headers: map[string]string{"X-Scope-OrgID": "team-a"}, MaxBatchBytes: maxBatch})
	tee := f.LogSink(openLogStore(t))
	if err := tee.WriteLogs(context.Background(), testRecords(5000)); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if err := tee.WriteLogs(context.Background(), testRecords(10)); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, "every record at the receiver", func() bool { return recv.records() == 5200 })
	recv.mu.Lock()
	defer recv.mu.Unlock()
	if recv.maxBody > maxBatch || len(recv.accepted) < 4 {
		t.Errorf("%d requests, the largest %d bytes; want several of at most %d", len(recv.accepted), recv.maxBody, maxBatch)
	}
	if n := counter(set, `vigil_forward_queued_total{endpoint="h",signal="logs"}`); n != 5200 {
		t.Errorf("queued %d", n)
	}
}

// TestApplyThatFailsKeepsThePreviousEndpoints: a queue that cannot open refuses the new list
// and the previous endpoints go on forwarding.
func TestApplyThatFailsKeepsThePreviousEndpoints(t *testing.T) {
	dir := t.TempDir()
	recv := &otlpHTTPReceiver{}
	srv := httptest.NewServer(recv)
	defer srv.Close()
	good := EndpointOptions{Name: "h", Protocol: ProtocolHTTP, Endpoint: srv.URL, Headers: map[string]string{"X-Scope-OrgID": "team-a"}}
	f, _ := newTestForwarder(t, dir, good)
	if err := os.WriteFile(filepath.Join(dir, "blocked"), nil, 0o644); err != nil { // not a directory
		t.Fatal(err)
	}
	if err := f.Apply([]EndpointOptions{good, {Name: "blocked", Endpoint: "x:1"}}); err == nil {
		t.Fatal("a queue directory that is a file was accepted")
	}
	if err := f.Apply([]EndpointOptions{{Name: "x", Protocol: "thrift", Endpoint: "x:1"}}); err == nil {
		t.Fatal("an invalid endpoint was accepted")
	}
	if err := f.LogSink(openLogStore(t)).WriteLogs(context.Background(), testRecords(7)); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the previous endpoint still forwarding", func() bool { return recv.records() == 7 })
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":                              0,
		"7":                             7 * time.Second,
		"-1":                            0,
		"soon":                          0,
		"Fri, 27 Nov 2026 10:00:30 GMT": 30 * time.Second,
		"Fri, 27 Nov 2026 09:00:00 GMT": 0,
	} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("Retry-After %q: %s, want %s", in, got, want)
		}
	}
}
