package traces

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Dependency is a call edge between two services: CallCount spans of Child had a parent
// span of Parent.
type Dependency struct {
	Parent, Child string
	CallCount     uint64
}

// Dependencies computes the service dependency edges of the spans that started in
// [start, end], the way Jaeger's stores do: for each span whose parent span is in the same
// trace and belongs to another service, one call parent -> child. It reads the span records
// of the window hour by hour (a trace is contiguous within an hour, so it holds one trace in
// memory at a time); a parent in another hour is not matched. Past Options.MaxSearchSpans
// spans it returns what it counted and an error wrapping ErrSearchLimit.
func (db *DB) Dependencies(ctx context.Context, start, end time.Time) ([]Dependency, error) {
	if err := db.acquire(); err != nil {
		return nil, err
	}
	defer db.closing.RUnlock()
	type edge struct{ parent, child string }
	counts := map[edge]uint64{}
	read := 0
	var limitErr error

	type node struct {
		service string
		parent  SpanID
	}
	trace := map[SpanID]node{}
	var cur TraceID
	flush := func() {
		for _, n := range trace {
			if p, ok := trace[n.parent]; ok && p.service != n.service {
				counts[edge{p.service, n.service}]++
			}
		}
		clear(trace)
	}
	for _, b := range db.names.bucketList(bucketOf(start), bucketOf(end)) {
		lo, hi := bucketsRange(prefixSpan, b, b+1)
		it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
		if err != nil {
			return nil, fmt.Errorf("compute dependencies: %w", err)
		}
		for valid, n := it.First(), 0; valid; valid, n = it.Next(), n+1 {
			if n%256 == 0 {
				if err := ctx.Err(); err != nil {
					it.Close()
					return nil, fmt.Errorf("compute dependencies: %w", err)
				}
			}
			k := it.Key()
			if len(k) != chunkKeyLen {
				continue
			}
			var tid TraceID
			copy(tid[:], k[5:21])
			if tid != cur {
				flush()
				cur = tid
			}
			v, err := it.ValueAndErr()
			if err != nil {
				it.Close()
				return nil, fmt.Errorf("compute dependencies: %w", err)
			}
			h, err := decodeHeaders(v)
			if err != nil {
				it.Close()
				return nil, fmt.Errorf("compute dependencies: chunk of trace %s: %w", tid, err)
			}
			for _, sh := range h.headers {
				if sh.StartNs < start.UnixNano() || sh.StartNs > end.UnixNano() {
					continue
				}
				trace[sh.SpanID] = node{service: sh.Service, parent: sh.Parent}
			}
			if read += len(h.headers); read > db.opts.MaxSearchSpans {
				limitErr = fmt.Errorf("compute dependencies: %w (%d spans)", ErrSearchLimit, db.opts.MaxSearchSpans)
				break
			}
		}
		flush()
		err = it.Error()
		it.Close()
		if err != nil {
			return nil, fmt.Errorf("compute dependencies: %w", err)
		}
		if limitErr != nil {
			break
		}
	}
	out := make([]Dependency, 0, len(counts))
	for e, n := range counts {
		out = append(out, Dependency{Parent: e.parent, Child: e.child, CallCount: n})
	}
	slices.SortFunc(out, func(a, b Dependency) int {
		return cmp.Or(cmp.Compare(a.Parent, b.Parent), cmp.Compare(a.Child, b.Child))
	})
	return out, limitErr
}
