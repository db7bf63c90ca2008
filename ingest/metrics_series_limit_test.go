package ingest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	remoteapi "github.com/prometheus/client_golang/exp/api/remote"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage/remote"
	"github.com/prometheus/prometheus/tsdb"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
)

// countedDB reports its head's series as Vigil's tsdb.DB does (ActiveSeries).
type countedDB struct{ *tsdb.DB }

func (c countedDB) ActiveSeries() uint64 { return c.Head().NumSeries() }

// Past metrics.max_active_series, the samples of series the store holds keep flowing and new
// series are refused: remote write (1.0 through Vigil's own decoder, 2.0 through Prometheus's
// receiver) answers a permanent 400 after writing the rest; OTLP reports the refused points in
// its partial success.
func TestActiveSeriesLimit(t *testing.T) {
	opts := DefaultMetricsIngestOptions()
	opts.MaxActiveSeries = 3
	now := time.Now().UnixMilli()
	series := func(names []string, ts int64) []rwSeries {
		var out []rwSeries
		for _, n := range names {
			out = append(out, rwSeries{ls: labels.FromStrings("__name__", "capped", "s", n), floats: []prompb.Sample{{Timestamp: ts, Value: 1}}})
		}
		return out
	}
	for _, msg := range []remoteapi.WriteMessageType{remoteapi.WriteV1MessageType, remoteapi.WriteV2MessageType} {
		t.Run(string(msg), func(t *testing.T) {
			db := openMetricsTestDB(t)
			set := metrics.NewSet()
			srv := httptest.NewServer(NewRemoteWriteHandler(countedDB{db}, opts, set, nil))
			defer srv.Close()
			c := newRemoteWriteClient(t, srv.URL, msg)
			if _, err := c.Store(context.Background(), encodeRemoteWrite(t, msg, series([]string{"a", "b", "c"}, now)), 0); err != nil {
				t.Fatalf("three series under a cap of three: %v", err)
			}
			_, err := c.Store(context.Background(), encodeRemoteWrite(t, msg, series([]string{"a", "new1", "b", "new2"}, now+1000)), 0)
			if err == nil || !strings.Contains(err.Error(), "active series limit") {
				t.Fatalf("store over the cap: %v, want a 400 naming the active series limit", err)
			}
			if _, ok := err.(remote.RecoverableError); ok {
				t.Fatalf("the refusal is retryable, want permanent: %v", err)
			}
			got := readSeries(t, db)
			for _, s := range []string{"a", "b"} {
				if n := len(got[fmt.Sprintf(`{__name__="capped", s=%q}`, s)]); n != 2 {
					t.Errorf("series %s has %d samples, want 2 (the known series keep flowing)", s, n)
				}
			}
			if len(got) != 3 {
				t.Errorf("stored series %v, want only a, b, c", got)
			}
			if n := counterValue(set, rejectedName(protoRemoteWrite, reasonSeriesLimit)); n != 1 {
				t.Errorf("rejected{series_limit} = %d, want 1", n)
			}
		})
	}

	t.Run("otlp", func(t *testing.T) {
		db := openMetricsTestDB(t)
		m, err := NewOTLPMetrics(countedDB{db}, opts, metrics.NewSet(), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		gauges := func(names ...string) []byte {
			md := pmetric.NewMetrics()
			sm := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty()
			for _, n := range names {
				g := sm.Metrics().AppendEmpty()
				g.SetName("capped_" + n)
				dp := g.SetEmptyGauge().DataPoints().AppendEmpty()
				dp.SetDoubleValue(1)
				dp.SetTimestamp(pmetricTimestamp(time.Now()))
			}
			b, err := pmetricotlp.NewExportRequestFromMetrics(md).MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		post := func(body []byte) (int, string) {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodPost, "/v1/metrics", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			m.ServeHTTP(rec, req)
			b, _ := io.ReadAll(rec.Body)
			return rec.Code, string(b)
		}
		if code, body := post(gauges("a", "b", "c")); code != http.StatusOK || strings.Contains(body, "rejected") {
			t.Fatalf("under the cap: %d %s", code, body)
		}
		code, body := post(gauges("a", "new"))
		if code != http.StatusOK || !strings.Contains(body, `"rejectedDataPoints":"1"`) || !strings.Contains(body, "active series limit") {
			t.Fatalf("over the cap: %d %s, want 200 with one rejected point naming the limit", code, body)
		}
	})
}
