package ingest

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"

	vigiltsdb "github.com/vigilhq/vigil/tsdb"
)

// benchOTLPBodies encodes the series of benchRWLabels as OTLP/HTTP protobuf requests shaped as
// bench/metrics/loadgen sends them (one resource per host, counters as cumulative sums), 2,000
// points per request; round r carries timestamp t0 + r×15s.
func benchOTLPBodies(b *testing.B, rounds int, t0 time.Time) [][]byte {
	b.Helper()
	series := benchRWLabels()
	var bodies [][]byte
	for r := range rounds {
		ts := pcommon.NewTimestampFromTime(t0.Add(time.Duration(r) * 15 * time.Second))
		for from := 0; from < len(series); from += benchRWBatch {
			md := pmetric.NewMetrics()
			var sm pmetric.ScopeMetrics
			var m pmetric.Metric
			inst, name := "", ""
			for i, ls := range series[from : from+benchRWBatch] {
				attrs := map[string]string{}
				for _, l := range ls {
					attrs[l.Name] = l.Value
				}
				if attrs["instance"] != inst {
					inst, name = attrs["instance"], ""
					rm := md.ResourceMetrics().AppendEmpty()
					rm.Resource().Attributes().PutStr("service.name", attrs["job"])
					rm.Resource().Attributes().PutStr("service.instance.id", inst)
					sm = rm.ScopeMetrics().AppendEmpty()
				}
				counter := strings.HasSuffix(attrs["__name__"], "_total")
				if attrs["__name__"] != name {
					name = attrs["__name__"]
					m = sm.Metrics().AppendEmpty()
					m.SetName(strings.TrimSuffix(name, "_total"))
					if counter {
						m.SetEmptySum().SetIsMonotonic(true)
						m.Sum().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
					} else {
						m.SetEmptyGauge()
					}
				}
				var dp pmetric.NumberDataPoint
				if counter {
					dp = m.Sum().DataPoints().AppendEmpty()
					dp.SetStartTimestamp(pcommon.NewTimestampFromTime(t0.Add(-time.Hour)))
				} else {
					dp = m.Gauge().DataPoints().AppendEmpty()
				}
				dp.SetTimestamp(ts)
				dp.SetDoubleValue(float64(r*1000 + i))
				dp.Attributes().PutStr("cpu", attrs["cpu"])
				dp.Attributes().PutStr("mode", attrs["mode"])
			}
			body, err := pmetricotlp.NewExportRequestFromMetrics(md).MarshalProto()
			if err != nil {
				b.Fatal(err)
			}
			bodies = append(bodies, body)
		}
	}
	return bodies
}

// BenchmarkOTLPMetricsHTTP is the OTLP/HTTP metrics path from body to TSDB head, one
// 2,000-point request per op, over 100k active series.
func BenchmarkOTLPMetricsHTTP(b *testing.B) {
	db, err := vigiltsdb.Open(b.TempDir(), vigiltsdb.DefaultOptions(), nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	m, err := NewOTLPMetrics(db, DefaultMetricsIngestOptions(), metrics.NewSet(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	perRound := benchRWSeries / benchRWBatch
	rounds := 1 + (b.N+perRound-1)/perRound + 1
	bodies := benchOTLPBodies(b, rounds, time.Now().Add(-time.Hour))
	send := func(body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/v1/metrics", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-protobuf")
		rec := httptest.NewRecorder()
		m.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
	for i := range perRound { // create the series
		send(bodies[i])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		send(bodies[perRound+i])
	}
	b.ReportMetric(float64(b.N*benchRWBatch)/b.Elapsed().Seconds(), "samples/s")
}
