package ingest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/golang/snappy"
	remoteapi "github.com/prometheus/client_golang/exp/api/remote"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// otlpTestRequest builds a request with a good gauge and, if badSum, a sum
// of unspecified temporality that the translator refuses.
func otlpTestRequest(goodGauge, badSum bool) pmetricotlp.ExportRequest {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "svc")
	ms := rm.ScopeMetrics().AppendEmpty().Metrics()
	now := time.Now()
	if goodGauge {
		g := ms.AppendEmpty()
		g.SetName("good_gauge")
		dp := g.SetEmptyGauge().DataPoints().AppendEmpty()
		dp.SetDoubleValue(1)
		dp.SetTimestamp(pmetricTimestamp(now))
	}
	if badSum {
		s := ms.AppendEmpty()
		s.SetName("bad_sum")
		sum := s.SetEmptySum()
		sum.SetAggregationTemporality(pmetric.AggregationTemporalityUnspecified)
		dp := sum.DataPoints().AppendEmpty()
		dp.SetDoubleValue(1)
		dp.SetTimestamp(pmetricTimestamp(now))
	}
	return pmetricotlp.NewExportRequestFromMetrics(md)
}

func mustJSON(t testing.TB, r pmetricotlp.ExportRequest) []byte {
	b, err := r.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMetricsBadInput(t *testing.T) {
	now := time.Now().UnixMilli()
	series := func(n int, ls ...string) []rwSeries {
		var out []rwSeries
		for i := range n {
			l := labels.FromStrings(append([]string{"__name__", "m", "i", string(rune('a' + i))}, ls...)...)
			out = append(out, rwSeries{ls: l, floats: []prompb.Sample{{Timestamp: now, Value: 1}}})
		}
		return out
	}
	small := DefaultMetricsIngestOptions()
	small.MaxRequestBytes = 1024
	small.MaxSeriesPerRequest = 2
	small.MaxLabelValueLength = 16
	rwV1 := "application/x-protobuf"
	rwV2 := "application/x-protobuf;proto=io.prometheus.write.v2.Request"

	type handlerKind int
	const (
		remoteWrite handlerKind = iota
		otlpHTTP
		importText
	)
	for _, tc := range []struct {
		name        string
		kind        handlerKind
		contentType string
		body        []byte
		wantCode    int
		wantReason  rejectReason
		wantInBody  string
	}{
		{"rw bad snappy", remoteWrite, rwV1, []byte("definitely not snappy"), 400, reasonBadRequest, "snappy"},
		{"rw bad protobuf", remoteWrite, rwV1, snappy.Encode(nil, []byte{0x0a, 0xff, 0xff, 0xff}), 400, reasonBadRequest, "protobuf"},
		{"rw wrong content type", remoteWrite, "application/json", encodeRemoteWrite(t, remoteapi.WriteV1MessageType, series(1)), 415, reasonUnsupportedMedia, "application/x-protobuf"},
		{"rw too big", remoteWrite, rwV1, bytes.Repeat([]byte{0}, 2048), 413, reasonTooLarge, "too large"},
		{"rw too many series v1", remoteWrite, rwV1, encodeRemoteWrite(t, remoteapi.WriteV1MessageType, series(3)), 413, reasonTooManySeries, "too many series"},
		{"rw too many series v2", remoteWrite, rwV2, encodeRemoteWrite(t, remoteapi.WriteV2MessageType, series(3)), 413, reasonTooManySeries, "too many series"},
		{"rw invalid label name", remoteWrite, rwV1, encodeRemoteWrite(t, remoteapi.WriteV1MessageType, series(1, "", "x")), 400, reasonBadLabels, "invalid label"},
		{"rw non-utf8 label name v2", remoteWrite, rwV2, encodeRemoteWrite(t, remoteapi.WriteV2MessageType, series(1, "\xff", "x")), 400, reasonBadLabels, "invalid"},
		{"rw label value too long", remoteWrite, rwV1, encodeRemoteWrite(t, remoteapi.WriteV1MessageType, series(1, "v", strings.Repeat("x", 17))), 400, reasonBadLabels, "limit is 16"},
		{"otlp bad json", otlpHTTP, "application/json", []byte(`{"resourceMetrics": [`), 400, reasonBadRequest, "decode OTLP"},
		{"otlp bad protobuf", otlpHTTP, "application/x-protobuf", []byte{0x0a, 0xff, 0xff}, 400, reasonBadRequest, ""},
		{"otlp wrong content type", otlpHTTP, "text/plain", []byte("x"), 415, reasonUnsupportedMedia, "unsupported content type"},
		{"otlp too big", otlpHTTP, "application/json", bytes.Repeat([]byte(" "), 2048), 413, reasonTooLarge, "too large"},
		{"otlp nothing convertible", otlpHTTP, "application/json", mustJSON(t, otlpTestRequest(false, true)), 400, reasonBadRequest, "temporality"},
		{"import bad line", importText, "text/plain", []byte("# HELP a help\na 1\n\nb{ 2\nc 3\n"), 400, reasonBadRequest, "line 4"},
		{"import wrong content type", importText, "application/json", []byte("a 1\n"), 415, reasonUnsupportedMedia, "Content-Type"},
		{"import too big", importText, "text/plain", bytes.Repeat([]byte("a 1\n"), 300), 413, reasonTooLarge, "too large"},
		{"import too many series", importText, "text/plain", []byte("a 1\nb 1\nc 1\n"), 413, reasonTooManySeries, "too many series"},
		{"import label too long", importText, "text/plain", []byte("a 1\nb{v=\"" + strings.Repeat("x", 17) + "\"} 1\n"), 400, reasonBadLabels, "line 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openMetricsTestDB(t)
			set := metrics.NewSet()
			var (
				h        http.Handler
				protocol string
			)
			switch tc.kind {
			case remoteWrite:
				h, protocol = NewRemoteWriteHandler(db, small, set, nil), protoRemoteWrite
			case otlpHTTP:
				m, err := NewOTLPMetrics(db, small, set, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer m.Close()
				h, protocol = m, protoOTLPHTTP
			case importText:
				h, protocol = NewImportHandler(db, small, set, nil), protoImport
			}
			req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(tc.body))
			req.Header.Set("Content-Type", tc.contentType)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			body, _ := io.ReadAll(rec.Body)
			if rec.Code != tc.wantCode {
				t.Fatalf("status = %d (%s), want %d", rec.Code, body, tc.wantCode)
			}
			if !strings.Contains(string(body), tc.wantInBody) {
				t.Errorf("body %q does not mention %q", body, tc.wantInBody)
			}
			if n := counterValue(set, rejectedName(protocol, tc.wantReason)); n != 1 {
				t.Errorf("rejected{%s} = %d, want 1", tc.wantReason, n)
			}
			if n := counterValue(set, requestsName(protocol, strconv.Itoa(tc.wantCode))); n != 1 {
				t.Errorf("requests{code=%d} = %d, want 1", tc.wantCode, n)
			}
			if tc.kind != remoteWrite || tc.wantReason != reasonBadLabels || !strings.Contains(tc.name, "invalid") {
				if got := readSeries(t, db); len(got) != 0 {
					t.Errorf("stored %v, want nothing", keysOf(got))
				}
			}
		})
	}
}

func TestOTLPMetricsGRPCPartialSuccess(t *testing.T) {
	db := openMetricsTestDB(t)
	set := metrics.NewSet()
	m, err := NewOTLPMetrics(db, DefaultMetricsIngestOptions(), set, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()

	resp, err := m.Export(ctx, otlpTestRequest(true, true))
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	if ps := resp.PartialSuccess(); ps.RejectedDataPoints() != 1 || !strings.Contains(ps.ErrorMessage(), "bad_sum") {
		t.Errorf("partial success = %d %q, want 1 rejected point naming bad_sum", ps.RejectedDataPoints(), ps.ErrorMessage())
	}
	if got := readSeries(t, db); len(got[`{__name__="good_gauge", job="svc"}`]) != 1 {
		t.Errorf("good_gauge not stored: %v", keysOf(got))
	}

	_, err = m.Export(ctx, otlpTestRequest(false, true))
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("all-bad export: %v, want InvalidArgument", err)
	}
	if n := counterValue(set, requestsName(protoOTLPGRPC, "InvalidArgument")); n != 1 {
		t.Errorf("requests{InvalidArgument} = %d, want 1", n)
	}
	if n := counterValue(set, rejectedName(protoOTLPGRPC, reasonBadRequest)); n != 2 {
		t.Errorf("rejected{bad_request} = %d, want 2 (partial + full)", n)
	}
}
