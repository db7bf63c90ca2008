package logs

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// scanValues calls fn with the time and the first value of field by ("" when by is empty or
// the line has none) of every line in [start, end) that cq matches, in no particular order.
// It is Volume's scan: a block's lines are placed in time from its messages section and
// given their value from its dictionary; records are decoded only for the lines the
// dictionary leaves open (values in the bloom filter, several values, lines to verify).
func (s *Store) scanValues(ctx context.Context, cq compiledQuery, start, end int64, by string, fn func(t int64, val string)) error {
	if start >= end || cq.none {
		return nil
	}
	if s.closed.Load() {
		return ErrClosed
	}
	mems, parts := s.snapshot(start, end, scanAny)
	var lv lineView
	value := func(r *Record) string {
		val := ""
		if by != "" {
			lv.reset(r)
			lv.anyValue(by, func(x string, _ FieldKind) bool { val = x; return true })
		}
		return val
	}
	for _, m := range mems {
		if err := ctx.Err(); err != nil {
			return err
		}
		for i := range m.lines {
			r := &m.lines[i]
			if t := r.Time.UnixNano(); t >= start && t < end {
				lv.reset(r)
				if cq.match(&lv) {
					fn(t, value(r))
				}
			}
		}
	}
	// A field the dictionary cannot answer for: none, or one whose values are not indexed.
	noValues := by == "" || !dictHoldsValues(by)
	for _, ps := range parts {
		if err := s.scanPartitionValues(ctx, ps, cq, start, end, by, noValues, value, fn); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) scanPartitionValues(ctx context.Context, ps partSnap, cq compiledQuery, start, end int64, by string, noValues bool, value func(*Record) string, fn func(int64, string)) error {
	var lv lineView
	return s.eachMatchingBlock(ctx, ps, cq, start, end, func(p *partition, e blockEntry, h *blockHead, bits lineBits, exact bool) error {
		pb := &pendingBlock{p: p, e: e}
		if err := pb.readMessages(s.dec); err != nil {
			return err
		}
		n := int(e.lines)
		var (
			lines []Record
			err   error
		)
		if !exact {
			if !cq.msgOnly {
				if lines, err = pb.records(bits, s.dec); err != nil {
					return err
				}
			}
			var partial Record
			bits.each(func(i int) bool {
				if lines != nil {
					lv.reset(&lines[i])
				} else {
					partial = Record{Time: time.Unix(0, pb.m.times[i]).UTC(), Message: pb.m.msgs[i]}
					lv.reset(&partial)
				}
				if !cq.match(&lv) {
					bits[i>>6] &^= 1 << (i & 63)
				}
				return true
			})
		}
		vals := make([]string, n)
		if !noValues && lines == nil {
			open := dictValues(&h.dict, by, bits, vals)
			if !open.empty() {
				if lines, err = pb.records(open, s.dec); err != nil {
					return err
				}
				open.each(func(i int) bool { vals[i] = value(&lines[i]); return true })
			}
		} else if !noValues {
			bits.each(func(i int) bool { vals[i] = value(&lines[i]); return true })
		}
		bits.each(func(i int) bool {
			if t := pb.m.times[i]; t >= start && t < end {
				fn(t, vals[i])
			}
			return true
		})
		return nil
	})
}

// eachMatchingBlock calls fn for every block of ps that may hold lines matching cq in
// [start, end), with the lines its head finds (exact: no line needs checking against its
// record), holding the partition open meanwhile.
func (s *Store) eachMatchingBlock(ctx context.Context, ps partSnap, cq compiledQuery, start, end int64, fn func(p *partition, e blockEntry, h *blockHead, bits lineBits, exact bool) error) error {
	p := ps.p
	p.useMu.RLock()
	defer p.useMu.RUnlock()
	if p.dropped {
		return nil
	}
	cands, err := s.candidates(p, ps.entries, cq, start, end, scanAny)
	if err != nil {
		return err
	}
	var buf []byte
	for _, e := range cands {
		if err := ctx.Err(); err != nil {
			return err
		}
		var h blockHead
		if h, buf, err = p.readHead(e, buf); err != nil {
			return err
		}
		bits, exact := cq.eval.lines(&h)
		if bits.empty() {
			continue
		}
		if err := fn(p, e, &h, bits, exact); err != nil {
			return err
		}
	}
	return nil
}

// dictHoldsValues reports whether a block's dictionary indexes field's values: every
// non-reserved field, and the reserved ones kept as keywords.
func dictHoldsValues(field string) bool {
	return !reservedField(field) || field == fieldLevel || field == fieldService || field == fieldTraceID || field == fieldSpanID
}

// dictValues sets vals[i] to the value of field f of each line i in bits that holds exactly
// one value found in the dictionary, and returns the lines it cannot decide: those with
// several values (the first sent wins, which the dictionary does not record) and, if the
// field has values in the bloom filter, those it found no value for.
func dictValues(d *blockDict, f string, bits lineBits, vals []string) lineBits {
	n := d.n
	assigned, multi := newLineBits(n), newLineBits(n)
	fi, fd := d.field(f)
	if fd == nil {
		return multi
	}
	lo, hi := d.fieldRange(fi)
	post := newLineBits(n)
	for i := lo; i < hi; i++ {
		_, t, p := d.entry(i)
		clear(post)
		if orPostings(post, d.postings(p), n) != nil {
			return bits // unreadable: decide every line from its record
		}
		post.and(bits)
		term := string(t)
		post.each(func(l int) bool {
			if assigned.has(l) {
				multi.set(l)
			}
			assigned.set(l)
			vals[l] = term
			return true
		})
	}
	if fd.singletons > 0 {
		open := slices.Clone(bits)
		open.andNot(assigned)
		open.or(multi)
		return open
	}
	return multi
}

// scanFieldCounts adds to counts, per value of field name, the lines in [start, end) that cq
// matches holding it (a line counts once per distinct value), and returns how many lines
// matched. A block's counts come from its dictionary when the field has no value in its
// bloom filter; otherwise from its records.
func (s *Store) scanFieldCounts(ctx context.Context, cq compiledQuery, start, end int64, name string, counts map[string]int64) (int64, error) {
	if start >= end || cq.none {
		return 0, nil
	}
	if s.closed.Load() {
		return 0, ErrClosed
	}
	var lines int64
	mems, parts := s.snapshot(start, end, scanAny)
	var lv lineView
	var seen []string
	countRecord := func(r *Record) {
		lines++
		lv.reset(r)
		seen = seen[:0]
		lv.anyValue(name, func(x string, _ FieldKind) bool {
			if !slices.Contains(seen, x) {
				counts[x]++
				seen = append(seen, x)
			}
			return false
		})
	}
	for _, m := range mems {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		for i := range m.lines {
			r := &m.lines[i]
			if t := r.Time.UnixNano(); t >= start && t < end {
				lv.reset(r)
				if cq.match(&lv) {
					countRecord(r)
				}
			}
		}
	}
	noValues := !dictHoldsValues(name)
	for _, ps := range parts {
		err := s.eachMatchingBlock(ctx, ps, cq, start, end, func(p *partition, e blockEntry, h *blockHead, bits lineBits, exact bool) error {
			fi, fd := h.dict.field(name)
			fromDict := exact && (noValues || fd == nil || fd.singletons == 0)
			inside := e.minT >= start && e.maxT < end
			if !fromDict || !inside {
				// The block needs its lines' times, or its records.
				recs, err := p.readBlock(e, s.dec)
				if err != nil {
					return err
				}
				bits.each(func(i int) bool {
					r := &recs[i]
					if t := r.Time.UnixNano(); t < start || t >= end {
						return true
					}
					if !exact {
						lv.reset(r)
						if !cq.match(&lv) {
							return true
						}
					}
					countRecord(r)
					return true
				})
				return nil
			}
			lines += int64(bits.count())
			if noValues || fd == nil {
				return nil
			}
			lo, hi := h.dict.fieldRange(fi)
			post := newLineBits(int(e.lines))
			for i := lo; i < hi; i++ {
				_, t, pst := h.dict.entry(i)
				clear(post)
				if err := orPostings(post, h.dict.postings(pst), int(e.lines)); err != nil {
					return fmt.Errorf("read block %d dictionary of %s: %w", e.seq, p.dir, err)
				}
				post.and(bits)
				if c := post.count(); c > 0 {
					counts[string(t)] += int64(c)
				}
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
	}
	return lines, nil
}
