package logs

import (
	"fmt"
	"hash/crc32"
	"slices"

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

// decodeMessagesInto is decodeMessages reusing m's slices.
func decodeMessagesInto(raw []byte, m *blockMessages) error {
	d := recordDecoder{b: raw}
	n := d.uvarint()
	if d.err != nil || n > uint64(len(raw)) {
		return errCorrupt
	}
	m.times = slices.Grow(m.times[:0], int(n))[:n]
	m.msgs = slices.Grow(m.msgs[:0], int(n))[:n]
	prev := int64(0)
	for i := range m.times {
		prev += d.varint()
		m.times[i] = prev
	}
	for i := range m.msgs {
		m.msgs[i] = bytesString(d.bytes())
	}
	if d.err != nil || len(d.b) != 0 {
		return errCorrupt
	}
	return nil
}
