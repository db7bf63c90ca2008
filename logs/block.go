package logs

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
	"unsafe"

	"github.com/blevesearch/bleve/v2/document"
	index "github.com/blevesearch/bleve_index_api"
)

// A block is up to Options.BlockLines lines of one service in one partition, in arrival
// order (a line's position is part of its id, so it never moves). On disk it is the zstd
// frame of encodeRecords(lines) in the partition's blocks.dat, located by a fixed-size entry
// in blocks.idx, and described to bleve by one document holding the union of its lines'
// message tokens, keyword values and numbers.

// memBlock is a block still in memory: open (taking lines), sealed, or being flushed.
// lines is appended to under Store.mu; readers copy the slice header under the read lock
// and may then read that prefix without it.
type memBlock struct {
	part    int64 // partition key: start, Unix seconds
	seq     uint64
	service string
	lines   []Record
	minT    int64
	maxT    int64
	bytes   int // raw line and message bytes (BlockBytes)
	mem     int // memory the lines hold (FlushBytes): see recordMem
}

// recordMem estimates the memory a buffered line holds: its WAL batch buffer (Raw and the
// parsed values, which mostly repeat Raw's bytes: about twice Raw) and its Record and Fields.
func recordMem(r *Record) int {
	return 2*len(r.Raw) + int(unsafe.Sizeof(Record{})) + len(r.Fields)*int(unsafe.Sizeof(Field{}))
}

func (b *memBlock) add(r Record) uint32 {
	t := r.Time.UnixNano()
	if len(b.lines) == 0 || t < b.minT {
		b.minT = t
	}
	if len(b.lines) == 0 || t > b.maxT {
		b.maxT = t
	}
	b.lines = append(b.lines, r)
	b.bytes += len(r.Raw) + len(r.Message)
	b.mem += recordMem(&r)
	return uint32(len(b.lines) - 1)
}

// blockEntry locates a flushed block (see block_format.go for its sections). Its encoding in
// blocks.idx is 72 bytes, little endian: seq, offset (8 each), size, bloom size, dictionary
// size, messages size, lines, CRC-32C of the dictionary (4 each), first and last line time in
// Unix ns (8 each), CRC-32C of the messages, of the bloom filter, 4 reserved bytes, CRC-32C of
// the 68 bytes before it. The records section is covered by zstd's content checksum. Each
// section has its own check because queries read them separately.
type blockEntry struct {
	seq       uint64
	off       uint64
	size      uint32
	bloomSize uint32
	dictSize  uint32
	msgSize   uint32
	lines     uint32
	dictCRC   uint32
	minT      int64
	maxT      int64
	msgCRC    uint32
	bloomCRC  uint32
}

const blockEntrySize = 72

func (e *blockEntry) appendTo(b []byte) []byte {
	start := len(b)
	b = binary.LittleEndian.AppendUint64(b, e.seq)
	b = binary.LittleEndian.AppendUint64(b, e.off)
	for _, v := range [...]uint32{e.size, e.bloomSize, e.dictSize, e.msgSize, e.lines, e.dictCRC} {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	b = binary.LittleEndian.AppendUint64(b, uint64(e.minT))
	b = binary.LittleEndian.AppendUint64(b, uint64(e.maxT))
	b = binary.LittleEndian.AppendUint32(b, e.msgCRC)
	b = binary.LittleEndian.AppendUint32(b, e.bloomCRC)
	b = binary.LittleEndian.AppendUint32(b, 0)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b[start:], castagnoli))
}

func parseBlockEntry(b []byte) (blockEntry, bool) {
	if len(b) < blockEntrySize || crc32.Checksum(b[:68], castagnoli) != binary.LittleEndian.Uint32(b[68:]) {
		return blockEntry{}, false
	}
	u32 := func(off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }
	e := blockEntry{
		seq:  binary.LittleEndian.Uint64(b),
		off:  binary.LittleEndian.Uint64(b[8:]),
		size: u32(16), bloomSize: u32(20), dictSize: u32(24), msgSize: u32(28), lines: u32(32), dictCRC: u32(36),
		minT:   int64(binary.LittleEndian.Uint64(b[40:])),
		maxT:   int64(binary.LittleEndian.Uint64(b[48:])),
		msgCRC: u32(56), bloomCRC: u32(60),
	}
	if uint64(e.bloomSize)+uint64(e.dictSize)+uint64(e.msgSize) > uint64(e.size) {
		return blockEntry{}, false
	}
	return e, true
}

// docID is a block's bleve document id: its seq in fixed-width hex, so ids sort by seq.
func docID(seq uint64) string { return fmt.Sprintf("%016x", seq) }

func parseDocID(id string) (uint64, error) { return strconv.ParseUint(id, 16, 64) }

// Indexing options: terms only — no stored fields, term vectors or doc values.
const (
	textIndexing    = index.IndexField | index.SkipFreqNorm
	numericIndexing = index.IndexField
)

// blockDocument builds the bleve document describing a block's lines.
// numRange is the smallest and largest value of a numeric field in one block.
type numRange struct{ lo, hi float64 }

// numMinField and numMaxField name the block-document fields holding a numeric field's range.
// The prefix cannot clash with a user's field: reservedField refuses it.
func numMinField(f string) string { return numRangePrefix + "min." + f }
func numMaxField(f string) string { return numRangePrefix + "max." + f }

const numRangePrefix = "_vigil_range."

// fieldsField is the block-document field listing the names of the fields present in the
// block: a field whose values are all in the bloom filter (trace_id) has no other term.
const fieldsField = "_vigil_fields"

// blockDocument builds the bleve document describing a block: the terms found in two or
// more of its lines, the names of its fields, each numeric field's range and the block's
// first and last line time. Terms found in one line only are in the block's bloom filter.
func blockDocument(seq uint64, t *blockTerms, minT, maxT int64) *document.Document {
	doc := document.NewDocument(docID(seq))
	var sb strings.Builder
	for _, k := range t.shared {
		if k.field == fieldMessage {
			sb.WriteString(k.term)
			sb.WriteByte('\n')
			continue
		}
		doc.AddField(document.NewTextFieldCustom(k.field, nil, []byte(k.term), textIndexing, nil))
	}
	if sb.Len() > 0 {
		doc.AddField(document.NewTextFieldCustom(fieldMessage, nil, []byte(sb.String()), textIndexing, newlineAnalyzer{}))
	}
	for _, f := range t.fields {
		doc.AddField(document.NewTextFieldCustom(fieldsField, nil, []byte(f), textIndexing, nil))
	}
	// A numeric field is indexed by its range in the block, not by every value: a block of
	// 1,000 lines can hold 1,000 distinct latencies, and bleve indexes each number as 16
	// prefix terms. A range query keeps the blocks whose [min, max] meets it; the per-line
	// check then decides exactly.
	for f, r := range t.num {
		doc.AddField(document.NewNumericFieldWithIndexingOptions(numMinField(f), nil, r.lo, numericIndexing))
		doc.AddField(document.NewNumericFieldWithIndexingOptions(numMaxField(f), nil, r.hi, numericIndexing))
	}
	doc.AddField(document.NewNumericFieldWithIndexingOptions(fieldMin, nil, float64(floorDiv(minT, 1e6)), numericIndexing))
	doc.AddField(document.NewNumericFieldWithIndexingOptions(fieldMax, nil, float64(floorDiv(maxT, 1e6)), numericIndexing))
	return doc
}
