package logs

import (
	"context"
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

// compiledQuery is a parsed query: the per-line matcher and the block-level bleve query
// (nil: every block).
type compiledQuery struct {
	match matcher
	block query.Query
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
	return compiledQuery{match: m, block: blockQuery(parsed)}, nil
}

type scanOrder uint8

const (
	scanAny scanOrder = iota
	scanForward
	scanBackward
)

// scan calls fn for every line with a time in [start, end) (Unix ns) that cq matches. Blocks
// are visited in order of their first (forward) or last (backward) line; lines are not
// globally ordered. r is valid only during the call unless the caller copies it — in
// practice it points into a freshly decoded block and may be kept.
func (s *Store) scan(ctx context.Context, cq compiledQuery, start, end int64, order scanOrder, fn func(k lineKey, r *Record) error) error {
	if start >= end {
		return nil
	}
	if _, none := cq.block.(*query.MatchNoneQuery); none {
		return nil
	}
	if s.closed.Load() {
		return ErrClosed
	}
	type memSnap struct {
		b     *memBlock
		lines []Record
	}
	type partSnap struct {
		p       *partition
		entries []blockEntry
	}
	var mems []memSnap
	var parts []partSnap
	overlaps := func(lo, hi int64) bool { return hi >= start && lo < end }
	s.mu.RLock()
	addMem := func(b *memBlock) {
		if len(b.lines) > 0 && overlaps(b.minT, b.maxT) {
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

	var lv lineView
	visit := func(b *memBlock, part int64, seq uint64, lines []Record) error {
		for i := range lines {
			r := &lines[i]
			t := r.Time.UnixNano()
			if t < start || t >= end {
				continue
			}
			lv.reset(r)
			if cq.match(&lv) {
				if err := fn(lineKey{t: t, part: part, seq: seq, idx: uint32(i)}, r); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, m := range mems {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := visit(m.b, m.b.part, m.b.seq, m.lines); err != nil {
			return err
		}
	}
	slices.SortFunc(parts, func(a, b partSnap) int {
		if order == scanBackward {
			return cmpInt64(b.p.start, a.p.start)
		}
		return cmpInt64(a.p.start, b.p.start)
	})
	for _, ps := range parts {
		if err := s.scanPartition(ctx, ps.p, ps.entries, cq, start, end, order, func(e blockEntry, lines []Record) error {
			return visit(nil, ps.p.key, e.seq, lines)
		}); err != nil {
			return err
		}
	}
	return nil
}

// scanPartition finds p's candidate blocks and hands each, decoded, to fn.
func (s *Store) scanPartition(ctx context.Context, p *partition, entries []blockEntry, cq compiledQuery, start, end int64, order scanOrder, fn func(blockEntry, []Record) error) error {
	p.useMu.RLock()
	defer p.useMu.RUnlock()
	if p.dropped {
		return nil
	}
	var cands []blockEntry
	if cq.block == nil {
		for _, e := range entries {
			if e.maxT >= start && e.minT < end {
				cands = append(cands, e)
			}
		}
	} else {
		n, err := p.index.DocCount()
		if err != nil {
			return fmt.Errorf("count documents in %s: %w", p.dir, err)
		}
		bq := cq.block
		if tr := blockTimeRange(start, end-1); tr != nil {
			bq = query.NewConjunctionQuery([]query.Query{bq, tr})
		}
		seqs, err := p.search(bq, int(n)+1)
		if err != nil {
			return err
		}
		for _, seq := range seqs {
			i, found := sort.Find(len(entries), func(i int) int { return compareUint64(seq, entries[i].seq) })
			// Documents of blocks published after the snapshot are skipped: they were
			// scanned from memory.
			if found && entries[i].maxT >= start && entries[i].minT < end {
				cands = append(cands, entries[i])
			}
		}
	}
	slices.SortFunc(cands, func(a, b blockEntry) int {
		if order == scanBackward {
			return cmpInt64(b.maxT, a.maxT)
		}
		return cmpInt64(a.minT, b.minT)
	})
	for _, e := range cands {
		if err := ctx.Err(); err != nil {
			return err
		}
		lines, err := p.readBlock(e, s.dec)
		if err != nil {
			return err
		}
		if err := fn(e, lines); err != nil {
			return err
		}
	}
	return nil
}
