package ingest

import (
	"context"
	"github.com/VictoriaMetrics/metrics"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/gogo/protobuf/proto"
	"github.com/golang/snappy"
	remoteapi "github.com/prometheus/client_golang/exp/api/remote"
	config_util "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
	"github.com/prometheus/prometheus/storage/remote"
)

// rwSeries is a test series: float samples and native histograms.
type rwSeries struct {
	ls     labels.Labels
	floats []prompb.Sample
	hists  []*histogram.Histogram // timestamps: histTs
	histTs []int64
}

// encodeRemoteWrite builds a snappy-compressed request of the given version.
func encodeRemoteWrite(t testing.TB, msg remoteapi.WriteMessageType, series []rwSeries) []byte {
	t.Helper()
	var (
		raw []byte
		err error
	)
	if msg == remoteapi.WriteV2MessageType {
		st := writev2.NewSymbolTable()
		req := &writev2.Request{}
		for _, s := range series {
			ts := writev2.TimeSeries{LabelsRefs: st.SymbolizeLabels(s.ls, nil)}
			for _, f := range s.floats {
				ts.Samples = append(ts.Samples, writev2.Sample{Value: f.Value, Timestamp: f.Timestamp})
			}
			for i, h := range s.hists {
				ts.Histograms = append(ts.Histograms, writev2.FromIntHistogram(0, s.histTs[i], h))
			}
			req.Timeseries = append(req.Timeseries, ts)
		}
		req.Symbols = st.Symbols()
		raw, err = proto.Marshal(req)
	} else {
		req := &prompb.WriteRequest{}
		for _, s := range series {
			ts := prompb.TimeSeries{Samples: s.floats}
			s.ls.Range(func(l labels.Label) { ts.Labels = append(ts.Labels, prompb.Label{Name: l.Name, Value: l.Value}) })
			for i, h := range s.hists {
				ts.Histograms = append(ts.Histograms, prompb.FromIntHistogram(s.histTs[i], h))
			}
			req.Timeseries = append(req.Timeseries, ts)
		}
		raw, err = proto.Marshal(req)
	}
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return snappy.Encode(nil, raw)
}

func testNativeHistogram() *histogram.Histogram {
	return &histogram.Histogram{
		Count: 6, Sum: 18.4, Schema: 1, ZeroThreshold: 0.001, ZeroCount: 1,
		PositiveSpans:   []histogram.Span{{Offset: 0, Length: 2}},
		PositiveBuckets: []int64{1, 2}, // absolute 1, 3
		NegativeSpans:   []histogram.Span{{Offset: 0, Length: 1}},
		NegativeBuckets: []int64{1},
	}
}

func newRemoteWriteClient(t *testing.T, srvURL string, msg remoteapi.WriteMessageType) remote.WriteClient {
	t.Helper()
	u, err := url.Parse(srvURL + "/api/v1/write")
	if err != nil {
		t.Fatal(err)
	}
	c, err := remote.NewWriteClient("vigil-test", &remote.ClientConfig{
		URL:           &config_util.URL{URL: u},
		Timeout:       model.Duration(10 * time.Second),
		WriteProtoMsg: msg,
	})
	if err != nil {
		t.Fatalf("new write client: %v", err)
	}
	return c
}

func TestRemoteWriteWithPrometheusClient(t *testing.T) {
	for _, msg := range []remoteapi.WriteMessageType{remoteapi.WriteV1MessageType, remoteapi.WriteV2MessageType} {
		t.Run(string(msg), func(t *testing.T) {
			db := openMetricsTestDB(t)
			set := metrics.NewSet()
			srv := httptest.NewServer(NewRemoteWriteHandler(db, DefaultMetricsIngestOptions(), set, nil))
			defer srv.Close()
			c := newRemoteWriteClient(t, srv.URL, msg)

			now := time.Now().UnixMilli()
			body := encodeRemoteWrite(t, msg, []rwSeries{
				{
					ls:     labels.FromStrings("__name__", "http_requests_total", "job", "api", "code", "200"),
					floats: []prompb.Sample{{Timestamp: now - 1000, Value: 10}, {Timestamp: now, Value: 12.5}},
				},
				{
					ls:     labels.FromStrings("__name__", "latency_seconds", "job", "api"),
					hists:  []*histogram.Histogram{testNativeHistogram()},
					histTs: []int64{now},
				},
			})
			stats, err := c.Store(context.Background(), body, 0)
			if err != nil {
				t.Fatalf("store: %v", err)
			}
			if msg == remoteapi.WriteV2MessageType {
				if !stats.Confirmed || stats.Samples != 2 || stats.Histograms != 1 {
					t.Errorf("v2 written stats = %+v, want 2 samples, 1 histogram, confirmed", stats)
				}
			}

			got := readSeries(t, db)
			floats := got[`{__name__="http_requests_total", code="200", job="api"}`]
			if len(floats) != 2 || floats[0].V != 10 || floats[1].V != 12.5 || floats[1].T != now {
				t.Errorf("http_requests_total = %+v, want 10 then 12.5 at %d", floats, now)
			}
			hs := got[`{__name__="latency_seconds", job="api"}`]
			if len(hs) != 1 || hs[0].H == nil {
				t.Fatalf("latency_seconds = %+v, want one native histogram", hs)
			}
			if !hs[0].H.Equals(testNativeHistogram().ToFloat(nil)) {
				t.Errorf("histogram = %s, want %s", hs[0].H, testNativeHistogram())
			}
			if n := counterValue(set, itemsName(protoRemoteWrite)); n != 3 {
				t.Errorf("items_total = %d, want 3", n)
			}
			if n := counterValue(set, requestsName(protoRemoteWrite, "204")); n != 1 {
				t.Errorf("requests_total{code=204} = %d, want 1", n)
			}
		})
	}
}

// TestRemoteWritePartial checks that partly bad requests behave as in
// Prometheus: good series are written, the answer is 400.
func TestRemoteWritePartial(t *testing.T) {
	for _, msg := range []remoteapi.WriteMessageType{remoteapi.WriteV1MessageType, remoteapi.WriteV2MessageType} {
		t.Run(string(msg), func(t *testing.T) {
			db := openMetricsTestDB(t)
			set := metrics.NewSet()
			srv := httptest.NewServer(NewRemoteWriteHandler(db, DefaultMetricsIngestOptions(), set, nil))
			defer srv.Close()
			c := newRemoteWriteClient(t, srv.URL, msg)
			now := time.Now().UnixMilli()
			body := encodeRemoteWrite(t, msg, []rwSeries{
				{ls: labels.FromStrings("__name__", "good", "a", "b"), floats: []prompb.Sample{{Timestamp: now, Value: 1}}},
				{ls: labels.FromStrings("a", "no name"), floats: []prompb.Sample{{Timestamp: now, Value: 2}}},
			})
			_, err := c.Store(context.Background(), body, 0)
			if err == nil {
				t.Fatal("store succeeded, want a 400 for the series without a name")
			}
			if _, ok := err.(remote.RecoverableError); ok {
				t.Fatalf("store error is recoverable, want permanent: %v", err)
			}
			if got := readSeries(t, db); len(got[`{__name__="good", a="b"}`]) != 1 || len(got) != 1 {
				t.Errorf("stored %v, want only the good series", got)
			}
			if n := counterValue(set, rejectedName(protoRemoteWrite, reasonBadLabels)); n != 1 {
				t.Errorf("rejected{bad_labels} = %d, want 1", n)
			}
			if n := counterValue(set, requestsName(protoRemoteWrite, "400")); n != 1 {
				t.Errorf("requests{400} = %d, want 1", n)
			}
		})
	}
}

func TestRemoteWriteOutOfOrder(t *testing.T) {
	db := openMetricsTestDB(t)
	set := metrics.NewSet()
	srv := httptest.NewServer(NewRemoteWriteHandler(db, DefaultMetricsIngestOptions(), set, nil))
	defer srv.Close()
	c := newRemoteWriteClient(t, srv.URL, remoteapi.WriteV1MessageType)
	now := time.Now().UnixMilli()
	ls := labels.FromStrings("__name__", "ooo")
	if _, err := c.Store(context.Background(), encodeRemoteWrite(t, remoteapi.WriteV1MessageType, []rwSeries{{ls: ls, floats: []prompb.Sample{{Timestamp: now, Value: 1}}}}), 0); err != nil {
		t.Fatalf("first store: %v", err)
	}
	_, err := c.Store(context.Background(), encodeRemoteWrite(t, remoteapi.WriteV1MessageType, []rwSeries{{ls: ls, floats: []prompb.Sample{{Timestamp: now - 60_000, Value: 2}}}}), 0)
	if err == nil {
		t.Fatal("out-of-order store succeeded")
	}
	if n := counterValue(set, rejectedName(protoRemoteWrite, reasonOutOfOrder)); n != 1 {
		t.Errorf("rejected{out_of_order} = %d, want 1 (err %v)", n, err)
	}
}
