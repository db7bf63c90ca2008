package traces

import (
	"bytes"
	"encoding/binary"
	"time"
)

// Key layout (all integers big-endian, so keys sort by bucket, then by the rest):
//
//	format:    '!' "format"                                          -> storeFormat
//	chunk:     's' bucket:4 traceID:16 chunkID:8                      -> spans of one trace (chunk_codec.go)
//	resource:  'r' bucket:4 hash:8                                    -> resource attributes (chunk_codec.go)
//	service:   'x' bucket:4 'S' service 0x00 start:8 traceID:16 chunkID:8 -> summary (summary.go)
//	names:     'x' bucket:4 'N' service 0x00 kind:1 name              -> empty
//
// bucket is the span's start time in hours since the Unix epoch. Every key of an hour sits
// between p|bucket and p|bucket+1 for p in 'r', 's', 'x', so retention drops an hour with
// three DeleteRanges.
//
// A chunk holds the spans of one trace that one WriteSpans call had in one hour; chunkID
// is a hash of their span ids, so a retried batch rewrites the same key. pebble is told
// that 's' bucket traceID is a chunk key's prefix (keyComparer), so every sstable has a
// Bloom filter of its traces and a trace lookup skips the tables without it. A trace is one
// short range per hour. A resource (the attributes other than service.name) is written once
// per hour under the hash of its encoding and referenced by hash from each chunk.
//
// The search index is one entry per chunk and service (not per span): start is the first
// span of that service in the chunk, and the summary holds the shortest and longest
// duration, whether a span failed, and a Bloom filter of the span names and tags. A search
// reads one service range backwards (newest first), skips entries the summary rules out,
// and checks the rest against the trace's spans.
const (
	prefixFormat   = '!'
	prefixResource = 'r'
	prefixSpan     = 's'
	prefixIndex    = 'x'

	kindService = 'S'
	kindNames   = 'N'

	bucketDuration = time.Hour
)

// bucketPrefixes are the key prefixes whose keys are grouped by hour bucket.
var bucketPrefixes = []byte{prefixResource, prefixSpan, prefixIndex}

func bucketOf(t time.Time) uint32 { return bucketOfNs(t.UnixNano()) }

func bucketOfNs(ns int64) uint32 {
	if ns < 0 {
		return 0
	}
	return uint32(ns / int64(bucketDuration))
}

func bucketStart(b uint32) time.Time { return time.Unix(0, int64(b)*int64(bucketDuration)).UTC() }

// chunkID identifies a chunk within its trace and hour.
type chunkID [8]byte

const chunkKeyLen = 1 + 4 + 16 + 8

func chunkKey(dst []byte, b uint32, t TraceID, c chunkID) []byte {
	dst = append(dst, prefixSpan)
	dst = binary.BigEndian.AppendUint32(dst, b)
	dst = append(dst, t[:]...)
	return append(dst, c[:]...)
}

func resourceKey(dst []byte, b uint32, hash uint64) []byte {
	dst = append(dst, prefixResource)
	dst = binary.BigEndian.AppendUint32(dst, b)
	return binary.BigEndian.AppendUint64(dst, hash)
}

// traceRange is the key range of one trace's chunks in bucket b.
func traceRange(b uint32, t TraceID) (lo, hi []byte) {
	lo = append(binary.BigEndian.AppendUint32([]byte{prefixSpan}, b), t[:]...)
	hi = bytes.Clone(lo)
	return lo, incrementKey(hi)
}

// bucketsRange is the key range of prefix p for buckets [from, to).
func bucketsRange(p byte, from, to uint32) (lo, hi []byte) {
	lo = binary.BigEndian.AppendUint32([]byte{p}, from)
	if to == 0 { // to overflowed
		return lo, []byte{p + 1}
	}
	return lo, binary.BigEndian.AppendUint32([]byte{p}, to)
}

// appendField appends a 0x00-terminated field; a 0x00 inside is replaced by 0x01 (a name
// with a NUL byte is indexed under a slightly different name, never confused with another
// field boundary).
func appendField(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == 0 {
			c = 1
		}
		dst = append(dst, c)
	}
	return append(dst, 0)
}

// indexPrefix is 'x' bucket kind fields..., the range of one index field in one bucket.
func indexPrefix(dst []byte, b uint32, kind byte, fields ...string) []byte {
	dst = append(dst, prefixIndex)
	dst = binary.BigEndian.AppendUint32(dst, b)
	dst = append(dst, kind)
	for _, f := range fields {
		dst = appendField(dst, f)
	}
	return dst
}

// indexSuffixLen is start:8 traceID:16 chunkID:8.
const indexSuffixLen = 8 + 16 + 8

func appendIndexSuffix(dst []byte, startNs int64, t TraceID, c chunkID) []byte {
	dst = binary.BigEndian.AppendUint64(dst, uint64(max(startNs, 0)))
	dst = append(dst, t[:]...)
	return append(dst, c[:]...)
}

// parseIndexSuffix reads the last indexSuffixLen bytes of an index key.
func parseIndexSuffix(key []byte) (startNs int64, t TraceID, ok bool) {
	if len(key) < indexSuffixLen {
		return 0, t, false
	}
	suf := key[len(key)-indexSuffixLen:]
	startNs = int64(binary.BigEndian.Uint64(suf))
	copy(t[:], suf[8:24])
	return startNs, t, true
}

func namesKey(dst []byte, b uint32, service string, kind SpanKind, name string) []byte {
	dst = indexPrefix(dst, b, kindNames, service)
	dst = append(dst, byte(kind))
	return append(dst, name...)
}

// incrementKey returns the smallest key greater than every key with prefix k (k is modified).
func incrementKey(k []byte) []byte {
	for i := len(k) - 1; i >= 0; i-- {
		k[i]++
		if k[i] != 0 {
			return k[:i+1]
		}
	}
	return nil // all 0xff: no upper bound
}
