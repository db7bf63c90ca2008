package logs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Direction orders query results by time.
type Direction uint8

// Backward returns the newest lines first (the default); Forward the oldest first.
const (
	Backward Direction = iota
	Forward
)

// Query is a search over [Start, End). A zero End means now, a zero Start one hour before End.
// Limit 0 means Options.DefaultLimit; it is capped at Options.MaxLimit.
type Query struct {
	Q         string
	Start     time.Time
	End       time.Time
	Limit     int
	Direction Direction
	// TotalLimit 0 makes Result.Total exact. Above 0, the search stops verifying lines for
	// the count once TotalLimit matches are counted (as Elasticsearch's track_total_hits):
	// Total may then be a lower bound, and Result.TotalLowerBound says so. Lines whose
	// match the block dictionaries decide (terms and field values found in two or more
	// lines of a block) are always counted; phrases, wildcards, ranges and terms found in
	// one line of a block (in its bloom filter) are what may go uncounted.
	TotalLimit int
}

// Line is a stored line and its id (see Context).
type Line struct {
	ID string
	Record
}

// Result is one page of matching lines, in Direction's time order, and the number of lines
// in the range that match: exactly, or at least Total when TotalLowerBound is set (see
// Query.TotalLimit).
type Result struct {
	Lines           []Line
	Total           int
	TotalLowerBound bool
}

func (s *Store) timeRange(start, end time.Time) (int64, int64) {
	if end.IsZero() {
		end = s.opts.now()
	}
	if start.IsZero() {
		start = end.Add(-time.Hour)
	}
	return start.UnixNano(), end.UnixNano()
}

func (s *Store) observe(kind string, t0 time.Time, err *error) {
	total, errs, dur := s.m.query(kind)
	total.Inc()
	if *err != nil {
		errs.Inc()
	}
	dur.UpdateDuration(t0)
}

// Query returns the matching lines of q.Q in the time range. An unparsable query fails with
// an error wrapping ErrInvalidQuery. Lines are counted from the block dictionaries where they
// decide the match, and decoded only for the returned page and for the lines a phrase,
// wildcard or range must verify (all of them when q.TotalLimit is 0).
func (s *Store) Query(ctx context.Context, q Query) (res Result, err error) {
	defer s.observe("query", time.Now(), &err)
	cq, err := compileQuery(q.Q)
	if err != nil {
		return Result{}, err
	}
	start, end := s.timeRange(q.Start, q.End)
	return s.query(ctx, cq, start, end, s.limit(q.Limit), q.Direction, nil, max(q.TotalLimit, 0))
}

func (s *Store) limit(n int) int {
	if n <= 0 {
		return s.opts.DefaultLimit
	}
	return min(n, s.opts.MaxLimit)
}

type heapLine struct {
	k   lineKey
	r   *Record       // nil until fetched from src
	src *pendingBlock // the flushed block holding the line; nil for memory blocks
}

// lineHeap holds the best lines seen so far with the worst on top.
type lineHeap struct {
	forward bool
	items   []heapLine
}

// better reports whether a comes before b in the result order.
func (h *lineHeap) better(a, b lineKey) bool {
	if h.forward {
		return compareKeys(a, b) < 0
	}
	return compareKeys(a, b) > 0
}

func (h *lineHeap) Len() int           { return len(h.items) }
func (h *lineHeap) Less(i, j int) bool { return h.better(h.items[j].k, h.items[i].k) }
func (h *lineHeap) Swap(i, j int)      { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *lineHeap) Push(x any)         { h.items = append(h.items, x.(heapLine)) }
func (h *lineHeap) Pop() any {
	it := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return it
}

// Volume counts matching lines per time bucket.
type Volume struct {
	Start  time.Time
	Step   time.Duration
	By     string
	Series []VolumeSeries // by Value
	Total  int64
}

// VolumeSeries holds the counts of the lines whose By field has Value ("" when By is
// empty or the line lacks the field). Counts[i] covers [Start+i*Step, Start+(i+1)*Step).
type VolumeSeries struct {
	Value  string
	Counts []int64
}

// Volume counts the lines matching q in [start, end) per step, split by the value of field
// by (for example "level"; "" for one series). step 0 picks about 60 buckets, at least 1s.
func (s *Store) Volume(ctx context.Context, q string, start, end time.Time, step time.Duration, by string) (v Volume, err error) {
	defer s.observe("volume", time.Now(), &err)
	cq, err := compileQuery(q)
	if err != nil {
		return Volume{}, err
	}
	lo, hi := s.timeRange(start, end)
	if step <= 0 {
		step = max(time.Second, time.Duration(hi-lo)/60).Truncate(time.Second)
	}
	n := int64(0)
	if hi > lo {
		n = (hi - lo + int64(step) - 1) / int64(step)
	}
	if n > int64(s.opts.MaxVolumeBuckets) {
		return Volume{}, fmt.Errorf("%w: %d buckets of %s exceed the limit of %d; use a larger step", ErrInvalidQuery, n, step, s.opts.MaxVolumeBuckets)
	}
	by = canonicalByField(by)
	series := map[string][]int64{}
	err = s.scanValues(ctx, cq, lo, hi, by, func(t int64, val string) {
		c := series[val]
		if c == nil {
			c = make([]int64, n)
			series[val] = c
		}
		c[(t-lo)/int64(step)]++
	})
	if err != nil {
		return Volume{}, fmt.Errorf("count log volume: %w", err)
	}
	v = Volume{Start: time.Unix(0, lo).UTC(), Step: step, By: by}
	for val, c := range series {
		v.Series = append(v.Series, VolumeSeries{Value: val, Counts: c})
		for _, x := range c {
			v.Total += x
		}
	}
	slices.SortFunc(v.Series, func(a, b VolumeSeries) int { return cmp.Compare(a.Value, b.Value) })
	return v, nil
}

func canonicalByField(f string) string {
	if f == "" {
		return ""
	}
	return canonicalField(f)
}

// FieldValue is one value of a field and the number of matching lines holding it.
type FieldValue struct {
	Value string
	Count int64
}

// FieldValues returns the limit most frequent values of field name among the lines matching
// q in [start, end), most frequent first (ties by value), and how many lines matched.
// limit 0 means 100. The message and time fields have no values.
func (s *Store) FieldValues(ctx context.Context, name, q string, start, end time.Time, limit int) (vals []FieldValue, lines int64, err error) {
	defer s.observe("field_values", time.Now(), &err)
	name = canonicalField(name)
	if name == fieldMessage || name == fieldTime {
		return nil, 0, fmt.Errorf("%w: field %q has no values to list", ErrInvalidQuery, name)
	}
	cq, err := compileQuery(q)
	if err != nil {
		return nil, 0, err
	}
	if limit <= 0 {
		limit = 100
	}
	lo, hi := s.timeRange(start, end)
	counts := map[string]int64{}
	lines, err = s.scanFieldCounts(ctx, cq, lo, hi, name, counts)
	if err != nil {
		return nil, 0, fmt.Errorf("list values of %s: %w", name, err)
	}
	for v, c := range counts {
		vals = append(vals, FieldValue{v, c})
	}
	slices.SortFunc(vals, func(a, b FieldValue) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Value, b.Value)
	})
	if len(vals) > limit {
		vals = vals[:limit]
	}
	return vals, lines, nil
}

// Fields returns the names of the fields seen in partitions overlapping [start, end) and in
// buffered lines, sorted. Partition granularity: a field seen anywhere in an overlapping
// partition is listed.
func (s *Store) Fields(ctx context.Context, start, end time.Time) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.closed.Load() {
		return nil, ErrClosed
	}
	lo, hi := s.timeRange(start, end)
	seen := map[string]bool{}
	var parts []*partition
	s.mu.RLock()
	for _, p := range s.parts {
		if p.end > lo && p.start < hi {
			parts = append(parts, p)
		}
	}
	addMem := func(b *memBlock) {
		if b.maxT < lo || b.minT >= hi {
			return
		}
		for i := range b.lines {
			r := &b.lines[i]
			if r.Message != "" {
				seen[fieldMessage] = true
			}
			for _, f := range [...]struct {
				name, v string
			}{{fieldLevel, r.Level}, {fieldService, r.Service}, {fieldTraceID, r.TraceID}, {fieldSpanID, r.SpanID}} {
				if f.v != "" {
					seen[f.name] = true
				}
			}
			for _, f := range r.Fields {
				if !reservedField(f.Key) {
					seen[f.Key] = true
				}
			}
		}
	}
	for _, b := range s.heads {
		addMem(b)
	}
	for _, b := range s.sealed {
		addMem(b)
	}
	for _, b := range s.flushing {
		addMem(b)
	}
	s.mu.RUnlock()
	for _, p := range parts {
		names, err := p.fields()
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			seen[n] = true
		}
	}
	out := make([]string, 0, len(seen)+1)
	if len(seen) > 0 {
		seen[fieldTime] = true
	}
	for n := range seen {
		out = append(out, n)
	}
	slices.Sort(out)
	return out, nil
}

func (p *partition) fields() ([]string, error) {
	p.useMu.RLock()
	defer p.useMu.RUnlock()
	if p.dropped {
		return nil, nil
	}
	// Every block document lists its fields' names (fieldsField): a field whose values are
	// all in bloom filters has no term of its own in bleve.
	d, err := p.index.FieldDict(fieldsField)
	if err != nil {
		return nil, fmt.Errorf("list fields of %s: %w", p.dir, err)
	}
	defer d.Close()
	var names []string
	for {
		e, err := d.Next()
		if err != nil {
			return nil, fmt.Errorf("list fields of %s: %w", p.dir, err)
		}
		if e == nil {
			return names, nil
		}
		names = append(names, e.Term)
	}
}

// ContextResult is a line and its neighbours from the same service, oldest first.
type ContextResult struct {
	Before []Line
	Line   Line
	After  []Line
}

// Context returns the line with id and up to before/after lines of the same service just
// before and after it in (time, id) order, looking up to about 255 partition durations away.
// An unknown id (or one whose partition has expired) gives ErrNotFound.
func (s *Store) Context(ctx context.Context, id string, before, after int) (res ContextResult, err error) {
	defer s.observe("context", time.Now(), &err)
	k, err := parseLineID(id)
	if err != nil {
		return ContextResult{}, fmt.Errorf("%w: %v", ErrNotFound, err)
	}
	r, err := s.lineByKey(k)
	if err != nil {
		return ContextResult{}, err
	}
	k.t = r.Time.UnixNano()
	res.Line = Line{ID: id, Record: r}
	cq, err := compileParsed(term(fieldService, r.Service))
	if err != nil {
		return ContextResult{}, err
	}
	if r.Service == "" {
		// No service to follow: a clause that matches lines without one.
		cq.match = func(v *lineView) bool { return v.r.Service == "" }
		cq.eval = evalAll{}
		cq.msgOnly = false
	}
	before, after = min(max(before, 0), s.opts.MaxLimit), min(max(after, 0), s.opts.MaxLimit)
	if res.Before, err = s.contextSide(ctx, cq, k, before, Backward); err != nil {
		return ContextResult{}, err
	}
	slices.Reverse(res.Before)
	if res.After, err = s.contextSide(ctx, cq, k, after, Forward); err != nil {
		return ContextResult{}, err
	}
	return res, nil
}

// contextMaxWindows bounds how far Context looks: windows of 1, 2, 4, ... partition
// durations, so 8 windows reach 255 partition durations (about 10 days of hourly ones).
const contextMaxWindows = 8

// contextSide returns up to n lines matching cq just before (Backward) or after k, searching
// windows that double in length away from k until it has n lines.
func (s *Store) contextSide(ctx context.Context, cq compiledQuery, k lineKey, n int, dir Direction) ([]Line, error) {
	var out []Line
	span := int64(s.opts.PartitionDuration)
	done := int64(0) // distance from k.t already searched
	for w := 0; len(out) < n && w < contextMaxWindows; w++ {
		lo, hi := k.t-done-span, k.t-done+1 // backward: (.., k.t] first
		if dir == Forward {
			lo, hi = k.t+done, k.t+done+span
		}
		if w > 0 && dir == Backward {
			hi-- // (k.t-done) was searched by the previous window
		}
		res, err := s.query(ctx, cq, lo, hi, n-len(out), dir, func(x lineKey) bool {
			if dir == Forward {
				return compareKeys(x, k) > 0
			}
			return compareKeys(x, k) < 0
		}, 1)
		if err != nil {
			return nil, err
		}
		out = append(out, res.Lines...)
		done += span
		span *= 2
	}
	return out, nil
}

// lineByKey finds a line by partition, block and position.
func (s *Store) lineByKey(k lineKey) (Record, error) {
	if s.closed.Load() {
		return Record{}, ErrClosed
	}
	s.mu.RLock()
	var mem []Record
	for _, list := range [][]*memBlock{s.sealed, s.flushing} {
		for _, b := range list {
			if b.part == k.part && b.seq == k.seq {
				mem = b.lines[:len(b.lines):len(b.lines)]
			}
		}
	}
	for _, b := range s.heads {
		if b.part == k.part && b.seq == k.seq {
			mem = b.lines[:len(b.lines):len(b.lines)]
		}
	}
	p := s.parts[k.part]
	var entry *blockEntry
	if mem == nil && p != nil {
		i, found := slices.BinarySearchFunc(p.entries, k.seq, func(e blockEntry, seq uint64) int { return compareUint64(e.seq, seq) })
		if found {
			e := p.entries[i]
			entry = &e
		}
	}
	s.mu.RUnlock()
	if mem != nil {
		if int(k.idx) < len(mem) {
			return mem[k.idx], nil
		}
		return Record{}, ErrNotFound
	}
	if entry == nil {
		return Record{}, ErrNotFound
	}
	p.useMu.RLock()
	defer p.useMu.RUnlock()
	if p.dropped {
		return Record{}, ErrNotFound
	}
	lines, err := p.readBlock(*entry, s.dec)
	if err != nil {
		return Record{}, fmt.Errorf("read line %s: %w", k.ID(), err)
	}
	if int(k.idx) >= len(lines) {
		return Record{}, ErrNotFound
	}
	return lines[k.idx], nil
}

// isPermanent reports whether err is the caller's fault (maps to 400).
func isPermanent(err error) bool {
	return errors.Is(err, ErrInvalidQuery) || errors.Is(err, ErrLineTooLarge)
}
