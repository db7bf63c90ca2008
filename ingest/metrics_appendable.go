package ingest

import (
	"context"
	"errors"
	"fmt"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
)

// MetricsAppendable is where every metrics protocol hands decoded samples:
// Prometheus's own storage.AppendableV2, which *tsdb.DB implements. (v0.316.0's
// remote-write and OTLP receivers are built on AppendableV2; the older
// storage.Appendable is deprecated and slated for removal.)
//
//   - Concurrency: AppenderV2 is called concurrently, once per request; each
//     returned appender is used by one goroutine and then committed or rolled
//     back.
//   - Ownership: labels, histograms and exemplars passed to Append are not
//     reused by ingest after the call, but the callee must copy what it keeps
//     beyond Commit (tsdb does).
//   - Durability: Commit returning nil means the samples are in the head and
//     its WAL; ingest then answers success. Commit is not idempotent: a
//     retried request after a 5xx may write again (TSDB drops exact
//     duplicates).
//   - The appender it returns must also implement storage.ExemplarAppenderV2
//     for remote write (tsdb's does); without it remote-write requests fail
//     with 500, as in Prometheus.
type MetricsAppendable = storage.AppendableV2

var (
	// errTooManySeries aborts a request whose distinct series exceed
	// MaxSeriesPerRequest.
	errTooManySeries = errors.New("too many series in request")
	// errLabelLimit marks a series with invalid labels or over a label limit.
	errLabelLimit = errors.New("label limit exceeded")
	// errSeriesLimit refuses a new series once the store holds MaxActiveSeries.
	errSeriesLimit = errors.New("active series limit reached")
)

// activeSeriesCounter is what a store reports for MaxActiveSeries: how many series it holds
// in memory. Found on the MetricsAppendable by type assertion.
type activeSeriesCounter interface{ ActiveSeries() uint64 }

// appendPolicy is what a protocol asks of the tallying appender.
type appendPolicy struct {
	opts MetricsIngestOptions
	// checkLimits enforces label limits and MaxSeriesPerRequest per Append.
	// Remote write checks them on the wire before Prometheus's handler runs.
	checkLimits bool
	// dropRejected makes permanent per-sample errors (out of order, label
	// limits, invalid histograms) vanish after being counted, so that the OTLP
	// translator, which stops a metric at its first error and cannot handle
	// storage.AppendPartialError, carries on: OTLP partial success.
	dropRejected bool
}

// appendTally is the per-request outcome, shared through the request context
// by every appender the request opens. Used by one goroutine at a time.
type appendTally struct {
	accepted  int // samples committed
	rejected  int // samples refused with a permanent error
	reason    rejectReason
	firstErr  error
	storage   error // first non-permanent (retryable) error
	convErr   error // OTLP translation errors (bad input, batch kept)
	seen      map[uint64]struct{}
	maxSeries int
	// seriesBound, when positive, is an upper bound on the distinct series the request can
	// produce (OTLP: from its points). At or under MaxSeriesPerRequest the request cannot
	// break the cap, so the series are not hashed into seen one by one.
	seriesBound int
	// self, if set, receives the committed items instead of the
	// appendable's own counters (OTLP: one pipeline, two transports).
	self *ingestSelfMetrics
}

func (t *appendTally) reject(reason rejectReason, err error) {
	t.rejected++
	if t.reason == "" {
		t.reason, t.firstErr = reason, err
	}
}

type tallyKey struct{}

func withTally(ctx context.Context, t *appendTally) context.Context {
	return context.WithValue(ctx, tallyKey{}, t)
}

// tallyingAppendable wraps the store: it counts committed samples into
// vigil_ingest_items_total, classifies errors, and applies appendPolicy.
type tallyingAppendable struct {
	next   MetricsAppendable
	policy appendPolicy
	self   *ingestSelfMetrics
}

// activeSeries is the store's series count, or nil when there is no cap to apply.
func (a *tallyingAppendable) activeSeries() activeSeriesCounter {
	if a.policy.opts.MaxActiveSeries <= 0 {
		return nil
	}
	c, _ := a.next.(activeSeriesCounter)
	return c
}

func (a *tallyingAppendable) AppenderV2(ctx context.Context) storage.AppenderV2 {
	t, _ := ctx.Value(tallyKey{}).(*appendTally)
	if t == nil {
		t = &appendTally{}
	}
	if a.policy.checkLimits && t.seen == nil {
		t.maxSeries = a.policy.opts.MaxSeriesPerRequest
		if t.seriesBound <= 0 || t.seriesBound > t.maxSeries {
			t.seen = make(map[uint64]struct{})
		}
	}
	inner := a.next.AppenderV2(ctx)
	app := &tallyingAppender{next: inner, policy: &a.policy, tally: t, self: a.self, series: a.activeSeries()}
	if ex, ok := inner.(storage.ExemplarAppenderV2); ok {
		return &tallyingExemplarAppender{tallyingAppender: app, ex: ex}
	}
	return app
}

type tallyingAppender struct {
	next    storage.AppenderV2
	policy  *appendPolicy
	tally   *appendTally
	self    *ingestSelfMetrics
	series  activeSeriesCounter // nil: no active-series cap
	pending int
}

// overSeriesCap refuses a series the store does not hold yet once it holds MaxActiveSeries.
// A known series (a cached ref, or one the head finds) always passes. The error also wraps
// storage.ErrOutOfBounds so that Prometheus's remote-write 2.0 receiver treats it as it treats
// other per-series refusals: skip that series, write the rest, answer 400.
func (a *tallyingAppender) overSeriesCap(ref storage.SeriesRef, ls labels.Labels) error {
	if a.series == nil || ref != 0 {
		return nil
	}
	limit := uint64(a.policy.opts.MaxActiveSeries)
	if a.series.ActiveSeries() < limit {
		return nil
	}
	if g, ok := a.next.(storage.GetRef); ok {
		if r, _ := g.GetRef(ls, ls.Hash()); r != 0 {
			return nil
		}
	}
	return fmt.Errorf("%w: the store holds %d series, the limit (metrics.max_active_series); new series are refused (%w)", errSeriesLimit, limit, storage.ErrOutOfBounds)
}

func (a *tallyingAppender) Append(ref storage.SeriesRef, ls labels.Labels, st, t int64, v float64, h *histogram.Histogram, fh *histogram.FloatHistogram, opts storage.AOptions) (storage.SeriesRef, error) {
	if a.policy.checkLimits {
		if err := checkLabelLimits(ls, a.policy.opts); err != nil {
			return a.rejected(reasonBadLabels, err)
		}
		if a.tally.seen != nil {
			hash := ls.Hash()
			if _, ok := a.tally.seen[hash]; !ok {
				if len(a.tally.seen) >= a.tally.maxSeries {
					a.tally.reject(reasonTooManySeries, errTooManySeries)
					return 0, fmt.Errorf("%w: limit is %d", errTooManySeries, a.tally.maxSeries)
				}
				a.tally.seen[hash] = struct{}{}
			}
		}
	}
	if err := a.overSeriesCap(ref, ls); err != nil {
		return a.rejected(reasonSeriesLimit, err)
	}
	ref, err := a.next.Append(ref, ls, st, t, v, h, fh, opts)
	if err == nil {
		a.pending++
		return ref, nil
	}
	if errors.Is(err, (*storage.AppendPartialError)(nil)) {
		// The sample is in; only some exemplars were not.
		a.pending++
		if a.policy.dropRejected {
			return ref, nil
		}
		return ref, err
	}
	reason, permanent := classifyAppendError(err)
	if !permanent {
		if a.tally.storage == nil {
			a.tally.storage = err
		}
		return ref, err
	}
	a.tally.reject(reason, fmt.Errorf("series %s: %w", ls.String(), err))
	if a.policy.dropRejected {
		return 0, nil
	}
	return ref, err // unwrapped: Prometheus's receivers match on it
}

func (a *tallyingAppender) rejected(reason rejectReason, err error) (storage.SeriesRef, error) {
	a.tally.reject(reason, err)
	if a.policy.dropRejected {
		return 0, nil
	}
	return 0, err
}

func (a *tallyingAppender) Commit() error {
	n := a.pending
	a.pending = 0
	if err := a.next.Commit(); err != nil {
		if a.tally.storage == nil {
			a.tally.storage = err
		}
		return err
	}
	a.tally.accepted += n
	if a.tally.self != nil {
		a.tally.self.addItems(n)
	} else {
		a.self.addItems(n)
	}
	return nil
}

func (a *tallyingAppender) Rollback() error {
	a.pending = 0
	return a.next.Rollback()
}

// tallyingExemplarAppender keeps storage.ExemplarAppenderV2 visible through
// the wrapper, which Prometheus's remote-write receiver requires.
type tallyingExemplarAppender struct {
	*tallyingAppender
	ex storage.ExemplarAppenderV2
}

func (a *tallyingExemplarAppender) AppendExemplars(ref storage.SeriesRef, ls labels.Labels, es []exemplar.Exemplar) (storage.SeriesRef, error) {
	return a.ex.AppendExemplars(ref, ls, es)
}

// classifyAppendError tells bad input (permanent: 400/InvalidArgument, never
// retried) from storage trouble (503/Unavailable, worth a retry).
func classifyAppendError(err error) (rejectReason, bool) {
	var herr histogram.Error
	switch {
	case errors.Is(err, errTooManySeries):
		return reasonTooManySeries, true
	case errors.Is(err, errLabelLimit):
		return reasonBadLabels, true
	case errors.Is(err, errSeriesLimit):
		return reasonSeriesLimit, true
	case errors.Is(err, storage.ErrOutOfOrderSample),
		errors.Is(err, storage.ErrOutOfBounds),
		errors.Is(err, storage.ErrDuplicateSampleForTimestamp),
		errors.Is(err, storage.ErrTooOldSample):
		return reasonOutOfOrder, true
	case errors.As(err, &herr):
		return reasonBadRequest, true
	default:
		return reasonStorage, false
	}
}

// checkLabelLimits applies the Vigil label limits to one series, and the
// validity rules of Prometheus's receivers (UTF-8, a metric name, no
// duplicate names), so that no store-specific error is needed to refuse it.
func checkLabelLimits(ls labels.Labels, o MetricsIngestOptions) error {
	if !ls.Has(labels.MetricName) || !ls.IsValid(model.UTF8Validation) {
		return fmt.Errorf("%w: invalid metric name or labels %s", errLabelLimit, ls.String())
	}
	if name, dup := ls.HasDuplicateLabelNames(); dup {
		return fmt.Errorf("%w: duplicate label name %q in %s", errLabelLimit, name, ls.String())
	}
	if n := ls.Len(); n > o.MaxLabelsPerSeries {
		return fmt.Errorf("%w: series %s has %d labels, limit is %d", errLabelLimit, ls.Get(labels.MetricName), n, o.MaxLabelsPerSeries)
	}
	var err error
	ls.Range(func(l labels.Label) {
		if err != nil {
			return
		}
		err = checkLabelPair(len(l.Name), len(l.Value), l.Name, o)
	})
	if err != nil {
		return fmt.Errorf("series %s: %w", ls.Get(labels.MetricName), err)
	}
	return nil
}

// checkLabelPair checks one label's lengths; name is only for the message.
func checkLabelPair(nameLen, valueLen int, name string, o MetricsIngestOptions) error {
	if nameLen > o.MaxLabelNameLength {
		return fmt.Errorf("%w: label name of %d bytes, limit is %d", errLabelLimit, nameLen, o.MaxLabelNameLength)
	}
	if valueLen > o.MaxLabelValueLength {
		return fmt.Errorf("%w: value of label %q is %d bytes, limit is %d", errLabelLimit, name, valueLen, o.MaxLabelValueLength)
	}
	return nil
}
