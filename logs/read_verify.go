package logs

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"
)

// msgScratch reads the times and messages of blocks a query only counts: blocks none of
// whose lines can enter the page, whose candidate lines are verified (or only placed in
// time) and then forgotten. Every block reuses the same buffers, so counting a phrase's
// total over hundreds of blocks allocates nothing per block; partition.readMessages
// allocates a block's buffers anew because a page may keep them.
type msgScratch struct {
	comp, raw []byte
	m         blockMessages
}

// read reads, checks and decodes e's times and messages into s; s.m is valid until the
// next read. The checks and errors are partition.readMessages'.
func (s *msgScratch) read(p *partition, e blockEntry, dec *zstd.Decoder) error {
	n := int(e.msgSize)
	s.comp = slices.Grow(s.comp[:0], n)[:n]
	if _, err := p.data.ReadAt(s.comp, int64(e.off)+int64(e.bloomSize+e.dictSize)); err != nil {
		return fmt.Errorf("read block %d messages of %s: %w", e.seq, p.dir, err)
	}
	if crc32.Checksum(s.comp, castagnoli) != e.msgCRC {
		return fmt.Errorf("read block %d messages of %s: checksum mismatch", e.seq, p.dir)
	}
	raw, err := dec.DecodeAll(s.comp, s.raw[:0])
	if err != nil {
		return fmt.Errorf("decompress block %d messages of %s: %w", e.seq, p.dir, err)
	}
	s.raw = raw
	if err := decodeMessagesInto(raw, &s.m); err != nil || len(s.m.times) != int(e.lines) {
		return fmt.Errorf("decode block %d messages of %s: %w", e.seq, p.dir, errCorrupt)
	}
	return nil
}

// decodeMessagesInto is decodeMessages reusing m's slices, with the varints read in place:
// it runs over every line of every block a query counts.
func decodeMessagesInto(raw []byte, m *blockMessages) error {
	n, k := binary.Uvarint(raw)
	if k <= 0 || n > uint64(len(raw)) {
		return errCorrupt
	}
	pos := k
	m.times = slices.Grow(m.times[:0], int(n))[:n]
	m.msgs = slices.Grow(m.msgs[:0], int(n))[:n]
	prev := int64(0)
	for i := range m.times {
		d, k := binary.Varint(raw[pos:])
		if k <= 0 {
			return errCorrupt
		}
		pos += k
		prev += d
		m.times[i] = prev
	}
	for i := range m.msgs {
		var l uint64
		if pos < len(raw) && raw[pos] < 0x80 {
			l, k = uint64(raw[pos]), 1 // nearly every message is shorter than 128 bytes
		} else if l, k = binary.Uvarint(raw[pos:]); k <= 0 {
			return errCorrupt
		}
		pos += k
		if l > uint64(len(raw)-pos) {
			return errCorrupt
		}
		m.msgs[i] = bytesString(raw[pos : pos+int(l) : pos+int(l)])
		pos += int(l)
	}
	if pos != len(raw) {
		return errCorrupt
	}
	return nil
}

// lineCounter counts the lines of blocks that are only counted; each goroutine counting
// blocks has its own.
type lineCounter struct {
	sc  msgScratch
	lv  lineView
	rec Record
}

// count returns how many lines of bits fall in [start, end), pass keep (if set) and, unless
// exact, pass cq's matcher, which sees their time and message only (cq.msgOnly or exact).
func (c *lineCounter) count(p *partition, e blockEntry, bits lineBits, exact bool, cq *compiledQuery, start, end int64, keep func(lineKey) bool, dec *zstd.Decoder) (int, error) {
	if err := c.sc.read(p, e, dec); err != nil {
		return 0, err
	}
	m := &c.sc.m
	n := 0
	bits.each(func(i int) bool {
		t := m.times[i]
		if t < start || t >= end {
			return true
		}
		if keep != nil && !keep(lineKey{t: t, part: p.key, seq: e.seq, idx: uint32(i)}) {
			return true
		}
		if !exact {
			c.rec = Record{Time: time.Unix(0, t).UTC(), Message: m.msgs[i]}
			c.lv.reset(&c.rec)
			if !cq.match(&c.lv) {
				return true
			}
		}
		n++
		return true
	})
	return n, nil
}

// evalBlock is a candidate block with the lines its dictionary selects.
type evalBlock struct {
	e     blockEntry
	bits  lineBits
	exact bool
}

// evalCandidate reads e's dictionary (into buf, grown as needed) and selects its lines.
func evalCandidate(p *partition, e blockEntry, cq *compiledQuery, buf []byte) (evalBlock, []byte, error) {
	bh, buf, err := p.readHead(e, buf)
	if err != nil {
		return evalBlock{}, buf, err
	}
	bits, exact := cq.eval.lines(&bh)
	return evalBlock{e, bits, exact}, buf, nil
}

// countWorkers is how many blocks a query counts at once, and countBatchLen how many
// blocks a batch holds at most: a few a goroutine, so that they rarely wait for each other.
func countWorkers() int { return min(runtime.GOMAXPROCS(0), 4) }

const countBatchLen = 8

// countBatch adds the lines of batch (blocks none of whose lines can reach the page, in
// query order) to total as query does block by block: an exact block inside [start, end)
// by its dictionary; an inexact one not at all once total reached totalLimit, the total then
// a lower bound; the others by counting their lines, len(counters) goroutines at once, each
// with its counter. A block counted and then found past totalLimit is wasted work (fewer
// than len(batch) blocks a query), never a change in the answer.
func (s *Store) countBatch(p *partition, batch []evalBlock, counters []lineCounter, cq *compiledQuery, start, end int64, total, totalLimit int) (int, bool, error) {
	byDict := func(b *evalBlock) bool { return b.exact && b.e.minT >= start && b.e.maxT < end }
	skipped := func(b *evalBlock, total int) bool { return !b.exact && totalLimit > 0 && total >= totalLimit }
	type result struct {
		n   int
		err error
	}
	res := make([]result, len(batch))
	var jobs []int
	for i := range batch {
		// total only grows: a block skipped now is skipped below too.
		if b := &batch[i]; !byDict(b) && !skipped(b, total) {
			jobs = append(jobs, i)
		}
	}
	var taken atomic.Int32
	work := func(c *lineCounter) {
		for {
			j := int(taken.Add(1)) - 1
			if j >= len(jobs) {
				return
			}
			i := jobs[j]
			b := &batch[i]
			res[i].n, res[i].err = c.count(p, b.e, b.bits, b.exact, cq, start, end, nil, s.dec)
		}
	}
	var wg sync.WaitGroup
	for w := 1; w < min(len(counters), len(jobs)); w++ {
		wg.Go(func() { work(&counters[w]) })
	}
	work(&counters[0])
	wg.Wait()
	lowerBound := false
	for i := range batch {
		switch b := &batch[i]; {
		case byDict(b):
			total += b.bits.count()
		case skipped(b, total):
			lowerBound = true
		case res[i].err != nil:
			return total, lowerBound, res[i].err
		default:
			total += res[i].n
		}
	}
	return total, lowerBound, nil
}
