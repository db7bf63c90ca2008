package traces

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// ErrTraceNotFound is returned by Trace for a trace with no stored span.
var ErrTraceNotFound = errors.New("trace not found")

// ErrSearchLimit means a search or dependency scan read Options.MaxSearchSpans index entries
// and stopped; what it found so far is still returned.
var ErrSearchLimit = errors.New("search stopped at the span limit")

// Services lists every service with spans in the store, sorted.
func (db *DB) Services(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []string
	for _, op := range db.names.operations(func(Operation) bool { return true }) {
		if len(out) == 0 || out[len(out)-1] != op.Service {
			out = append(out, op.Service)
		}
	}
	return out, nil
}

// Operations lists the operations of service (every service if ""), of one kind if kind is
// not SpanKindUnspecified, sorted by service, name, kind.
func (db *DB) Operations(ctx context.Context, service string, kind SpanKind) ([]Operation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return db.names.operations(func(op Operation) bool {
		return (service == "" || op.Service == service) && (kind == SpanKindUnspecified || op.Kind == kind)
	}), nil
}

// Trace yields the spans of trace id, one hour bucket after another (newest hour first),
// within an hour by span id. A zero start or end does not bound the search. The first
// element is ErrTraceNotFound if the trace has no span.
func (db *DB) Trace(ctx context.Context, id TraceID, start, end time.Time) iter.Seq2[Span, error] {
	return func(yield func(Span, error) bool) {
		if err := db.acquire(); err != nil {
			yield(Span{}, err)
			return
		}
		defer db.closing.RUnlock()
		found, stopped := false, false
		var spans []Span
		seen := map[SpanID]struct{}{}
		cur := uint32(0)
		// flush yields the spans of one bucket by span id.
		flush := func() bool {
			slices.SortFunc(spans, func(a, b Span) int { return bytes.Compare(a.SpanID[:], b.SpanID[:]) })
			for _, s := range spans {
				found = true
				if !yield(s, nil) {
					stopped = true
					return false
				}
			}
			spans = spans[:0]
			return true
		}
		err := db.traceChunks(ctx, id, start, end, func(b uint32, v []byte) (bool, error) {
			if b != cur && len(spans) > 0 && !flush() {
				return false, nil
			}
			cur = b
			cs, err := decodeChunk(id, v, func(h uint64) ([]Attribute, error) { return db.resource(b, h) })
			if err != nil {
				return false, err
			}
			for _, s := range cs {
				if _, dup := seen[s.SpanID]; !dup { // the same span written in two batches
					seen[s.SpanID] = struct{}{}
					spans = append(spans, s)
				}
			}
			return true, nil
		})
		if stopped {
			return
		}
		if err == nil && !flush() {
			return
		}
		if err == nil && !found {
			err = fmt.Errorf("trace %s: %w", id, ErrTraceNotFound)
		}
		if err != nil {
			yield(Span{}, err)
		}
	}
}

// traceChunks calls fn with every chunk of trace id in the buckets of [start, end] (zero:
// unbounded), newest bucket first. fn returns false to stop. The value is only valid during
// the call.
func (db *DB) traceChunks(ctx context.Context, id TraceID, start, end time.Time, fn func(b uint32, v []byte) (bool, error)) error {
	from, to := uint32(0), ^uint32(0)
	if !start.IsZero() {
		from = bucketOf(start)
	}
	if !end.IsZero() {
		to = bucketOf(end)
	}
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixSpan}, UpperBound: []byte{prefixSpan + 1}})
	if err != nil {
		return fmt.Errorf("read trace %s: %w", id, err)
	}
	defer it.Close()
	for _, b := range db.names.bucketList(from, to) {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("read trace %s: %w", id, err)
		}
		lo, hi := traceRange(b, id)
		// A prefix seek: the tables whose Bloom filter lacks the trace are skipped.
		for valid := it.SeekPrefixGE(lo); valid && bytes.Compare(it.Key(), hi) < 0; valid = it.Next() {
			v, err := it.ValueAndErr()
			if err != nil {
				return fmt.Errorf("read trace %s: %w", id, err)
			}
			more, err := fn(b, v)
			if err != nil {
				return fmt.Errorf("read trace %s: %w", id, err)
			}
			if !more {
				return nil
			}
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("read trace %s: %w", id, err)
	}
	return nil
}

// Query selects traces: those with at least one span that matches every condition set.
type Query struct {
	Service     string // required
	Operation   string
	Tags        map[string]string // compared with the value's text (Value.String)
	MinDuration time.Duration     // 0: no minimum
	MaxDuration time.Duration     // 0: no maximum
	Start, End  time.Time         // span start within [Start, End]; zero: unbounded
	// Limit is the most traces returned (<= 0: 100).
	Limit int
}

// FindTraceIDs returns the ids of the traces matching q, the most recent match first. It
// reads the service's index entries (one per trace, hour and write) backwards from q.End,
// skips those whose summary rules the query out (durations, Bloom filter of names and
// tags), and checks the rest against the trace's spans. An entry's time is the first span
// of the service in that write; entries up to searchSlack before q.Start are read too, so
// only a write whose spans of the service spread over more than that may be missed at the
// window's start. If it read Options.MaxSearchSpans index entries it returns what it found
// and an error wrapping ErrSearchLimit.
func (db *DB) FindTraceIDs(ctx context.Context, q Query) ([]TraceID, error) {
	if q.Service == "" {
		return nil, errors.New("find traces: a service is required")
	}
	if q.Limit <= 0 {
		q.Limit = 100
	}
	if err := db.acquire(); err != nil {
		return nil, err
	}
	defer db.closing.RUnlock()

	var want []uint64 // Bloom items every matching span has
	if q.Operation != "" {
		want = append(want, nameHash(q.Operation))
	}
	for k, v := range q.Tags {
		want = append(want, tagHash(k, []byte(v)))
	}
	startNs, endNs := int64(0), int64(1<<63-1)
	from, to := uint32(0), ^uint32(0)
	if !q.Start.IsZero() {
		startNs, from = max(q.Start.UnixNano(), 0), bucketOf(q.Start)
	}
	if !q.End.IsZero() {
		endNs, to = q.End.UnixNano(), bucketOf(q.End)
	}
	// An entry's time is the first of its spans; later ones may be in the window although
	// it is not, so the scan starts searchSlack earlier and skips by spread what ends
	// before the window.
	scanNs := max(startNs-int64(searchSlack), 0)

	done := map[TraceID]struct{}{} // matched or checked and rejected
	var ids []TraceID
	read := 0
	for _, b := range db.names.bucketList(from, to) {
		prefix := indexPrefix(nil, b, kindService, q.Service)
		lo := appendIndexSuffix(bytes.Clone(prefix), scanNs, TraceID{}, chunkID{})
		hi := incrementKey(appendIndexSuffix(bytes.Clone(prefix), endNs, maxTraceID, chunkID(maxSpanID)))
		it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
		if err != nil {
			return ids, fmt.Errorf("find traces: %w", err)
		}
		for valid := it.Last(); valid; valid = it.Prev() {
			if read++; read > db.opts.MaxSearchSpans {
				it.Close()
				return ids, fmt.Errorf("find traces: %w (%d index entries)", ErrSearchLimit, db.opts.MaxSearchSpans)
			}
			if read%1024 == 0 {
				if err := ctx.Err(); err != nil {
					it.Close()
					return ids, fmt.Errorf("find traces: %w", err)
				}
			}
			firstNs, tid, ok := parseIndexSuffix(it.Key())
			if !ok {
				continue
			}
			if _, dup := done[tid]; dup {
				continue
			}
			sum, ok := parseSummary(it.Value())
			if !ok || firstNs+sum.spread < startNs || !sum.mayMatch(&q, want) {
				continue
			}
			match, err := db.traceMatches(ctx, tid, &q)
			if err != nil {
				it.Close()
				return ids, fmt.Errorf("find traces: %w", err)
			}
			done[tid] = struct{}{}
			if !match {
				continue
			}
			ids = append(ids, tid)
			if len(ids) >= q.Limit {
				it.Close()
				return ids, nil
			}
		}
		err = it.Error()
		it.Close()
		if err != nil {
			return ids, fmt.Errorf("find traces: %w", err)
		}
	}
	return ids, nil
}

// mayMatch reports whether a chunk with this summary may hold a span matching q.
func (s *summary) mayMatch(q *Query, want []uint64) bool {
	if q.MinDuration > 0 && s.maxDur < int64(q.MinDuration) || q.MaxDuration > 0 && s.minDur > int64(q.MaxDuration) {
		return false
	}
	for _, h := range want {
		if !bloomHas(s.bloom, h) {
			return false
		}
	}
	return true
}

// traceMatches reads the trace within q's window and reports whether one span matches
// every condition of q.
func (db *DB) traceMatches(ctx context.Context, id TraceID, q *Query) (bool, error) {
	match := false
	var derived []Attribute
	err := db.traceChunks(ctx, id, q.Start, q.End, func(b uint32, v []byte) (bool, error) {
		cs, err := decodeChunk(id, v, func(h uint64) ([]Attribute, error) { return db.resource(b, h) })
		if err != nil {
			return false, err
		}
		for i := range cs {
			s := &cs[i]
			if s.Service != q.Service || q.Operation != "" && s.Name != q.Operation {
				continue
			}
			if !q.Start.IsZero() && s.Start.Before(q.Start) || !q.End.IsZero() && s.Start.After(q.End) {
				continue
			}
			d := s.Duration()
			if q.MinDuration > 0 && d < q.MinDuration || q.MaxDuration > 0 && d > q.MaxDuration {
				continue
			}
			derived = derivedTags(derived[:0], s.Kind, s.StatusCode)
			if tagsMatch(q.Tags, s.Attributes, s.Resource, derived) {
				match = true
				return false, nil
			}
		}
		return true, nil
	})
	return match, err
}

// tagsMatch reports whether every tag of want is among the attribute lists, compared as
// text (Value.String).
func tagsMatch(want map[string]string, lists ...[]Attribute) bool {
	for k, v := range want {
		found := false
		for _, as := range lists {
			for i := range as {
				if as[i].Key == k && as[i].Value.String() == v {
					found = true
					break
				}
			}
			if found {
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// searchSlack is how much earlier than a search window's start its index scan begins.
const searchSlack = time.Minute

var (
	maxTraceID = TraceID{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	maxSpanID  = SpanID{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
)

// FindTraces yields the traces matching q (see FindTraceIDs), one trace at a time, each
// with all its spans. An ErrSearchLimit error comes after the traces found.
func (db *DB) FindTraces(ctx context.Context, q Query) iter.Seq2[[]Span, error] {
	return func(yield func([]Span, error) bool) {
		ids, findErr := db.FindTraceIDs(ctx, q)
		if findErr != nil && !errors.Is(findErr, ErrSearchLimit) {
			yield(nil, findErr)
			return
		}
		for _, id := range ids {
			spans, err := db.TraceSpans(ctx, id)
			if errors.Is(err, ErrTraceNotFound) {
				continue // dropped by retention meanwhile
			}
			if !yield(spans, err) || err != nil {
				return
			}
		}
		if findErr != nil {
			yield(nil, findErr)
		}
	}
}

// TraceSpans collects Trace(ctx, id, zero, zero) into a slice.
func (db *DB) TraceSpans(ctx context.Context, id TraceID) ([]Span, error) {
	var spans []Span
	for s, err := range db.Trace(ctx, id, time.Time{}, time.Time{}) {
		if err != nil {
			return nil, err
		}
		spans = append(spans, s)
	}
	return spans, nil
}
