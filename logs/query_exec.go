package logs

import (
	"container/heap"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/klauspost/compress/zstd"
)

// query runs cq over [start, end) keeping the first limit lines in dir's order; keep, if
// set, filters lines by key first. With totalLimit > 0, lines that must be verified are no
// longer verified just to be counted once totalLimit lines are counted (see
// Query.TotalLimit).
//
// Blocks are visited newest first (Backward) or oldest first; a block is decoded only if it
// can still place a line in the page (its time span reaches past the page's worst line), or
// if counting its lines needs verification. Otherwise its candidate lines are counted from
// its dictionary alone.
func (s *Store) query(ctx context.Context, cq compiledQuery, start, end int64, limit int, dir Direction, keep func(lineKey) bool, totalLimit int) (Result, error) {
	if s.closed.Load() {
		return Result{}, fmt.Errorf("search logs: %w", ErrClosed)
	}
	h := &lineHeap{forward: dir == Forward}
	total, lowerBound := 0, false
	offer := func(k lineKey, r *Record, src *pendingBlock) {
		total++
		if limit <= 0 {
			return
		}
		if h.Len() < limit {
			heap.Push(h, heapLine{k, r, src})
		} else if h.better(k, h.items[0].k) {
			h.items[0] = heapLine{k, r, src}
			heap.Fix(h, 0)
		}
	}
	// reaches reports whether a block spanning [lo, hi] may still place a line in the page.
	reaches := func(lo, hi int64) bool {
		switch {
		case limit <= 0:
			return false
		case h.Len() < limit:
			return true
		case dir == Forward:
			return lo <= h.items[0].k.t
		}
		return hi >= h.items[0].k.t
	}
	order := scanBackward
	if dir == Forward {
		order = scanForward
	}
	if start < end && !cq.none {
		mems, parts := s.snapshot(start, end, order)
		var lv lineView
		// Buffers of the blocks that are only counted, reused from block to block.
		var counters []lineCounter
		for _, m := range mems {
			if err := ctx.Err(); err != nil {
				return Result{}, fmt.Errorf("search logs: %w", err)
			}
			for i := range m.lines {
				r := &m.lines[i]
				t := r.Time.UnixNano()
				if t < start || t >= end {
					continue
				}
				k := lineKey{t: t, part: m.b.part, seq: m.b.seq, idx: uint32(i)}
				if keep != nil && !keep(k) {
					continue
				}
				lv.reset(r)
				if cq.match(&lv) {
					offer(k, r, nil)
				}
			}
		}
		for _, ps := range parts {
			p := ps.p
			p.useMu.RLock()
			// Held until the page's lines are fetched below.
			defer p.useMu.RUnlock()
			if p.dropped {
				continue
			}
			cands, err := s.candidates(p, ps.entries, cq, start, end, order)
			if err != nil {
				return Result{}, fmt.Errorf("search logs: %w", err)
			}
			var buf []byte
			// held is a block evaluated while gathering a batch but not part of it.
			var held *evalBlock
			next := 0
			for next < len(cands) || held != nil {
				if err := ctx.Err(); err != nil {
					return Result{}, fmt.Errorf("search logs: %w", err)
				}
				var eb evalBlock
				if held != nil {
					eb, held = *held, nil
				} else {
					if eb, buf, err = evalCandidate(p, cands[next], &cq, buf); err != nil {
						return Result{}, fmt.Errorf("search logs: %w", err)
					}
					next++
				}
				e, bits, exact := eb.e, eb.bits, eb.exact
				if bits.empty() {
					continue
				}
				page := reaches(e.minT, e.maxT)
				if !page && exact && keep == nil && e.minT >= start && e.maxT < end {
					total += bits.count()
					continue
				}
				if !page && !exact && totalLimit > 0 && total >= totalLimit {
					lowerBound = true
					continue
				}
				if !page && (exact || cq.msgOnly) {
					// No line of this block can enter the page, so its lines are only
					// counted, verified (if they must be) by their time and message alone.
					if counters == nil {
						counters = make([]lineCounter, countWorkers())
					}
					if keep != nil || len(counters) == 1 {
						n, err := counters[0].count(p, e, bits, exact, &cq, start, end, keep, s.dec)
						if err != nil {
							return Result{}, fmt.Errorf("search logs: %w", err)
						}
						total += n
						continue
					}
					// The blocks after it that cannot reach the page either are counted
					// with it, on several goroutines: decompressing messages is most of
					// a phrase query's time. The page does not change while blocks are
					// only counted, so which blocks reach it is known in advance.
					batch := []evalBlock{eb}
					for len(batch) < countBatchLen && next < len(cands) {
						var nb evalBlock
						if nb, buf, err = evalCandidate(p, cands[next], &cq, buf); err != nil {
							return Result{}, fmt.Errorf("search logs: %w", err)
						}
						next++
						if nb.bits.empty() {
							continue
						}
						if reaches(nb.e.minT, nb.e.maxT) || !nb.exact && !cq.msgOnly {
							held = &nb
							break
						}
						batch = append(batch, nb)
					}
					var lb bool
					if total, lb, err = s.countBatch(p, batch, counters, &cq, start, end, total, totalLimit); err != nil {
						return Result{}, fmt.Errorf("search logs: %w", err)
					}
					lowerBound = lowerBound || lb
					continue
				}
				pb := &pendingBlock{p: p, e: e}
				if err := pb.readMessages(s.dec); err != nil {
					return Result{}, fmt.Errorf("search logs: %w", err)
				}
				var lines []Record
				if !exact && !cq.msgOnly {
					if lines, err = pb.records(bits, s.dec); err != nil {
						return Result{}, fmt.Errorf("search logs: %w", err)
					}
				}
				var partial Record
				bits.each(func(i int) bool {
					t := pb.m.times[i]
					if t < start || t >= end {
						return true
					}
					k := lineKey{t: t, part: p.key, seq: e.seq, idx: uint32(i)}
					if keep != nil && !keep(k) {
						return true
					}
					var r *Record
					if lines != nil {
						r = &lines[i]
					}
					if !exact {
						if r == nil {
							// Verifying a message-only query needs the time and message.
							partial = Record{Time: time.Unix(0, t).UTC(), Message: pb.m.msgs[i]}
							lv.reset(&partial)
						} else {
							lv.reset(r)
						}
						if !cq.match(&lv) {
							return true
						}
					}
					offer(k, r, pb)
					return true
				})
			}
		}
	}
	slices.SortFunc(h.items, func(a, b heapLine) int {
		if dir == Forward {
			return compareKeys(a.k, b.k)
		}
		return compareKeys(b.k, a.k)
	})
	res := Result{Total: total, TotalLowerBound: lowerBound, Lines: make([]Line, len(h.items))}
	// Decode only the page's lines, each block once.
	want := map[*pendingBlock]lineBits{}
	for _, it := range h.items {
		if it.r == nil {
			if want[it.src] == nil {
				want[it.src] = newLineBits(int(it.src.e.lines))
			}
			want[it.src].set(int(it.k.idx))
		}
	}
	for i, it := range h.items {
		if it.r == nil {
			lines, err := it.src.records(want[it.src], s.dec)
			if err != nil {
				return Result{}, fmt.Errorf("search logs: %w", err)
			}
			it.r = &lines[it.k.idx]
		}
		res.Lines[i] = Line{ID: it.k.ID(), Record: *it.r}
	}
	return res, nil
}

// pendingBlock is a flushed block a query has read the times and messages of; its records
// are decoded only if one of its lines is returned or must be verified.
type pendingBlock struct {
	p     *partition
	e     blockEntry
	m     blockMessages
	lines []Record
}

func (b *pendingBlock) readMessages(dec *zstd.Decoder) error {
	m, err := b.p.readMessages(b.e, dec)
	b.m = m
	return err
}

// records decodes the lines in want (the first call decides which lines are decoded).
func (b *pendingBlock) records(want lineBits, dec *zstd.Decoder) ([]Record, error) {
	if b.lines == nil {
		comp, err := b.p.readRecords(b.e)
		if err != nil {
			return nil, err
		}
		lines, err := b.p.decodeRecords(b.e, b.m, comp, want, dec)
		if err != nil {
			return nil, err
		}
		b.lines = lines
	}
	return b.lines, nil
}
