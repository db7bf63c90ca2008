package ingest

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	grpccodes "google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/vigilhq/vigil/traces"
)

// rawSpan is a Span message written by hand, so its ids may have any length (pdata's types
// cannot hold such ids, and OTLP clients of other languages can send them).
func rawSpan(traceID, spanID, parent []byte, name string, start time.Time, link []byte) []byte {
	var b []byte
	bytesField := func(num protowire.Number, v []byte) {
		b = protowire.AppendTag(b, num, protowire.BytesType)
		b = protowire.AppendBytes(b, v)
	}
	bytesField(1, traceID)
	bytesField(2, spanID)
	if parent != nil {
		bytesField(4, parent)
	}
	bytesField(5, []byte(name))
	b = protowire.AppendTag(b, 7, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, uint64(start.UnixNano()))
	b = protowire.AppendTag(b, 8, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, uint64(start.Add(time.Millisecond).UnixNano()))
	if link != nil {
		var l []byte
		l = protowire.AppendTag(l, 1, protowire.BytesType)
		l = protowire.AppendBytes(l, link)
		l = protowire.AppendTag(l, 2, protowire.BytesType)
		l = protowire.AppendBytes(l, []byte{1, 2, 3, 4, 5, 6, 7, 8})
		bytesField(13, l)
	}
	return b
}

// rawRequest wraps spans into an ExportTraceServiceRequest of service "shop".
func rawRequest(spans ...[]byte) []byte {
	msg := func(b []byte, num protowire.Number, v []byte) []byte {
		b = protowire.AppendTag(b, num, protowire.BytesType)
		return protowire.AppendBytes(b, v)
	}
	var anyValue, kv, resource, scopeSpans, resourceSpans []byte
	anyValue = msg(anyValue, 1, []byte("shop"))
	kv = msg(msg(kv, 1, []byte("service.name")), 2, anyValue)
	resource = msg(resource, 1, kv)
	for _, s := range spans {
		scopeSpans = msg(scopeSpans, 2, s)
	}
	resourceSpans = msg(msg(resourceSpans, 1, resource), 2, scopeSpans)
	return msg(nil, 1, resourceSpans)
}

var (
	goodTrace = []byte{9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	goodSpan  = []byte{0, 0, 0, 0, 0, 0, 0, 1}
)

// badIDRequest holds one good span and one span for each kind of id of the wrong length.
func badIDRequest(now time.Time) []byte {
	at := now.Add(-time.Minute)
	return rawRequest(
		rawSpan(goodTrace, goodSpan, nil, "good", at, nil),
		rawSpan(goodTrace[:5], []byte{0, 0, 0, 0, 0, 0, 0, 2}, nil, "short trace id", at, nil),
		rawSpan(goodTrace, []byte{0, 0, 0, 0, 0, 0, 0, 0, 3}, nil, "long span id", at, nil),
		rawSpan(goodTrace, []byte{0, 0, 0, 0, 0, 0, 0, 4}, []byte{1}, "short parent", at, nil),
		rawSpan(goodTrace, []byte{0, 0, 0, 0, 0, 0, 0, 5}, goodSpan, "bad link", at, []byte{1, 2, 3}),
	)
}

// rawMessage is a protobuf message already encoded, in the shape pdata's gRPC codec
// handles (see RegisterGRPC).
type rawMessage struct{ b []byte }

func (m *rawMessage) SizeProto() int                { return len(m.b) }
func (m *rawMessage) MarshalProto(p []byte) int     { return copy(p, m.b) }
func (m *rawMessage) UnmarshalProto(b []byte) error { m.b = append(m.b[:0], b...); return nil }

func checkBadIDsStored(t *testing.T, db *traces.DB) {
	t.Helper()
	spans, err := db.TraceSpans(context.Background(), traces.TraceID(goodTrace))
	if err != nil || len(spans) != 1 || spans[0].Name != "good" {
		t.Errorf("stored: %+v, %v; want the good span only", spans, err)
	}
}

func checkBadIDCounters(t *testing.T, set *metrics.Set, protocol string) {
	t.Helper()
	for reason, want := range map[string]uint64{"bad_trace_id": 1, "bad_span_id": 1, "bad_parent_span_id": 1, "bad_link_id": 1} {
		name := `vigil_ingest_rejected_items_total{signal="traces",protocol="` + protocol + `",reason="` + reason + `"}`
		if n := counterValue(set, name); n != want {
			t.Errorf("%s = %d, want %d", name, n, want)
		}
	}
}

// TestTracesOTLPWrongLengthIDs: a span with a trace, span, parent or link id of the wrong
// length is rejected alone, over gRPC (a real client and server on loopback) and HTTP
// (protobuf and JSON); the rest of the request is stored.
func TestTracesOTLPWrongLengthIDs(t *testing.T) {
	now := time.Now()
	t.Run("grpc", func(t *testing.T) {
		db := openTraceDB(t)
		set := metrics.NewSet()
		recv, err := NewOTLPTraces(db, DefaultTracesIngestOptions(), set, nil)
		if err != nil {
			t.Fatal(err)
		}
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		gs := grpc.NewServer()
		recv.RegisterGRPC(gs)
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = gs.Serve(lis)
		}()
		defer func() { gs.Stop(); <-done }()
		conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		const method = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
		var out rawMessage
		if err := conn.Invoke(context.Background(), method, &rawMessage{b: badIDRequest(now)}, &out); err != nil {
			t.Fatal(err)
		}
		resp := ptraceotlp.NewExportResponse()
		if err := resp.UnmarshalProto(out.b); err != nil {
			t.Fatal(err)
		}
		if ps := resp.PartialSuccess(); ps.RejectedSpans() != 4 || !strings.Contains(ps.ErrorMessage(), "trace id has 5 bytes") {
			t.Errorf("partial success: rejected %d, %q; want 4 and the short trace id", ps.RejectedSpans(), ps.ErrorMessage())
		}
		checkBadIDsStored(t, db)
		checkBadIDCounters(t, set, "otlp_grpc")

		// Nothing valid left: InvalidArgument, as for any request without a usable span.
		err = conn.Invoke(context.Background(), method, &rawMessage{b: rawRequest(rawSpan(goodTrace[:3], goodSpan, nil, "x", now, nil))}, &out)
		if status.Code(err) != grpccodes.InvalidArgument {
			t.Errorf("all bad: got %v, want InvalidArgument", err)
		}
		// Not protobuf at all: InvalidArgument too.
		err = conn.Invoke(context.Background(), method, &rawMessage{b: []byte{0x0a, 0xff}}, &out)
		if status.Code(err) != grpccodes.InvalidArgument {
			t.Errorf("garbage: got %v, want InvalidArgument", err)
		}
	})
	post := func(t *testing.T, recv *OTLPTraces, contentType string, body []byte) (int, []byte) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/v1/traces", bytes.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		recv.ServeHTTP(rec, req)
		return rec.Code, rec.Body.Bytes()
	}
	t.Run("http protobuf", func(t *testing.T) {
		db := openTraceDB(t)
		set := metrics.NewSet()
		recv, err := NewOTLPTraces(db, DefaultTracesIngestOptions(), set, nil)
		if err != nil {
			t.Fatal(err)
		}
		code, body := post(t, recv, "application/x-protobuf", badIDRequest(now))
		resp := ptraceotlp.NewExportResponse()
		if err := resp.UnmarshalProto(body); err != nil || code != http.StatusOK {
			t.Fatalf("answer %d: %v", code, err)
		}
		if resp.PartialSuccess().RejectedSpans() != 4 {
			t.Errorf("rejected %d, want 4", resp.PartialSuccess().RejectedSpans())
		}
		checkBadIDsStored(t, db)
		checkBadIDCounters(t, set, "otlp_http")
	})
	t.Run("http json", func(t *testing.T) {
		db := openTraceDB(t)
		set := metrics.NewSet()
		recv, err := NewOTLPTraces(db, DefaultTracesIngestOptions(), set, nil)
		if err != nil {
			t.Fatal(err)
		}
		start := now.Add(-time.Minute).UnixNano()
		times := `"startTimeUnixNano":"` + strconv.FormatInt(start, 10) + `","endTimeUnixNano":"` + strconv.FormatInt(start+1e6, 10) + `"`
		body := `{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"shop"}}]},"scopeSpans":[{"spans":[` +
			`{"traceId":"090102030405060708090a0b0c0d0e0f","spanId":"0000000000000001","name":"good",` + times + `},` +
			`{"traceId":"0102","spanId":"0000000000000002","name":"short trace id",` + times + `},` +
			`{"trace_id":"090102030405060708090a0b0c0d0e0f","span_id":"00000000000000000003","name":"long span id",` + times + `},` +
			`{"traceId":"090102030405060708090a0b0c0d0e0f","spanId":"0000000000000004","parentSpanId":"zz","name":"bad parent",` + times + `},` +
			`{"traceId":"090102030405060708090a0b0c0d0e0f","spanId":"0000000000000005","name":"bad link",` + times + `,"links":[{"traceId":"01","spanId":"0102030405060708"}]}` +
			`]}]}]}`
		code, resp := post(t, recv, "application/json", []byte(body))
		er := ptraceotlp.NewExportResponse()
		if err := er.UnmarshalJSON(resp); err != nil || code != http.StatusOK {
			t.Fatalf("answer %d %s: %v", code, resp, err)
		}
		if er.PartialSuccess().RejectedSpans() != 4 {
			t.Errorf("rejected %d, want 4: %s", er.PartialSuccess().RejectedSpans(), resp)
		}
		checkBadIDsStored(t, db)
		checkBadIDCounters(t, set, "otlp_http")
	})
}
