package traces

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

func openPromTSDB(t *testing.T) *tsdb.DB {
	t.Helper()
	opts := tsdb.DefaultOptions()
	opts.MaxExemplars = 1000
	opts.EnableExemplarStorage = true
	db, err := tsdb.Open(t.TempDir(), nil, nil, opts, nil)
	if err != nil {
		t.Fatalf("open tsdb: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// lastValues returns the newest sample of every series matching the selector's matchers,
// keyed by labels.String().
func lastValues(t *testing.T, db *tsdb.DB, ms ...*labels.Matcher) map[string]float64 {
	t.Helper()
	q, err := db.Querier(math.MinInt64, math.MaxInt64)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	out := map[string]float64{}
	ss := q.Select(context.Background(), false, nil, ms...)
	for ss.Next() {
		it := ss.At().Iterator(nil)
		for it.Next() == chunkenc.ValFloat {
			_, v := it.At()
			out[ss.At().Labels().String()] = v
		}
	}
	if err := ss.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func eq(name, value string) *labels.Matcher {
	return labels.MustNewMatcher(labels.MatchEqual, name, value)
}

func TestGeneratorIntoPrometheusTSDB(t *testing.T) {
	prom := openPromTSDB(t)
	gopts := DefaultGeneratorOptions()
	gopts.ServiceGraphWait = time.Second
	reg := prometheus.NewRegistry()
	gen, err := NewGenerator(prom, gopts, nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	gen.now = func() time.Time { return now }
	opts := DefaultOptions()
	opts.Observer = gen
	db := openTestDB(t, t.TempDir(), opts)
	mustWrite(t, db, fixtureTrace(1, base))
	mustWrite(t, db, fixtureTrace(2, base))
	if err := gen.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}

	payment := []*labels.Matcher{eq("service_name", "payment"), eq("span_name", "POST /pay"),
		eq("span_kind", "SPAN_KIND_SERVER"), eq("status_code", "STATUS_CODE_ERROR")}
	check := func(name string, ms []*labels.Matcher, want float64) {
		t.Helper()
		got := lastValues(t, prom, append([]*labels.Matcher{eq("__name__", name)}, ms...)...)
		if len(got) != 1 {
			t.Fatalf("%s%v: got series %v, want one", name, ms, got)
		}
		for ls, v := range got {
			if v != want {
				t.Errorf("%s = %v, want %v", ls, v, want)
			}
		}
	}
	check("traces_span_metrics_calls_total", payment, 2)
	check("traces_span_metrics_duration_milliseconds_count", payment, 2)
	check("traces_span_metrics_duration_milliseconds_sum", payment, 92)
	check("traces_span_metrics_duration_milliseconds_bucket", append(payment, eq("le", "10")), 0)
	check("traces_span_metrics_duration_milliseconds_bucket", append(payment, eq("le", "50")), 2)
	check("traces_span_metrics_duration_milliseconds_bucket", append(payment, eq("le", "+Inf")), 2)

	edge := func(c, s string) []*labels.Matcher { return []*labels.Matcher{eq("client", c), eq("server", s)} }
	check("traces_service_graph_request_total", edge("frontend", "payment"), 2)
	check("traces_service_graph_request_failed_total", edge("frontend", "payment"), 2)
	check("traces_service_graph_request_total", edge("frontend", "cart"), 2)
	check("traces_service_graph_request_failed_total", edge("frontend", "cart"), 0)
	check("traces_service_graph_request_server_seconds_bucket", append(edge("frontend", "cart"), eq("le", "0.1")), 2)
	check("traces_service_graph_request_client_seconds_count", edge("frontend", "cart"), 2)

	// The trace id is the exemplar of the calls counter.
	eq2, err := prom.ExemplarQuerier(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	res, err := eq2.Select(math.MinInt64, math.MaxInt64, append([]*labels.Matcher{eq("__name__", "traces_span_metrics_calls_total")}, payment...))
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || len(res[0].Exemplars) == 0 || res[0].Exemplars[0].Labels.Get("trace_id") != tid(2).String() {
		t.Errorf("exemplars: got %+v, want trace_id %s", res, tid(2))
	}

	// Cumulative across flushes; the SELECT client span never got a server: unpaired.
	now = now.Add(time.Minute)
	mustWrite(t, db, fixtureTrace(3, base))
	if err := gen.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	check("traces_span_metrics_calls_total", payment, 3)
	check("traces_service_graph_request_total", edge("frontend", "payment"), 3)
	check("traces_service_graph_unpaired_spans_total", []*labels.Matcher{eq("client", "payment")}, 2)
	if n := testutil.ToFloat64(gen.overflow.WithLabelValues("span_metrics")); n != 0 {
		t.Errorf("overflow without a cap reached: %v", n)
	}
}

func TestGeneratorCardinalityCap(t *testing.T) {
	prom := openPromTSDB(t)
	gopts := DefaultGeneratorOptions()
	gopts.MaxSeries = 2
	gen, err := NewGenerator(prom, gopts, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	gen.ObserveSpans(fixtureTrace(1, base)) // 6 spans, 5 label sets
	if err := gen.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := lastValues(t, prom, eq("__name__", "traces_span_metrics_calls_total"))
	if len(got) != 3 {
		t.Errorf("series: got %v, want 2 and the overflow series", got)
	}
	if v := got[`{__name__="traces_span_metrics_calls_total", otel_metric_overflow="true"}`]; v != 4 {
		t.Errorf("overflow series = %v, want 4 (got %v)", v, got)
	}
	if n := testutil.ToFloat64(gen.overflow.WithLabelValues("span_metrics")); n != 4 {
		t.Errorf("vigil_traces_generator_overflow_total = %v, want 4", n)
	}
}

func TestGeneratorStartStop(t *testing.T) {
	prom := openPromTSDB(t)
	gopts := DefaultGeneratorOptions()
	gopts.FlushInterval = 10 * time.Millisecond
	gen, err := NewGenerator(prom, gopts, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := gen.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	gen.ObserveSpans(fixtureTrace(1, base))
	if err := gen.Stop(context.Background()); err != nil { // flushes a last time
		t.Fatal(err)
	}
	if got := lastValues(t, prom, eq("__name__", "traces_span_metrics_calls_total")); len(got) != 6 {
		t.Errorf("after Stop: %d calls series, want 6", len(got))
	}
}
