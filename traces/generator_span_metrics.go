package traces

import (
	"sort"
	"strconv"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/metadata"
	"github.com/prometheus/prometheus/storage"
)

// Span metric names: the OpenTelemetry collector-contrib spanmetrics connector's
// (v0.163, default namespace "traces.span.metrics", duration unit ms) as Prometheus's OTLP
// translation names them.
const (
	callsMetric    = "traces_span_metrics_calls_total"
	durationFamily = "traces_span_metrics_duration_milliseconds"
)

type spanSeriesKey struct {
	service, name string
	kind          SpanKind
	status        StatusCode
	overflow      bool
}

// spanSeries is the cumulative state of one label set.
type spanSeries struct {
	calls   uint64
	buckets []uint64 // per bound, not cumulative; the last is +Inf
	sumMs   float64
	// The newest span, as the exemplar of the next flush.
	exTrace  TraceID
	exSpan   SpanID
	exMs     float64
	exTimeMs int64
	exNew    bool
}

// observeSpanMetrics counts s. Called with g.mu held.
func (g *Generator) observeSpanMetrics(s *Span) {
	k := spanSeriesKey{service: s.Service, name: s.Name, kind: s.Kind, status: s.StatusCode}
	ser, ok := g.spans[k]
	if !ok {
		if len(g.spans) >= g.opts.MaxSeries {
			g.overflow.WithLabelValues("span_metrics").Inc()
			k = spanSeriesKey{overflow: true}
			ser = g.spans[k]
		}
		if ser == nil {
			ser = &spanSeries{buckets: make([]uint64, len(g.opts.DurationBucketsMs)+1)}
			g.spans[k] = ser
		}
	}
	ms := float64(s.End.Sub(s.Start).Nanoseconds()) / 1e6
	ser.calls++
	ser.sumMs += ms
	ser.buckets[sort.SearchFloat64s(g.opts.DurationBucketsMs, ms)]++
	ser.exTrace, ser.exSpan, ser.exMs, ser.exTimeMs, ser.exNew = s.TraceID, s.SpanID, ms, s.End.UnixMilli(), true
}

// seriesWriter collects the samples of one flush.
type seriesWriter struct {
	t   int64
	out []sample
}

type sample struct {
	labels labels.Labels
	value  float64
	opts   storage.AppendV2Options
}

func (w *seriesWriter) add(ls labels.Labels, v float64, family string, md metadata.Metadata, ex []exemplar.Exemplar) {
	w.out = append(w.out, sample{labels: ls, value: v, opts: storage.AppendV2Options{
		MetricFamilyName: family, Metadata: md, Exemplars: ex,
	}})
}

// histogram writes the _bucket, _sum and _count series of a classic histogram. buckets are
// per bound (the last is +Inf); exBucket is the bucket the exemplar fell in, or -1.
func (w *seriesWriter) histogram(family string, base labels.Labels, bounds []float64, buckets []uint64, sum float64, md metadata.Metadata, ex *exemplar.Exemplar, exBucket int) {
	var cum uint64
	for i, n := range buckets {
		cum += n
		le := "+Inf"
		if i < len(bounds) {
			le = strconv.FormatFloat(bounds[i], 'f', -1, 64)
		}
		b := labels.NewBuilder(base)
		b.Set(labels.MetricName, family+"_bucket")
		b.Set(labels.BucketLabel, le)
		var exs []exemplar.Exemplar
		if ex != nil && i == exBucket {
			exs = []exemplar.Exemplar{*ex}
		}
		w.add(b.Labels(), float64(cum), family, md, exs)
	}
	b := labels.NewBuilder(base)
	b.Set(labels.MetricName, family+"_sum")
	w.add(b.Labels(), sum, family, md, nil)
	b.Set(labels.MetricName, family+"_count")
	w.add(b.Labels(), float64(cum), family, md, nil)
}

func exemplarOf(t TraceID, s SpanID, v float64, ts int64) *exemplar.Exemplar {
	return &exemplar.Exemplar{
		Labels: labels.FromStrings("trace_id", t.String(), "span_id", s.String()),
		Value:  v, Ts: ts, HasTs: true,
	}
}

// writeSpanMetrics adds every span-metrics series. Called with g.mu held.
func (g *Generator) writeSpanMetrics(w *seriesWriter) {
	callsMD := metadata.Metadata{Type: model.MetricTypeCounter, Help: "Spans seen, by service, span name, kind and status (spanmetrics connector)."}
	durMD := metadata.Metadata{Type: model.MetricTypeHistogram, Unit: "milliseconds", Help: "Span durations (spanmetrics connector)."}
	for k, s := range g.spans {
		var base labels.Labels
		if k.overflow {
			base = labels.FromStrings("otel_metric_overflow", "true")
		} else {
			base = labels.FromStrings(
				"service_name", k.service,
				"span_name", k.name,
				"span_kind", k.kind.OTLPName(),
				"status_code", k.status.OTLPName(),
			)
		}
		var ex *exemplar.Exemplar
		exBucket := -1
		if s.exNew {
			ex = exemplarOf(s.exTrace, s.exSpan, s.exMs, s.exTimeMs)
			exBucket = sort.SearchFloat64s(g.opts.DurationBucketsMs, s.exMs)
			s.exNew = false
		}
		b := labels.NewBuilder(base)
		b.Set(labels.MetricName, callsMetric)
		var exs []exemplar.Exemplar
		if ex != nil {
			e := *ex
			e.Value = 1
			exs = []exemplar.Exemplar{e}
		}
		w.add(b.Labels(), float64(s.calls), callsMetric, callsMD, exs)
		w.histogram(durationFamily, base, g.opts.DurationBucketsMs, s.buckets, s.sumMs, durMD, ex, exBucket)
	}
}
