package ingest

import (
	"bytes"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/gogo/protobuf/proto"
	"github.com/golang/snappy"
	remoteapi "github.com/prometheus/client_golang/exp/api/remote"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
)

var updateMetricsFuzzSeeds = flag.Bool("update-metrics-fuzz-seeds", false, "rewrite testdata/fuzz seed corpora of the metrics fuzz targets")

// The fuzz targets check that no input crashes a decoder or is mistaken for
// a storage failure: every answer is a success or a 4xx.

func FuzzRemoteWrite(f *testing.F) {
	for _, s := range remoteWriteFuzzSeeds(f) {
		f.Add(s.body, s.v2)
	}
	db := openMetricsTestDB(f)
	opts := DefaultMetricsIngestOptions()
	opts.MaxSeriesPerRequest = 100
	h := NewRemoteWriteHandler(db, opts, metrics.NewSet(), nil)
	f.Fuzz(func(t *testing.T, raw []byte, v2 bool) {
		ct := "application/x-protobuf"
		if v2 {
			ct += ";proto=io.prometheus.write.v2.Request"
		}
		req := httptest.NewRequest(http.MethodPost, "/api/v1/write", bytes.NewReader(snappy.Encode(nil, raw)))
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Content-Encoding", "snappy")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
}

func FuzzOTLPMetricsJSON(f *testing.F) {
	for _, s := range otlpFuzzSeeds(f) {
		f.Add(s)
	}
	db := openMetricsTestDB(f)
	m, err := NewOTLPMetrics(db, DefaultMetricsIngestOptions(), metrics.NewSet(), nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = m.Close() })
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/v1/metrics", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		m.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
}

func FuzzImportText(f *testing.F) {
	for _, s := range importFuzzSeeds() {
		f.Add(s.body, s.openMetrics)
	}
	db := openMetricsTestDB(f)
	h := NewImportHandler(db, DefaultMetricsIngestOptions(), metrics.NewSet(), nil)
	f.Fuzz(func(t *testing.T, body []byte, openMetrics bool) {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/import/prometheus", bytes.NewReader(body))
		if openMetrics {
			req.Header.Set("Content-Type", "application/openmetrics-text; version=1.0.0")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
}

type rwFuzzSeed struct {
	body []byte
	v2   bool
}

func remoteWriteFuzzSeeds(t testing.TB) []rwFuzzSeed {
	now := time.Now().UnixMilli()
	series := []rwSeries{
		{ls: labels.FromStrings("__name__", "up", "job", "a"), floats: []prompb.Sample{{Timestamp: now, Value: 1}}},
		{ls: labels.FromStrings("__name__", "h", "job", "a"), hists: []*histogram.Histogram{testNativeHistogram()}, histTs: []int64{now}},
		{ls: labels.FromStrings("job", "no-name"), floats: []prompb.Sample{{Timestamp: now, Value: 2}}},
	}
	var out []rwFuzzSeed
	for _, msg := range []remoteapi.WriteMessageType{remoteapi.WriteV1MessageType, remoteapi.WriteV2MessageType} {
		raw, err := snappy.Decode(nil, encodeRemoteWrite(t, msg, series))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rwFuzzSeed{body: raw, v2: msg == remoteapi.WriteV2MessageType})
	}
	empty, _ := proto.Marshal(&prompb.WriteRequest{})
	return append(out, rwFuzzSeed{body: empty}, rwFuzzSeed{body: []byte{0x0a, 0x80}, v2: true})
}

func otlpFuzzSeeds(t testing.TB) [][]byte {
	return [][]byte{
		mustJSON(t, otlpTestRequest(true, false)),
		mustJSON(t, otlpTestRequest(true, true)),
		[]byte(`{}`),
		[]byte(`{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"x","histogram":{"aggregationTemporality":2,"dataPoints":[{"count":"2","sum":3,"bucketCounts":["1","1"],"explicitBounds":[1],"timeUnixNano":"1700000000000000000"}]}}]}]}]}`),
		[]byte(`{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"e","exponentialHistogram":{"aggregationTemporality":1,"dataPoints":[{"count":"1","scale":3,"positive":{"offset":1,"bucketCounts":["1"]},"timeUnixNano":"1700000000000000000"}]}}]}]}]}`),
	}
}

type importFuzzSeed struct {
	body        []byte
	openMetrics bool
}

func importFuzzSeeds() []importFuzzSeed {
	return []importFuzzSeed{
		{body: []byte("# HELP a A.\n# TYPE a counter\na{x=\"1\"} 1 1700000000000\nb 2\n")},
		{body: []byte("# TYPE c counter\nc_total 1 # {id=\"x\"} 1.0\n# EOF\n"), openMetrics: true},
		{body: []byte("h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n")},
		{body: []byte("{\"utf8.name\"} 1\n")},
	}
}

// TestWriteMetricsFuzzSeeds keeps testdata/fuzz in step with the seeds above
// when run with -update-metrics-fuzz-seeds; otherwise it checks they exist.
func TestWriteMetricsFuzzSeeds(t *testing.T) {
	corpora := map[string][][]any{}
	for _, s := range remoteWriteFuzzSeeds(t) {
		corpora["FuzzRemoteWrite"] = append(corpora["FuzzRemoteWrite"], []any{s.body, s.v2})
	}
	for _, s := range otlpFuzzSeeds(t) {
		corpora["FuzzOTLPMetricsJSON"] = append(corpora["FuzzOTLPMetricsJSON"], []any{s})
	}
	for _, s := range importFuzzSeeds() {
		corpora["FuzzImportText"] = append(corpora["FuzzImportText"], []any{s.body, s.openMetrics})
	}
	for name, seeds := range corpora {
		dir := filepath.Join("testdata", "fuzz", name)
		if !*updateMetricsFuzzSeeds {
			if entries, err := os.ReadDir(dir); err != nil || len(entries) == 0 {
				t.Errorf("seed corpus %s missing; run go test -run TestWriteMetricsFuzzSeeds -update-metrics-fuzz-seeds", dir)
			}
			continue
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, vals := range seeds {
			var b bytes.Buffer
			b.WriteString("go test fuzz v1\n")
			for _, v := range vals {
				switch v := v.(type) {
				case []byte:
					fmt.Fprintf(&b, "[]byte(%s)\n", strconv.Quote(string(v)))
				case bool:
					fmt.Fprintf(&b, "bool(%t)\n", v)
				}
			}
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%d", i)), b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
