package ingest

import (
	"context"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// otlpEveryType is a request with a point of every metric type the translator converts,
// several series each, and resource attributes (so target_info too).
func otlpEveryType() pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "bound")
	rm.Resource().Attributes().PutStr("host.name", "h1")
	ms := rm.ScopeMetrics().AppendEmpty().Metrics()
	now := pcommon.NewTimestampFromTime(time.Now())
	start := pcommon.NewTimestampFromTime(time.Now().Add(-time.Minute))
	g := ms.AppendEmpty()
	g.SetName("bound_gauge")
	gauge := g.SetEmptyGauge()
	for _, v := range []string{"a", "b", "c"} {
		dp := gauge.DataPoints().AppendEmpty()
		dp.Attributes().PutStr("k", v)
		dp.SetTimestamp(now)
		dp.SetDoubleValue(1)
	}
	h := ms.AppendEmpty()
	h.SetName("bound_histogram")
	h.SetEmptyHistogram().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	hp := h.Histogram().DataPoints().AppendEmpty()
	hp.SetTimestamp(now)
	hp.SetStartTimestamp(start)
	hp.ExplicitBounds().FromRaw([]float64{0.1, 1, 10})
	hp.BucketCounts().FromRaw([]uint64{1, 2, 3, 4})
	hp.SetCount(10)
	hp.SetSum(12)
	e := ms.AppendEmpty()
	e.SetName("bound_exponential")
	e.SetEmptyExponentialHistogram().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	ep := e.ExponentialHistogram().DataPoints().AppendEmpty()
	ep.SetTimestamp(now)
	ep.SetStartTimestamp(start)
	ep.SetScale(2)
	ep.Positive().BucketCounts().FromRaw([]uint64{1, 2})
	ep.SetCount(3)
	ep.SetSum(4)
	s := ms.AppendEmpty()
	s.SetName("bound_summary")
	sp := s.SetEmptySummary().DataPoints().AppendEmpty()
	sp.SetTimestamp(now)
	sp.SetCount(5)
	sp.SetSum(6)
	for _, q := range []float64{0.5, 0.99} {
		qv := sp.QuantileValues().AppendEmpty()
		qv.SetQuantile(q)
		qv.SetValue(1)
	}
	return md
}

// The series bound must never be under what the translator makes of a request: at or under
// MaxSeriesPerRequest, the per-request cap is not checked series by series.
func TestOTLPSeriesBoundCoversTheTranslator(t *testing.T) {
	md := otlpEveryType()
	bound := otlpSeriesBound(md)

	db := openMetricsTestDB(t)
	m, err := NewOTLPMetrics(db, DefaultMetricsIngestOptions(), metrics.NewSet(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.Export(context.Background(), pmetricotlp.NewExportRequestFromMetrics(md)); err != nil {
		t.Fatal(err)
	}
	made := int(db.Head().NumSeries())
	t.Logf("translator made %d series, bound %d", made, bound)
	if made < 10 || made > bound {
		t.Fatalf("translator made %d series, bound %d", made, bound)
	}

	// The cap still holds under the bound's shortcut's threshold: one series fewer allowed
	// than the request makes is refused whole; the bound itself lets it through unchecked.
	for _, tc := range []struct {
		max  int
		want codes.Code
	}{{made - 1, codes.InvalidArgument}, {bound, codes.OK}} {
		opts := DefaultMetricsIngestOptions()
		opts.MaxSeriesPerRequest = tc.max
		m, err := NewOTLPMetrics(openMetricsTestDB(t), opts, metrics.NewSet(), nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = m.Export(context.Background(), pmetricotlp.NewExportRequestFromMetrics(otlpEveryType()))
		m.Close()
		if got := status.Code(err); got != tc.want {
			t.Errorf("max %d series of %d: %v, want %v", tc.max, made, err, tc.want)
		}
	}
}
