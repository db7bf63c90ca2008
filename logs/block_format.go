package logs

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/klauspost/compress/zstd"
)

// A flushed block is four sections, back to back in blocks.dat:
//
//	bloom    the bloom filter of the terms found in one line only (bloom.go)
//	dict     the dictionary of the other terms with their lines (block_dict.go)
//	messages zstd: line count, line times (varint deltas, Unix ns), then each message
//	records  the lines' trace and span ids as binary (length-prefixed), then zstd: per line,
//	         Raw with its message and ids cut out, then service, level, trace id, span id
//	         and the fields, each string a reference into Raw when Raw holds it
//
// bloom and dict (the "head") are read by every query that considers the block; messages
// only when lines must be placed in time or a message clause verified (phrases, wildcards);
// records only for the lines a query returns or must verify on other fields. Cutting the
// message out of Raw and referencing Raw for the other values keeps each byte of a line
// stored once: the record encoding the WAL uses (Raw next to the parsed values) compressed
// to 89 B/line, Raw alone to 55 B/line (loadgen lines, zstd default level).

// blockSections are a block's encoded sections.
type blockSections struct {
	bloom, dict, msgs, recs []byte
}

// blockWriter encodes blocks; it is reused by the flusher (one flush at a time).
type blockWriter struct {
	dict dictBuilder
	buf  []byte
	ids  []byte
}

// encode returns the block's sections (msgs and recs compressed with enc) and its terms.
func (w *blockWriter) encode(lines []Record, enc *zstd.Encoder) (blockSections, blockTerms) {
	terms := w.dict.build(lines)
	var s blockSections
	s.bloom, s.dict = terms.bloom, terms.dict

	b := w.buf[:0]
	b = binary.AppendUvarint(b, uint64(len(lines)))
	prev := int64(0)
	for i := range lines {
		t := lines[i].Time.UnixNano()
		b = binary.AppendVarint(b, t-prev)
		prev = t
	}
	for i := range lines {
		b = appendString(b, lines[i].Message)
	}
	s.msgs = enc.EncodeAll(b, nil)

	b = b[:0]
	ids := w.ids[:0]
	for i := range lines {
		b, ids = appendLineRecord(b, ids, &lines[i])
	}
	s.recs = binary.AppendUvarint(nil, uint64(len(ids)))
	s.recs = append(s.recs, ids...)
	s.recs = enc.EncodeAll(b, s.recs)
	w.buf, w.ids = b[:0], ids[:0]
	return s, terms
}

// A line's entry in the records section is Raw with its message and its trace and span ids
// cut out, then references for the other values. Ids are random hex: cut out and stored as
// binary in a column ahead of the compressed records, they take half the bytes they took as
// compressed text (the hex also spoiled zstd's literal coding of the text around it).
//
//	cut count, then per cut (by position in Raw): kind (0 message, 1 hex id), position in the
//	cut Raw minus the previous cut's position, for an id its hex length; then the cut Raw
//	(length-prefixed), then the references (see ref below).

type rawCut struct{ pos, n, kind int }

// appendLineRecord appends r's record entry to b and its cut ids, as binary, to ids.
func appendLineRecord(b, ids []byte, r *Record) ([]byte, []byte) {
	raw := unsafe.String(unsafe.SliceData(r.Raw), len(r.Raw))
	var cuts [3]rawCut
	nc := 0
	add := func(v string, kind int) {
		if v == "" || kind == 1 && (len(v)%2 != 0 || !isLowerHex(v)) {
			return
		}
		i := strings.Index(raw, v)
		if i < 0 {
			return
		}
		for _, c := range cuts[:nc] {
			if i < c.pos+c.n && c.pos < i+len(v) {
				return // overlaps an earlier cut
			}
		}
		cuts[nc] = rawCut{i, len(v), kind}
		nc++
	}
	add(r.Message, 0)
	add(r.TraceID, 1)
	add(r.SpanID, 1)
	cs := cuts[:nc]
	slices.SortFunc(cs, func(a, b rawCut) int { return a.pos - b.pos })
	b = binary.AppendUvarint(b, uint64(nc))
	removed, prev := 0, 0
	cutLen := len(raw)
	for _, c := range cs {
		pos := c.pos - removed
		b = binary.AppendUvarint(b, uint64(c.kind))
		b = binary.AppendUvarint(b, uint64(pos-prev))
		if c.kind == 1 {
			b = binary.AppendUvarint(b, uint64(c.n))
			// Cannot fail: isLowerHex checked the id, and Raw holds the same bytes.
			ids, _ = hex.AppendDecode(ids, r.Raw[c.pos:c.pos+c.n])
		}
		prev = pos
		removed += c.n
		cutLen -= c.n
	}
	b = binary.AppendUvarint(b, uint64(cutLen))
	at := 0
	for _, c := range cs {
		b = append(b, raw[at:c.pos]...)
		at = c.pos + c.n
	}
	b = append(b, raw[at:]...)
	hint := 0
	ref := func(s string) {
		if s == "" {
			b = binary.AppendUvarint(b, 0)
			return
		}
		i := strings.Index(raw[hint:], s)
		if i >= 0 {
			i += hint
		} else {
			i = strings.Index(raw, s)
		}
		if i < 0 {
			b = binary.AppendUvarint(b, uint64(len(s))<<1)
			b = append(b, s...)
			return
		}
		// The offset is taken from the end of the previous reference: values come in the
		// order Raw has them, so the gaps (`","span_id":"`) repeat from line to line and
		// compress to almost nothing, where absolute offsets shift with the message.
		b = binary.AppendUvarint(b, uint64(zigzag(int64(i-hint)))<<1|1)
		b = binary.AppendUvarint(b, uint64(len(s)))
		hint = i + len(s)
	}
	ref(r.Service)
	ref(r.Level)
	ref(r.TraceID)
	ref(r.SpanID)
	b = binary.AppendUvarint(b, uint64(len(r.Fields)))
	for _, f := range r.Fields {
		ref(f.Key)
		ref(f.Value)
		b = append(b, byte(f.Kind))
	}
	return b, ids
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// blockMessages is a decoded messages section.
type blockMessages struct {
	times []int64
	msgs  []string
}

func decodeMessages(raw []byte) (blockMessages, error) {
	d := recordDecoder{b: raw}
	n := d.uvarint()
	if d.err != nil || n > uint64(len(raw)) {
		return blockMessages{}, errCorrupt
	}
	m := blockMessages{times: make([]int64, n), msgs: make([]string, n)}
	prev := int64(0)
	for i := range m.times {
		prev += d.varint()
		m.times[i] = prev
	}
	// One string for every message: they alias the decompressed buffer, which is never
	// written again.
	for i := range m.msgs {
		m.msgs[i] = bytesString(d.bytes())
	}
	if d.err != nil || len(d.b) != 0 {
		return blockMessages{}, errCorrupt
	}
	return m, nil
}

func bytesString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// decodeLineRecords decodes a records section into records, with the times and messages of
// m. Raw and every string alias one buffer per block. Only the lines in want are decoded
// (nil: all); the others are left zero.
func decodeLineRecords(raw, ids []byte, m blockMessages, want lineBits) ([]Record, error) {
	n := len(m.times)
	recs := make([]Record, n)
	d := recordDecoder{b: raw}
	// Rebuilt Raw lines go into one buffer; it is sized first so that it never moves.
	size := 2 * len(ids)
	for i := range m.msgs {
		size += len(m.msgs[i])
	}
	buf := make([]byte, 0, len(raw)+size)
	nf := 0
	for i := range recs {
		var cuts [3]rawCut
		nc := d.uvarint()
		if nc > 3 {
			return nil, fmt.Errorf("line %d: %w", i, errCorrupt)
		}
		pos := 0
		for j := range cuts[:nc] {
			c := &cuts[j]
			c.kind = int(d.uvarint())
			pos += int(d.uvarint())
			c.pos = pos
			if c.kind == 1 {
				c.n = int(d.uvarint())
				if c.n/2 > len(ids) || c.n%2 != 0 {
					return nil, fmt.Errorf("line %d: %w", i, errCorrupt)
				}
			}
		}
		rest := d.bytes()
		if d.err != nil {
			return nil, fmt.Errorf("line %d: %w", i, d.err)
		}
		if want != nil && !want.has(i) {
			for _, c := range cuts[:nc] {
				ids = ids[c.n/2:]
			}
			if err := d.skipRefs(); err != nil {
				return nil, fmt.Errorf("line %d: %w", i, err)
			}
			continue
		}
		r := &recs[i]
		r.Time = time.Unix(0, m.times[i]).UTC()
		r.Message = m.msgs[i]
		start, at := len(buf), 0
		for _, c := range cuts[:nc] {
			if c.pos < at || c.pos > len(rest) {
				return nil, fmt.Errorf("line %d: %w", i, errCorrupt)
			}
			buf = append(buf, rest[at:c.pos]...)
			at = c.pos
			if c.kind == 0 {
				buf = append(buf, r.Message...)
			} else {
				buf = hex.AppendEncode(buf, ids[:c.n/2])
				ids = ids[c.n/2:]
			}
		}
		buf = append(buf, rest[at:]...)
		line := buf[start:len(buf):len(buf)]
		r.Raw = line
		ls := bytesString(line)
		hint := int64(0)
		str := func() string {
			x := d.uvarint()
			switch {
			case d.err != nil || x == 0:
				return ""
			case x&1 == 1:
				off, l := hint+unzigzag(x>>1), int64(d.uvarint())
				if off < 0 || l < 0 || off+l > int64(len(ls)) {
					d.err = errCorrupt
					return ""
				}
				hint = off + l
				return ls[off : off+l]
			}
			return bytesString(d.take(x >> 1))
		}
		r.Service, r.Level, r.TraceID, r.SpanID = str(), str(), str(), str()
		k := d.uvarint()
		if d.err != nil || k > uint64(len(d.b)) {
			return nil, fmt.Errorf("line %d: %w", i, errCorrupt)
		}
		if k > 0 {
			r.Fields = make([]Field, k)
			nf += int(k)
			for j := range r.Fields {
				r.Fields[j].Key = str()
				r.Fields[j].Value = str()
				kind := d.take(1)
				if d.err != nil {
					return nil, fmt.Errorf("line %d: %w", i, d.err)
				}
				r.Fields[j].Kind = FieldKind(kind[0])
			}
		}
		if d.err != nil {
			return nil, fmt.Errorf("line %d: %w", i, d.err)
		}
	}
	if len(d.b) != 0 {
		return nil, fmt.Errorf("%d trailing bytes: %w", len(d.b), errCorrupt)
	}
	return recs, nil
}

// skipRefs skips the references of one line of a records section.
func (d *recordDecoder) skipRefs() error {
	skip := func() {
		switch x := d.uvarint(); {
		case x&1 == 1:
			d.uvarint()
		case x > 0:
			d.take(x >> 1)
		}
	}
	skip()
	skip()
	skip()
	skip()
	k := d.uvarint()
	if d.err == nil && k > uint64(len(d.b)) {
		return errCorrupt
	}
	for range k {
		skip()
		skip()
		d.take(1)
	}
	return d.err
}

// take returns the next n bytes.
func (d *recordDecoder) take(n uint64) []byte {
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = errCorrupt
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

// blockHead is a block's dictionary, read for a query, and its bloom filter, read only if
// a query term is missing from the dictionary.
type blockHead struct {
	p     *partition
	e     blockEntry
	dict  blockDict
	bloom []byte
	err   error // from reading the bloom filter
}

func (h *blockHead) lines() int { return h.dict.n }

// mayHold reports whether the bloom filter may hold the term hashed to th. A filter that
// cannot be read or checked answers yes (the lines are then verified) and records why.
func (h *blockHead) mayHold(th uint64) bool {
	if h.e.bloomSize == 0 {
		return false
	}
	if h.bloom == nil && h.err == nil {
		b := make([]byte, h.e.bloomSize)
		if _, err := h.p.data.ReadAt(b, int64(h.e.off)); err != nil {
			h.err = fmt.Errorf("read block %d bloom filter of %s: %w", h.e.seq, h.p.dir, err)
		} else if crc32.Checksum(b, castagnoli) != h.e.bloomCRC {
			h.err = fmt.Errorf("read block %d bloom filter of %s: checksum mismatch", h.e.seq, h.p.dir)
		} else {
			h.bloom = b
		}
	}
	if h.err != nil {
		return true
	}
	return bloomHas(h.bloom, th)
}

// readHead reads and checks e's dictionary into buf (grown as needed).
func (p *partition) readHead(e blockEntry, buf []byte) (blockHead, []byte, error) {
	n := int(e.dictSize)
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := p.data.ReadAt(buf, int64(e.off)+int64(e.bloomSize)); err != nil {
		return blockHead{}, buf, fmt.Errorf("read block %d dictionary of %s: %w", e.seq, p.dir, err)
	}
	if crc32.Checksum(buf, castagnoli) != e.dictCRC {
		return blockHead{}, buf, fmt.Errorf("read block %d dictionary of %s: checksum mismatch", e.seq, p.dir)
	}
	d, err := parseDict(buf, int(e.lines))
	if err != nil {
		return blockHead{}, buf, fmt.Errorf("read block %d dictionary of %s: %w", e.seq, p.dir, err)
	}
	return blockHead{p: p, e: e, dict: d}, buf, nil
}

// readMessages reads, checks and decodes e's times and messages.
func (p *partition) readMessages(e blockEntry, dec *zstd.Decoder) (blockMessages, error) {
	b := make([]byte, e.msgSize)
	if _, err := p.data.ReadAt(b, int64(e.off)+int64(e.bloomSize+e.dictSize)); err != nil {
		return blockMessages{}, fmt.Errorf("read block %d messages of %s: %w", e.seq, p.dir, err)
	}
	if crc32.Checksum(b, castagnoli) != e.msgCRC {
		return blockMessages{}, fmt.Errorf("read block %d messages of %s: checksum mismatch", e.seq, p.dir)
	}
	raw, err := dec.DecodeAll(b, nil)
	if err != nil {
		return blockMessages{}, fmt.Errorf("decompress block %d messages of %s: %w", e.seq, p.dir, err)
	}
	m, err := decodeMessages(raw)
	if err != nil || len(m.times) != int(e.lines) {
		return blockMessages{}, fmt.Errorf("decode block %d messages of %s: %w", e.seq, p.dir, errCorrupt)
	}
	return m, nil
}

// readRecords reads e's compressed records section. It carries no CRC of its own: zstd's
// content checksum, checked when it is decoded, covers it.
func (p *partition) readRecords(e blockEntry) ([]byte, error) {
	head := e.bloomSize + e.dictSize + e.msgSize
	b := make([]byte, e.size-head)
	if _, err := p.data.ReadAt(b, int64(e.off)+int64(head)); err != nil {
		return nil, fmt.Errorf("read block %d records of %s: %w", e.seq, p.dir, err)
	}
	return b, nil
}

// readBlock reads, checks and decodes every line of one block.
func (p *partition) readBlock(e blockEntry, dec *zstd.Decoder) ([]Record, error) {
	m, err := p.readMessages(e, dec)
	if err != nil {
		return nil, err
	}
	recs, err := p.readRecords(e)
	if err != nil {
		return nil, err
	}
	return p.decodeRecords(e, m, recs, nil, dec)
}

// decodeRecords decodes the lines in want (nil: all) of e's compressed records section.
func (p *partition) decodeRecords(e blockEntry, m blockMessages, recs []byte, want lineBits, dec *zstd.Decoder) ([]Record, error) {
	rd := recordDecoder{b: recs}
	ids := rd.bytes()
	if rd.err != nil {
		return nil, fmt.Errorf("decode block %d of %s: %w", e.seq, p.dir, rd.err)
	}
	raw, err := dec.DecodeAll(rd.b, nil)
	if err != nil {
		return nil, fmt.Errorf("decompress block %d of %s: %w", e.seq, p.dir, err)
	}
	out, err := decodeLineRecords(raw, ids, m, want)
	if err != nil {
		return nil, fmt.Errorf("decode block %d of %s: %w", e.seq, p.dir, err)
	}
	return out, nil
}

func zigzag(v int64) uint64   { return uint64(v<<1) ^ uint64(v>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }
