package logs

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/blevesearch/bleve/v2/search/query"
)

// lineKey identifies a line and orders lines: by time, then partition, block and position.
type lineKey struct {
	t    int64 // Unix ns
	part int64 // partition start, Unix seconds
	seq  uint64
	idx  uint32
}

// ID is the line's stable id, "<partition start, Unix seconds>-<block seq>-<line>". It is
// stable from the moment WriteLogs returns, except that lines still in memory when the
// process crashes are renumbered by the WAL replay.
func (k lineKey) ID() string {
	return strconv.FormatInt(k.part, 10) + "-" + strconv.FormatUint(k.seq, 10) + "-" + strconv.FormatUint(uint64(k.idx), 10)
}

func parseLineID(id string) (lineKey, error) {
	parts := strings.Split(id, "-")
	if len(parts) != 3 {
		return lineKey{}, fmt.Errorf("line id %q: want <partition>-<block>-<line>", id)
	}
	part, err1 := strconv.ParseInt(parts[0], 10, 64)
	seq, err2 := strconv.ParseUint(parts[1], 10, 64)
	idx, err3 := strconv.ParseUint(parts[2], 10, 32)
	if err1 != nil || err2 != nil || err3 != nil {
		return lineKey{}, fmt.Errorf("line id %q: want <partition>-<block>-<line>", id)
	}
	return lineKey{part: part, seq: seq, idx: uint32(idx)}, nil
}

func compareKeys(a, b lineKey) int {
	switch {
	case a.t != b.t:
		return cmpInt64(a.t, b.t)
	case a.part != b.part:
		return cmpInt64(a.part, b.part)
	case a.seq != b.seq:
		return compareUint64(a.seq, b.seq)
	}
	return compareUint64(uint64(a.idx), uint64(b.idx))
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compiledQuery is a parsed query: the per-line matcher, the evaluator over blocks and
// their dictionaries (block_eval.go), and whether verifying a line needs only its time and
// message (then a block's records are not decoded to verify it).
type compiledQuery struct {
	match   matcher
	eval    evalNode
	none    bool
	msgOnly bool
}

func compileQuery(q string) (compiledQuery, error) {
	parsed, err := parseQuery(q)
	if err != nil {
		return compiledQuery{}, err
	}
	return compileParsed(parsed)
}

func compileParsed(parsed query.Query) (compiledQuery, error) {
	m, err := compileMatcher(parsed)
	if err != nil {
		return compiledQuery{}, fmt.Errorf("%w: %v", ErrInvalidQuery, err)
	}
	_, none := parsed.(*query.MatchNoneQuery)
	return compiledQuery{match: m, eval: compileEval(parsed), none: none, msgOnly: onlyMessage(parsed)}, nil
}

// onlyMessage reports whether q looks at no field but the message and the time.
func onlyMessage(q query.Query) bool {
	f := ""
	switch q := q.(type) {
	case *query.MatchAllQuery, *query.MatchNoneQuery:
		return true
	case *query.ConjunctionQuery:
		return allOnlyMessage(q.Conjuncts)
	case *query.DisjunctionQuery:
		return allOnlyMessage(q.Disjuncts)
	case *query.BooleanQuery:
		return allOnlyMessage(slices.DeleteFunc([]query.Query{q.Must, q.Should, q.MustNot, q.Filter}, func(q query.Query) bool { return q == nil }))
	case query.FieldableQuery: // match, phrase, term, fuzzy, prefix, wildcard, regexp, ranges
		f = q.Field()
	default:
		return false
	}
	f = canonicalField(f)
	return f == fieldMessage || f == fieldTime
}

func allOnlyMessage(qs []query.Query) bool {
	for _, q := range qs {
		if !onlyMessage(q) {
			return false
		}
	}
	return true
}

type scanOrder uint8

const (
	scanAny scanOrder = iota
	scanForward
	scanBackward
)

type memSnap struct {
	b     *memBlock
	lines []Record
}

type partSnap struct {
	p       *partition
	entries []blockEntry
}

// snapshot returns the memory blocks and the partitions (with their published entries)
// overlapping [start, end), partitions in order.
func (s *Store) snapshot(start, end int64, order scanOrder) ([]memSnap, []partSnap) {
	var mems []memSnap
	var parts []partSnap
	s.mu.RLock()
	addMem := func(b *memBlock) {
		if len(b.lines) > 0 && b.maxT >= start && b.minT < end {
			mems = append(mems, memSnap{b, b.lines[:len(b.lines):len(b.lines)]})
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
	for _, p := range s.parts {
		if p.end > start && p.start < end {
			parts = append(parts, partSnap{p, p.entries[:len(p.entries):len(p.entries)]})
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(parts, func(a, b partSnap) int {
		if order == scanBackward {
			return cmpInt64(b.p.start, a.p.start)
		}
		return cmpInt64(a.p.start, b.p.start)
	})
	return mems, parts
}

// candidates returns p's blocks that overlap [start, end) and may hold a match, in order.
// The caller holds p.useMu.
func (s *Store) candidates(p *partition, entries []blockEntry, cq compiledQuery, start, end int64, order scanOrder) ([]blockEntry, error) {
	sel := blockSelector{p: p, entries: entries, universe: newLineBits(len(entries))}
	for i, e := range entries {
		if e.maxT >= start && e.minT < end {
			sel.universe.set(i)
		}
	}
	bits, err := cq.eval.blocks(&sel)
	if err != nil {
		return nil, err
	}
	bits.and(sel.universe)
	var cands []blockEntry
	bits.each(func(i int) bool { cands = append(cands, entries[i]); return true })
	slices.SortFunc(cands, func(a, b blockEntry) int {
		if order == scanBackward {
			return cmpInt64(b.maxT, a.maxT)
		}
		return cmpInt64(a.minT, b.minT)
	})
	return cands, nil
}

// blockSelector finds candidate blocks among a snapshot of a partition's entries.
type blockSelector struct {
	p        *partition
	entries  []blockEntry // ascending seq
	universe lineBits     // the entries overlapping the query's time range
	bucket   [bloomBucketBytes]byte
}

func (s *blockSelector) all() lineBits  { return slices.Clone(s.universe) }
func (s *blockSelector) none() lineBits { return newLineBits(len(s.entries)) }

// bleve returns the blocks whose documents match q.
func (s *blockSelector) bleve(q query.Query) (lineBits, error) {
	out := s.none()
	n, err := s.p.index.DocCount()
	if err != nil {
		return nil, fmt.Errorf("count documents in %s: %w", s.p.dir, err)
	}
	seqs, err := s.p.search(q, int(n)+1)
	if err != nil {
		return nil, err
	}
	for _, seq := range seqs {
		// Documents of blocks published after the snapshot are skipped: they were scanned
		// from memory.
		if i, found := sort.Find(len(s.entries), func(i int) int { return compareUint64(seq, s.entries[i].seq) }); found {
			out.set(i)
		}
	}
	out.and(s.universe)
	return out, nil
}

// term returns the blocks holding term in field: in two or more lines (bleve) or maybe in one
// (the bloom filter's bucket for the term, read from disk).
func (s *blockSelector) term(field, term string) (lineBits, error) {
	out, err := s.bleve(termQuery(field, term))
	if err != nil {
		return nil, err
	}
	h := termHash(field, term)
	var rerr error
	s.universe.each(func(i int) bool {
		e := &s.entries[i]
		if out.has(i) || e.bloomSize == 0 {
			return true
		}
		off := int64(e.off) + int64(bloomBucket(h, int(e.bloomSize)))
		if _, err := s.p.data.ReadAt(s.bucket[:], off); err != nil {
			rerr = fmt.Errorf("read block %d bloom filter of %s: %w", e.seq, s.p.dir, err)
			return false
		}
		if bloomHasInBucket(s.bucket[:], h) {
			out.set(i)
		}
		return true
	})
	return out, rerr
}

func termQuery(field, t string) query.Query {
	q := query.NewTermQuery(t)
	q.SetField(field)
	return q
}
