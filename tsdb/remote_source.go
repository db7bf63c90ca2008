package tsdb

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/util/annotations"
)

// RemoteSourceOptions configures a RemoteSource.
type RemoteSourceOptions struct {
	// Name identifies the source in warnings and in the sources report.
	Name string
	// URL is the API's base, the part before /api/v1 (e.g. http://thanos-query:9090,
	// http://mimir/prometheus, http://victoriametrics:8428).
	URL string
	// RoundTripper carries authentication, TLS and extra headers; nil is
	// http.DefaultTransport.
	RoundTripper http.RoundTripper
	// Timeout bounds one request to the source (0: only the query's own deadline).
	Timeout time.Duration
	// ReadRecent also asks the source for the time range the local store holds. Off (as in
	// Prometheus's remote_read), the source is asked only for what is older than the
	// local store's oldest sample.
	ReadRecent bool
}

// RemoteSource reads a Prometheus-compatible query API (Prometheus, Thanos Query, Mimir,
// Cortex, VictoriaMetrics) as a storage.Queryable, so that PromQL evaluated here sees the
// remote's history.
//
// Raw samples come from an instant query of the selector as a range vector,
// `{matchers}[<range>ms]` at the end of the range: every engine named above answers it with
// the stored samples, unaggregated (VictoriaMetrics included). Native histograms of an
// exponential schema are rebuilt from the buckets' boundaries the JSON gives; one with custom
// bounds is left out with a warning.
type RemoteSource struct {
	opts RemoteSourceOptions
	api  promv1.API
}

// NewRemoteSource returns a source for the API at o.URL; it does not contact it.
func NewRemoteSource(o RemoteSourceOptions) (*RemoteSource, error) {
	if o.Name == "" {
		return nil, errors.New("remote source: empty name")
	}
	c, err := api.NewClient(api.Config{Address: o.URL, RoundTripper: o.RoundTripper})
	if err != nil {
		return nil, fmt.Errorf("remote source %s: %w", o.Name, err)
	}
	return &RemoteSource{opts: o, api: promv1.NewAPI(c)}, nil
}

// Name is the source's name.
func (s *RemoteSource) Name() string { return s.opts.Name }

// Querier implements storage.Queryable. It never fails: requests are made by Select and
// the label calls.
func (s *RemoteSource) Querier(mint, maxt int64) (storage.Querier, error) {
	return &remoteQuerier{s: s, mint: mint, maxt: maxt}, nil
}

type remoteQuerier struct {
	s          *RemoteSource
	mint, maxt int64
}

func (q *remoteQuerier) Close() error { return nil }

func (q *remoteQuerier) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	if q.s.opts.Timeout > 0 {
		return context.WithTimeout(ctx, q.s.opts.Timeout)
	}
	return context.WithCancel(ctx)
}

// fail records the failure in the report and returns it as the source's error.
func (q *remoteQuerier) fail(ctx context.Context, doing string, err error) error {
	err = fmt.Errorf("metrics source %s: %s: %w", q.s.opts.Name, doing, err)
	reportSource(ctx, q.s.opts.Name, err)
	return err
}

func (q *remoteQuerier) Select(ctx context.Context, sortSeries bool, hints *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	start, end := q.mint, q.maxt
	if hints != nil {
		start, end = max(start, hints.Start), min(end, hints.End)
	}
	if end < start {
		return storage.EmptySeriesSet()
	}
	if hints != nil && hints.Func == "series" {
		return q.series(ctx, start, end, ms)
	}
	// Range selectors are left-open, (end-range, end]: one more millisecond takes start in.
	query := fmt.Sprintf("%s[%dms]", selector(ms), end-start+1)
	ctx, cancel := q.ctx(ctx)
	defer cancel()
	val, warns, _, err := q.s.api.Query(ctx, query, time.UnixMilli(end))
	if err != nil {
		return storage.ErrSeriesSet(q.fail(ctx, "select", err))
	}
	matrix, ok := val.(model.Matrix)
	if !ok {
		return storage.ErrSeriesSet(q.fail(ctx, "select", fmt.Errorf("%s answered a %s, not a matrix", query, val.Type())))
	}
	reportSource(ctx, q.s.opts.Name, nil)
	set := &listSeriesSet{warnings: q.warnings(warns)}
	var unread error // a histogram this reader cannot rebuild
	for _, ss := range matrix {
		if len(ss.Values) == 0 && len(ss.Histograms) == 0 {
			continue
		}
		b := labels.NewScratchBuilder(len(ss.Metric))
		for n, v := range ss.Metric {
			b.Add(string(n), string(v))
		}
		b.Sort()
		samples := make([]chunks.Sample, 0, len(ss.Values)+len(ss.Histograms))
		for _, p := range ss.Values {
			samples = append(samples, floatSample{t: int64(p.Timestamp), f: float64(p.Value)})
		}
		for _, p := range ss.Histograms {
			fh, err := floatHistogram(p.Histogram)
			if err != nil {
				unread = fmt.Errorf("metrics source %s: a histogram of %s is not read: %w", q.s.opts.Name, b.Labels(), err)
				continue
			}
			samples = append(samples, histogramSample{t: int64(p.Timestamp), fh: fh})
		}
		if len(ss.Histograms) > 0 && len(ss.Values) > 0 {
			slices.SortStableFunc(samples, func(a, b chunks.Sample) int { return cmp.Compare(a.T(), b.T()) })
		}
		// A store without deduplication (VictoriaMetrics by default) may hold the same
		// sample twice, e.g. written by two replicas: keep one per timestamp.
		samples = slices.CompactFunc(samples, func(a, b chunks.Sample) bool { return a.T() == b.T() })
		if len(samples) > 0 {
			set.series = append(set.series, storage.NewListSeries(b.Labels(), samples))
		}
	}
	if unread != nil {
		set.warnings.Add(unread)
	}
	// The merge needs sorted series whatever sortSeries says when there is more than one
	// querier; sorting a result that came over HTTP costs little next to the request.
	slices.SortFunc(set.series, func(a, b storage.Series) int { return labels.Compare(a.Labels(), b.Labels()) })
	return set
}

// series answers a Select that wants only the series' labels (the /api/v1/series handler's,
// whose default range is Prometheus's whole time range) from the source's series API: a range
// selector cannot span that range (a PromQL duration stops at 292 years), and no sample is
// needed.
func (q *remoteQuerier) series(ctx context.Context, start, end int64, ms []*labels.Matcher) storage.SeriesSet {
	ctx, cancel := q.ctx(ctx)
	defer cancel()
	lsets, warns, _, err := q.s.api.Series(ctx, []string{selector(ms)}, time.UnixMilli(start), time.UnixMilli(end))
	if err != nil {
		return storage.ErrSeriesSet(q.fail(ctx, "series", err))
	}
	reportSource(ctx, q.s.opts.Name, nil)
	set := &listSeriesSet{warnings: q.warnings(warns)}
	for _, ls := range lsets {
		b := labels.NewScratchBuilder(len(ls))
		for n, v := range ls {
			b.Add(string(n), string(v))
		}
		b.Sort()
		set.series = append(set.series, storage.NewListSeries(b.Labels(), nil))
	}
	slices.SortFunc(set.series, func(a, b storage.Series) int { return labels.Compare(a.Labels(), b.Labels()) })
	return set
}

func (q *remoteQuerier) LabelValues(ctx context.Context, name string, hints *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	ctx, cancel := q.ctx(ctx)
	defer cancel()
	vals, warns, _, err := q.s.api.LabelValues(ctx, name, matches(ms), time.UnixMilli(q.mint), time.UnixMilli(q.maxt), limit(hints)...)
	if err != nil {
		return nil, nil, q.fail(ctx, "label values", err)
	}
	reportSource(ctx, q.s.opts.Name, nil)
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = string(v)
	}
	slices.Sort(out)
	return out, q.warnings(warns), nil
}

func (q *remoteQuerier) LabelNames(ctx context.Context, hints *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	ctx, cancel := q.ctx(ctx)
	defer cancel()
	names, warns, _, err := q.s.api.LabelNames(ctx, matches(ms), time.UnixMilli(q.mint), time.UnixMilli(q.maxt), limit(hints)...)
	if err != nil {
		return nil, nil, q.fail(ctx, "label names", err)
	}
	reportSource(ctx, q.s.opts.Name, nil)
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = string(n)
	}
	slices.Sort(out)
	return out, q.warnings(warns), nil
}

func (q *remoteQuerier) warnings(ws promv1.Warnings) annotations.Annotations {
	var a annotations.Annotations
	for _, w := range ws {
		a.Add(fmt.Errorf("metrics source %s: %s", q.s.opts.Name, w))
	}
	return a
}

func limit(h *storage.LabelHints) []promv1.Option {
	if h == nil || h.Limit <= 0 {
		return nil
	}
	return []promv1.Option{promv1.WithLimit(uint64(h.Limit))}
}

func matches(ms []*labels.Matcher) []string {
	if len(ms) == 0 {
		return nil
	}
	return []string{selector(ms)}
}

// selector writes matchers as a PromQL vector selector. PromQL refuses a selector whose
// every matcher matches the empty string; one such is given `__name__=~".+"` too, which
// selects the same series (every series has a name).
func selector(ms []*labels.Matcher) string {
	var b strings.Builder
	b.WriteByte('{')
	nonEmpty := false
	for i, m := range ms {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(m.String())
		nonEmpty = nonEmpty || !m.Matches("")
	}
	if !nonEmpty {
		if len(ms) > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`__name__=~".+"`)
	}
	b.WriteByte('}')
	return b.String()
}

// floatSample is one float sample read from a source.
type floatSample struct {
	t int64
	f float64
}

func (s floatSample) T() int64                      { return s.t }
func (s floatSample) ST() int64                     { return 0 }
func (s floatSample) F() float64                    { return s.f }
func (s floatSample) H() *histogram.Histogram       { return nil }
func (s floatSample) FH() *histogram.FloatHistogram { return nil }
func (s floatSample) Type() chunkenc.ValueType      { return chunkenc.ValFloat }
func (s floatSample) Copy() chunks.Sample           { return s }

var _ chunks.Sample = floatSample{}

// listSeriesSet iterates series held in memory.
type listSeriesSet struct {
	series   []storage.Series
	i        int
	warnings annotations.Annotations
}

func (s *listSeriesSet) Next() bool {
	if s.i >= len(s.series) {
		return false
	}
	s.i++
	return true
}
func (s *listSeriesSet) At() storage.Series                { return s.series[s.i-1] }
func (s *listSeriesSet) Err() error                        { return nil }
func (s *listSeriesSet) Warnings() annotations.Annotations { return s.warnings }
