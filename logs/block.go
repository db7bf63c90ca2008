package logs

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"

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
	bytes   int
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
	return uint32(len(b.lines) - 1)
}

// blockEntry locates a flushed block. Its encoding in blocks.idx is 48 bytes, little
// endian: seq, offset (8 each), size, lines (4 each), first and last line time in Unix ns
// (8 each), CRC-32C of the block's bytes, CRC-32C of the 44 bytes before it.
type blockEntry struct {
	seq   uint64
	off   uint64
	size  uint32
	lines uint32
	minT  int64
	maxT  int64
	crc   uint32
}

const blockEntrySize = 48

func (e *blockEntry) appendTo(b []byte) []byte {
	start := len(b)
	b = binary.LittleEndian.AppendUint64(b, e.seq)
	b = binary.LittleEndian.AppendUint64(b, e.off)
	b = binary.LittleEndian.AppendUint32(b, e.size)
	b = binary.LittleEndian.AppendUint32(b, e.lines)
	b = binary.LittleEndian.AppendUint64(b, uint64(e.minT))
	b = binary.LittleEndian.AppendUint64(b, uint64(e.maxT))
	b = binary.LittleEndian.AppendUint32(b, e.crc)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b[start:], castagnoli))
}

func parseBlockEntry(b []byte) (blockEntry, bool) {
	if len(b) < blockEntrySize || crc32.Checksum(b[:44], castagnoli) != binary.LittleEndian.Uint32(b[44:]) {
		return blockEntry{}, false
	}
	return blockEntry{
		seq:   binary.LittleEndian.Uint64(b),
		off:   binary.LittleEndian.Uint64(b[8:]),
		size:  binary.LittleEndian.Uint32(b[16:]),
		lines: binary.LittleEndian.Uint32(b[20:]),
		minT:  int64(binary.LittleEndian.Uint64(b[24:])),
		maxT:  int64(binary.LittleEndian.Uint64(b[32:])),
		crc:   binary.LittleEndian.Uint32(b[40:]),
	}, true
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

func blockDocument(seq uint64, lines []Record) *document.Document {
	doc := document.NewDocument(docID(seq))
	msg := make(map[string]struct{})
	kw := make(map[string]map[string]struct{})
	num := make(map[string]numRange)
	addKW := func(f, v string) {
		if v == "" {
			return
		}
		m := kw[f]
		if m == nil {
			m = make(map[string]struct{})
			kw[f] = m
		}
		m[v] = struct{}{}
	}
	var minT, maxT int64
	for i := range lines {
		r := &lines[i]
		t := r.Time.UnixNano()
		if i == 0 || t < minT {
			minT = t
		}
		if i == 0 || t > maxT {
			maxT = t
		}
		tokenize(r.Message, func(tok string) { msg[tok] = struct{}{} })
		addKW(fieldLevel, r.Level)
		addKW(fieldService, r.Service)
		addKW(fieldTraceID, r.TraceID)
		addKW(fieldSpanID, r.SpanID)
		for _, f := range r.Fields {
			if reservedField(f.Key) {
				continue
			}
			addKW(f.Key, f.Value)
			if f.Kind == KindNumber {
				if x, err := strconv.ParseFloat(f.Value, 64); err == nil {
					r, ok := num[f.Key]
					if !ok {
						r = numRange{x, x}
					}
					num[f.Key] = numRange{min(r.lo, x), max(r.hi, x)}
				}
			}
		}
	}
	if len(msg) > 0 {
		var sb strings.Builder
		for tok := range msg {
			sb.WriteString(tok)
			sb.WriteByte('\n')
		}
		doc.AddField(document.NewTextFieldCustom(fieldMessage, nil, []byte(sb.String()), textIndexing, newlineAnalyzer{}))
	}
	for f, vals := range kw {
		for v := range vals {
			doc.AddField(document.NewTextFieldCustom(f, nil, []byte(v), textIndexing, nil))
		}
	}
	// A numeric field is indexed by its range in the block, not by every value: a block of
	// 1,000 lines can hold 1,000 distinct latencies, and bleve indexes each number as 16
	// prefix terms, which made indexing the memory hog of ingest (about 12x the raw bytes in
	// flight). A range query keeps the blocks whose [min, max] meets it; the per-line check
	// then decides exactly.
	for f, r := range num {
		doc.AddField(document.NewNumericFieldWithIndexingOptions(numMinField(f), nil, r.lo, numericIndexing))
		doc.AddField(document.NewNumericFieldWithIndexingOptions(numMaxField(f), nil, r.hi, numericIndexing))
	}
	doc.AddField(document.NewNumericFieldWithIndexingOptions(fieldMin, nil, float64(floorDiv(minT, 1e6)), numericIndexing))
	doc.AddField(document.NewNumericFieldWithIndexingOptions(fieldMax, nil, float64(floorDiv(maxT, 1e6)), numericIndexing))
	return doc
}
