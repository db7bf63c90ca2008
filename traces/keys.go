package traces

import (
	"bytes"
	"encoding/binary"
	"time"
)

// Key layout (all integers big-endian, so keys sort by bucket, then by the rest):
//
//	span:   's' bucket:4 traceID:16 spanID:8                        -> span record (span_codec.go)
//	index:  'x' bucket:4 kind:1 field... 0x00 start:8 traceID:16 spanID:8 -> duration uvarint, status:1
//	names:  'x' bucket:4 'N' service 0x00 kind:1 name               -> empty
//
// bucket is the span's start time in hours since the Unix epoch. Every key of an hour sits
// between 's'|bucket and 's'|bucket+1 or 'x'|bucket and 'x'|bucket+1, so retention drops an
// hour with two DeleteRanges. Index kinds:
//
//	'S' service                    every span of a service
//	'O' service 0x00 name          every span of an operation
//	'T' service 0x00 key 0x00 value  every span with that attribute (span or resource)
//
// A search reads one index range backwards (newest first) and checks the other conditions
// with point reads of the keys they would have (all parts of an index key but the field are
// known from the driving entry), so it never reads span records it will not return.
const (
	prefixSpan  = 's'
	prefixIndex = 'x'

	kindService = 'S'
	kindOp      = 'O'
	kindTag     = 'T'
	kindNames   = 'N'

	bucketDuration = time.Hour
)

func bucketOf(t time.Time) uint32 {
	ns := t.UnixNano()
	if ns < 0 {
		return 0
	}
	return uint32(ns / int64(bucketDuration))
}

func bucketStart(b uint32) time.Time { return time.Unix(0, int64(b)*int64(bucketDuration)).UTC() }

func spanKey(dst []byte, b uint32, t TraceID, s SpanID) []byte {
	dst = append(dst, prefixSpan)
	dst = binary.BigEndian.AppendUint32(dst, b)
	dst = append(dst, t[:]...)
	return append(dst, s[:]...)
}

// traceRange is the key range of one trace's spans in bucket b.
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

// indexSuffixLen is start:8 traceID:16 spanID:8.
const indexSuffixLen = 8 + 16 + 8

func appendIndexSuffix(dst []byte, start time.Time, t TraceID, s SpanID) []byte {
	dst = binary.BigEndian.AppendUint64(dst, uint64(max(start.UnixNano(), 0)))
	dst = append(dst, t[:]...)
	return append(dst, s[:]...)
}

// parseIndexSuffix reads the last indexSuffixLen bytes of an index key.
func parseIndexSuffix(key []byte) (startNs int64, t TraceID, s SpanID, ok bool) {
	if len(key) < indexSuffixLen {
		return 0, t, s, false
	}
	suf := key[len(key)-indexSuffixLen:]
	startNs = int64(binary.BigEndian.Uint64(suf))
	copy(t[:], suf[8:24])
	copy(s[:], suf[24:])
	return startNs, t, s, true
}

func indexValue(dst []byte, s *Span) []byte {
	dst = binary.AppendUvarint(dst, uint64(max(s.End.Sub(s.Start), 0)))
	return append(dst, byte(s.StatusCode))
}

func parseIndexValue(v []byte) (d time.Duration, status StatusCode, ok bool) {
	n, k := binary.Uvarint(v)
	if k <= 0 || len(v) != k+1 {
		return 0, 0, false
	}
	return time.Duration(n), StatusCode(v[k]), true
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
