package traces

import (
	"context"
	"errors"
	"fmt"
	"iter"
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
		found, err := db.traceSpans(ctx, id, start, end, yield)
		if err == nil && !found {
			err = fmt.Errorf("trace %s: %w", id, ErrTraceNotFound)
		}
		if err != nil {
			yield(Span{}, err)
		}
	}
}

// traceSpans yields every span of id; found tells whether there was one. It returns
// errStopped if yield asked to stop.
func (db *DB) traceSpans(ctx context.Context, id TraceID, start, end time.Time, yield func(Span, error) bool) (found bool, err error) {
	from, to := uint32(0), ^uint32(0)
	if !start.IsZero() {
		from = bucketOf(start)
	}
	if !end.IsZero() {
		to = bucketOf(end)
	}
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixSpan}, UpperBound: []byte{prefixSpan + 1}})
	if err != nil {
		return false, fmt.Errorf("read trace %s: %w", id, err)
	}
	defer it.Close()
	for _, b := range db.names.bucketList(from, to) {
		if err := ctx.Err(); err != nil {
			return found, fmt.Errorf("read trace %s: %w", id, err)
		}
		lo, hi := traceRange(b, id)
		for valid := it.SeekGE(lo); valid && string(it.Key()) < string(hi); valid = it.Next() {
			k := it.Key()
			var sid SpanID
			copy(sid[:], k[len(lo):])
			v, err := it.ValueAndErr()
			if err != nil {
				return found, fmt.Errorf("read trace %s: %w", id, err)
			}
			s, err := decodeSpan(id, sid, v)
			if err != nil {
				return found, fmt.Errorf("read trace %s: %w", id, err)
			}
			found = true
			if !yield(s, nil) {
				return found, nil
			}
		}
	}
	if err := it.Error(); err != nil {
		return found, fmt.Errorf("read trace %s: %w", id, err)
	}
	return found, nil
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
// reads one index range backwards from q.End and checks the other conditions with point
// reads, so the cost is that of the matching spans, not of the window. If it read
// Options.MaxSearchSpans index entries it returns what it found and an error wrapping
// ErrSearchLimit.
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

	// The driving index: the first tag (usually the most selective), else the operation,
	// else the service. Other conditions are point reads of the keys they would have.
	type check struct {
		kind   byte
		fields []string
	}
	var (
		drive  check
		checks []check
	)
	for k, v := range q.Tags {
		checks = append(checks, check{kindTag, []string{q.Service, k, v}})
	}
	if q.Operation != "" {
		checks = append(checks, check{kindOp, []string{q.Service, q.Operation}})
	}
	if len(checks) > 0 {
		drive, checks = checks[0], checks[1:]
	} else {
		drive = check{kindService, []string{q.Service}}
	}

	startNs, endNs := int64(0), int64(1<<63-1)
	from, to := uint32(0), ^uint32(0)
	if !q.Start.IsZero() {
		startNs, from = max(q.Start.UnixNano(), 0), bucketOf(q.Start)
	}
	if !q.End.IsZero() {
		endNs, to = q.End.UnixNano(), bucketOf(q.End)
	}

	seen := map[TraceID]struct{}{}
	var ids []TraceID
	read := 0
	var key []byte
	for _, b := range db.names.bucketList(from, to) {
		prefix := indexPrefix(nil, b, drive.kind, drive.fields...)
		lo := appendIndexSuffix(append([]byte(nil), prefix...), time.Unix(0, startNs), TraceID{}, SpanID{})
		hi := incrementKey(appendIndexSuffix(append([]byte(nil), prefix...), time.Unix(0, endNs), maxTraceID, maxSpanID))
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
			k := it.Key()
			ns, tid, sid, ok := parseIndexSuffix(k)
			if !ok {
				continue
			}
			if _, dup := seen[tid]; dup {
				continue
			}
			d, _, ok := parseIndexValue(it.Value())
			if !ok || (q.MinDuration > 0 && d < q.MinDuration) || (q.MaxDuration > 0 && d > q.MaxDuration) {
				continue
			}
			match := true
			for _, c := range checks {
				key = indexPrefix(key[:0], b, c.kind, c.fields...)
				key = appendIndexSuffix(key, time.Unix(0, ns), tid, sid)
				_, closer, err := db.pdb.Get(key)
				if errors.Is(err, pebble.ErrNotFound) {
					match = false
					break
				}
				if err != nil {
					it.Close()
					return ids, fmt.Errorf("find traces: %w", err)
				}
				closer.Close()
			}
			if !match {
				continue
			}
			seen[tid] = struct{}{}
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
