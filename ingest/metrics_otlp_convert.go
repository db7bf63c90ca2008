package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	deltatocumulative "github.com/open-telemetry/opentelemetry-collector-contrib/processor/deltatocumulativeprocessor"
	"github.com/prometheus/prometheus/config"
	otlptranslator "github.com/prometheus/prometheus/storage/remote/otlptranslator/prometheusremotewrite"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/otel/metric/noop"
)

// otlpLookbackDelta is PromQL's default lookback; the translator spaces
// target_info samples by it, as Prometheus's OTLP receiver does.
const otlpLookbackDelta = 5 * time.Minute

// otlpTranslatorSettings are the settings Prometheus's OTLP receiver derives
// from its default otlp config section (UnderscoreEscapingWithSuffixes, no
// promoted resource attributes: those go to target_info), so series names
// match a Prometheus fed the same data.
func otlpTranslatorSettings() otlptranslator.Settings {
	cfg := config.DefaultOTLPConfig
	return otlptranslator.Settings{
		AddMetricSuffixes:                    cfg.TranslationStrategy.ShouldAddSuffixes(),
		AllowUTF8:                            !cfg.TranslationStrategy.ShouldEscape(),
		PromoteResourceAttributes:            otlptranslator.NewPromoteResourceAttributes(cfg),
		KeepIdentifyingResourceAttributes:    cfg.KeepIdentifyingResourceAttributes,
		ConvertHistogramsToNHCB:              cfg.ConvertHistogramsToNHCB,
		PromoteScopeMetadata:                 cfg.PromoteScopeMetadata,
		LookbackDelta:                        otlpLookbackDelta,
		LabelNameUnderscoreSanitization:      cfg.LabelNameUnderscoreSanitization,
		LabelNamePreserveMultipleUnderscores: cfg.LabelNamePreserveMultipleUnderscores,
	}
}

// otlpMetricsExporter is the end of the OTLP pipeline: it translates with
// Prometheus's OTLP translator and appends, as Prometheus's (unexported)
// rwExporter in storage/remote/write_otlp_handler.go does. Unlike it, bad
// points do not fail the batch: they are dropped and counted (the tallying
// appender runs with dropRejected), and translation errors are kept in the
// request's tally for an OTLP partial success. Only storage failures and the
// series limit roll the batch back.
type otlpMetricsExporter struct {
	app        *tallyingAppendable
	settings   otlptranslator.Settings
	converters sync.Pool
	log        *slog.Logger
}

func newOTLPMetricsExporter(app *tallyingAppendable, log *slog.Logger) *otlpMetricsExporter {
	return &otlpMetricsExporter{
		app:      app,
		settings: otlpTranslatorSettings(),
		converters: sync.Pool{New: func() any {
			return otlptranslator.NewPrometheusConverter(nil)
		}},
		log: log,
	}
}

// ConsumeMetrics needs the request's *appendTally in ctx; without one,
// translation errors are lost.
func (e *otlpMetricsExporter) ConsumeMetrics(ctx context.Context, md pmetric.Metrics) (err error) {
	tally, _ := ctx.Value(tallyKey{}).(*appendTally)
	if tally == nil {
		tally = &appendTally{}
		ctx = withTally(ctx, tally)
	}
	app := e.app.AppenderV2(ctx)
	conv := e.converters.Get().(*otlptranslator.PrometheusConverter)
	conv.Reset(app)
	defer func() {
		conv.Reset(nil)
		e.converters.Put(conv)
	}()

	annots, convErr := conv.FromMetrics(ctx, md, e.settings)
	if ws, _ := annots.AsStrings("", 0, 0); len(ws) > 0 {
		e.log.Debug("Warnings translating OTLP metrics", "warnings", ws)
	}
	switch {
	case tally.storage != nil:
		_ = app.Rollback()
		return fmt.Errorf("append OTLP metrics: %w", tally.storage)
	case tally.reason == reasonTooManySeries:
		_ = app.Rollback()
		return fmt.Errorf("append OTLP metrics: %w", tally.firstErr)
	case ctx.Err() != nil:
		_ = app.Rollback()
		return fmt.Errorf("append OTLP metrics: %w", ctx.Err())
	}
	if convErr != nil {
		tally.convErr = errors.Join(tally.convErr, convErr)
	}
	if err := app.Commit(); err != nil {
		return fmt.Errorf("commit OTLP metrics: %w", err)
	}
	return nil
}

func (*otlpMetricsExporter) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: false}
}

// newDeltaToCumulative builds the collector processor Prometheus's OTLP
// receiver uses for its ConvertDelta option. It runs a stale-stream
// sweeper goroutine until Shutdown.
func newDeltaToCumulative(next consumer.Metrics) (processor.Metrics, error) {
	fac := deltatocumulative.NewFactory()
	set := processor.Settings{
		ID:                component.NewID(fac.Type()),
		TelemetrySettings: component.TelemetrySettings{MeterProvider: noop.NewMeterProvider()},
	}
	d2c, err := fac.CreateMetrics(context.Background(), set, fac.CreateDefaultConfig(), next)
	if err != nil {
		return nil, fmt.Errorf("create delta-to-cumulative processor: %w", err)
	}
	if err := d2c.Start(context.Background(), nil); err != nil {
		return nil, fmt.Errorf("start delta-to-cumulative processor: %w", err)
	}
	return d2c, nil
}

// hasDelta reports whether md holds delta sums or histograms; only then is
// the (mutex-serialised) delta-to-cumulative path taken, as in Prometheus.
func hasDelta(md pmetric.Metrics) bool {
	found := false
	forEachOTLPMetric(md, func(m pmetric.Metric) {
		if t, ok := otlpTemporality(m); ok && t == pmetric.AggregationTemporalityDelta {
			found = true
		}
	})
	return found
}

// unconvertiblePoints counts the data points of metrics the translator will
// refuse whole: unknown type or unspecified temporality.
func unconvertiblePoints(md pmetric.Metrics) int {
	n := 0
	forEachOTLPMetric(md, func(m pmetric.Metric) {
		t, ok := otlpTemporality(m)
		if ok && t != pmetric.AggregationTemporalityCumulative && t != pmetric.AggregationTemporalityDelta {
			n += otlpPointCount(m)
		}
	})
	return n
}

func forEachOTLPMetric(md pmetric.Metrics, fn func(pmetric.Metric)) {
	rms := md.ResourceMetrics()
	for i := range rms.Len() {
		sms := rms.At(i).ScopeMetrics()
		for j := range sms.Len() {
			ms := sms.At(j).Metrics()
			for k := range ms.Len() {
				fn(ms.At(k))
			}
		}
	}
}

// otlpTemporality returns the temporality of metric types that have one.
func otlpTemporality(m pmetric.Metric) (pmetric.AggregationTemporality, bool) {
	switch m.Type() {
	case pmetric.MetricTypeSum:
		return m.Sum().AggregationTemporality(), true
	case pmetric.MetricTypeHistogram:
		return m.Histogram().AggregationTemporality(), true
	case pmetric.MetricTypeExponentialHistogram:
		return m.ExponentialHistogram().AggregationTemporality(), true
	default:
		return pmetric.AggregationTemporalityUnspecified, false
	}
}

func otlpPointCount(m pmetric.Metric) int {
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		return m.Gauge().DataPoints().Len()
	case pmetric.MetricTypeSum:
		return m.Sum().DataPoints().Len()
	case pmetric.MetricTypeHistogram:
		return m.Histogram().DataPoints().Len()
	case pmetric.MetricTypeExponentialHistogram:
		return m.ExponentialHistogram().DataPoints().Len()
	case pmetric.MetricTypeSummary:
		return m.Summary().DataPoints().Len()
	default:
		return 0
	}
}

// otlpSeriesBound is an upper bound on the distinct series Prometheus's translator can make of
// md: one per number point, a classic histogram's buckets with +Inf, _sum, _count (and slack),
// a summary's quantiles with _sum and _count, an exponential histogram at most as many as a
// classic one of its buckets would, and target_info per resource. It errs high: the bound only
// spares counting series one by one when it is under MaxSeriesPerRequest.
func otlpSeriesBound(md pmetric.Metrics) int {
	n := 0
	rms := md.ResourceMetrics()
	for i := range rms.Len() {
		n += 2 // target_info, and slack
		sms := rms.At(i).ScopeMetrics()
		for j := range sms.Len() {
			ms := sms.At(j).Metrics()
			n += 1
			for k := range ms.Len() {
				m := ms.At(k)
				switch m.Type() {
				case pmetric.MetricTypeHistogram:
					dps := m.Histogram().DataPoints()
					for p := range dps.Len() {
						n += dps.At(p).BucketCounts().Len() + dps.At(p).ExplicitBounds().Len() + 4
					}
				case pmetric.MetricTypeExponentialHistogram:
					dps := m.ExponentialHistogram().DataPoints()
					for p := range dps.Len() {
						dp := dps.At(p)
						n += dp.Positive().BucketCounts().Len() + dp.Negative().BucketCounts().Len() + 4
					}
				case pmetric.MetricTypeSummary:
					dps := m.Summary().DataPoints()
					for p := range dps.Len() {
						n += dps.At(p).QuantileValues().Len() + 4
					}
				default:
					n += otlpPointCount(m)
				}
			}
		}
	}
	return n
}
