package tsdb

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/annotations"
)

// Merged is the local store read together with remote sources: what PromQL in the API, the
// alerting rules and the SLO engine query. Local data is primary (an error fails the
// query); a source is secondary (its failure is a warning on the result, which then holds
// the local data). Series present in both are merged sample by sample with
// storage.ChainedSeriesMerge, so a sample the remote holds because Vigil remote-wrote it
// counts once. Safe for concurrent use; SetSources may be called at any time.
type Merged struct {
	local   *DB
	sources atomic.Pointer[[]*RemoteSource]
}

// NewMerged returns local merged with no source (until SetSources).
func NewMerged(local *DB) *Merged { return &Merged{local: local} }

// SetSources replaces the remote sources; queries already running keep the old ones.
func (m *Merged) SetSources(s []*RemoteSource) { m.sources.Store(&s) }

// Sources returns the current sources.
func (m *Merged) Sources() []*RemoteSource {
	if p := m.sources.Load(); p != nil {
		return *p
	}
	return nil
}

// Querier implements storage.Queryable.
func (m *Merged) Querier(mint, maxt int64) (storage.Querier, error) {
	local, err := m.local.Querier(mint, maxt)
	if err != nil {
		return nil, err
	}
	sources := m.Sources()
	if len(sources) == 0 {
		return local, nil
	}
	localStart, err := m.local.db.StartTime()
	if err != nil {
		return nil, fmt.Errorf("local start time: %w", err)
	}
	remotes := make([]storage.Querier, 0, len(sources))
	for _, s := range sources {
		smaxt := maxt
		if !s.opts.ReadRecent {
			// Prometheus's PreferLocalStorageFilter: the source is asked only for what is
			// older than the local store's oldest sample.
			if mint > localStart {
				continue
			}
			smaxt = min(maxt, localStart)
		}
		q, _ := s.Querier(mint, smaxt)
		remotes = append(remotes, q)
	}
	return &mergedQuerier{local: local, remotes: remotes}, nil
}

// mergedQuerier merges the local querier with the sources' afresh for every call.
// storage.NewMergeQuerier's secondaries must all be selected before any result is read
// (they start together so that a failure is all or nothing across one query's selectors),
// and it panics otherwise; some readers select again after reading (the rule manager
// restoring ALERTS_FOR_STATE, the SLO API). A source's failure is therefore per selector:
// each selector that read it carries the warning.
type mergedQuerier struct {
	local   storage.Querier
	remotes []storage.Querier
}

func (q *mergedQuerier) merge() storage.Querier {
	return storage.NewMergeQuerier([]storage.Querier{q.local}, q.remotes, storage.ChainedSeriesMerge)
}

func (q *mergedQuerier) Select(ctx context.Context, sortSeries bool, hints *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	return q.merge().Select(ctx, sortSeries, hints, ms...)
}

func (q *mergedQuerier) LabelValues(ctx context.Context, name string, hints *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	return q.merge().LabelValues(ctx, name, hints, ms...)
}

func (q *mergedQuerier) LabelNames(ctx context.Context, hints *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	return q.merge().LabelNames(ctx, hints, ms...)
}

func (q *mergedQuerier) Close() error {
	errs := []error{q.local.Close()}
	for _, r := range q.remotes {
		errs = append(errs, r.Close())
	}
	return errors.Join(errs...)
}

// ChunkQuerier implements storage.ChunkQueryable over the local store only: it serves the
// remote-read endpoint, which answers for what this Vigil holds.
func (m *Merged) ChunkQuerier(mint, maxt int64) (storage.ChunkQuerier, error) {
	return m.local.ChunkQuerier(mint, maxt)
}

// sourceReport collects which remote sources a request's queries asked and how each answered.
type sourceReport struct {
	mu     sync.Mutex
	status map[string]string // name -> "ok" or "error"
}

type sourceReportKey struct{}

// reportSource records a source's answer in the report the context carries, if any. An
// error stays an error for the whole request even if another query of it succeeded.
func reportSource(ctx context.Context, name string, err error) {
	r, _ := ctx.Value(sourceReportKey{}).(*sourceReport)
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case err != nil:
		r.status[name] = "error"
	case r.status[name] == "":
		r.status[name] = "ok"
	}
}

func (r *sourceReport) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	parts := []string{"local=ok"}
	for name, st := range r.status {
		parts = append(parts, name+"="+st)
	}
	sort.Strings(parts[1:])
	return strings.Join(parts, ", ")
}

// SourcesHeader is the response header naming the sources a query read and how each
// answered, e.g. "local=ok, thanos=ok, mimir=error". A source the query did not need (its
// range is all local, see RemoteSourceOptions.ReadRecent) is not named.
const SourcesHeader = "X-Vigil-Sources"

// ReportSources wraps an API handler so that each response carries SourcesHeader.
func ReportSources(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rep := &sourceReport{status: map[string]string{}}
		sw := &sourcesWriter{ResponseWriter: w, rep: rep}
		h.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), sourceReportKey{}, rep)))
	})
}

// sourcesWriter sets the header as the handler starts its answer, which is after the
// queries it makes have run.
type sourcesWriter struct {
	http.ResponseWriter
	rep     *sourceReport
	written bool
}

func (w *sourcesWriter) WriteHeader(code int) {
	if !w.written {
		w.written = true
		w.Header().Set(SourcesHeader, w.rep.String())
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *sourcesWriter) Write(b []byte) (int, error) {
	if !w.written {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Flush sends what is written so far; streamed answers (remote read) need it.
func (w *sourcesWriter) Flush() {
	if !w.written {
		w.WriteHeader(http.StatusOK)
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer (flushes, deadlines).
func (w *sourcesWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
