package traces

import (
	"encoding/binary"
	"encoding/hex"
	"strconv"

	"github.com/cespare/xxhash/v2"
)

// A summary is the value of a service index entry (keys.go): what a search needs to skip a
// chunk without reading it.
//
//	summary = minDuration:uvarint maxDuration:uvarint flags:1 spread:uvarint bloom:rest
//
// Durations are those of the service's spans in the chunk, in nanoseconds; flag 1 means one
// of them failed; spread is how much later than the first (the entry's time) the last of
// them starts. The Bloom filter holds a hash of every span name and every tag a Jaeger
// search may name (see indexedTags) of those spans, at bloomBitsPerItem bits each, so a
// search skips about 99% of the chunks that lack a tag and reads the rest to be sure.
type summary struct {
	minDur, maxDur int64
	failed         bool
	spread         int64
	bloom          []byte
}

const (
	bloomBitsPerItem = 10
	bloomProbes      = 6
	summaryFailed    = 1
)

func appendSummary(dst []byte, s *summary) []byte {
	dst = binary.AppendUvarint(dst, uint64(max(s.minDur, 0)))
	dst = binary.AppendUvarint(dst, uint64(max(s.maxDur, 0)))
	var flags byte
	if s.failed {
		flags |= summaryFailed
	}
	dst = append(dst, flags)
	dst = binary.AppendUvarint(dst, uint64(max(s.spread, 0)))
	return append(dst, s.bloom...)
}

func parseSummary(v []byte) (summary, bool) {
	var s summary
	a, n := binary.Uvarint(v)
	if n <= 0 {
		return s, false
	}
	v = v[n:]
	b, n := binary.Uvarint(v)
	if n <= 0 || len(v) < n+1 {
		return s, false
	}
	s.minDur, s.maxDur = int64(a), int64(b)
	s.failed = v[n]&summaryFailed != 0
	v = v[n+1:]
	c, n := binary.Uvarint(v)
	if n <= 0 {
		return s, false
	}
	s.spread = int64(c)
	s.bloom = v[n:]
	return s, true
}

// buildBloom appends a filter of the (sorted, distinct) hashes to dst.
func buildBloom(dst []byte, hashes []uint64) []byte {
	nbytes := max((len(hashes)*bloomBitsPerItem+7)/8, 8)
	start := len(dst)
	dst = append(dst, make([]byte, nbytes)...)
	f := dst[start:]
	m := uint32(nbytes * 8)
	for _, h := range hashes {
		h1, h2 := uint32(h), uint32(h>>32)|1
		for i := range uint32(bloomProbes) {
			bit := (h1 + i*h2) % m
			f[bit/8] |= 1 << (bit % 8)
		}
	}
	return dst
}

// bloomHas reports whether h may be in the filter f (an empty filter may hold anything).
func bloomHas(f []byte, h uint64) bool {
	if len(f) == 0 {
		return true
	}
	m := uint32(len(f) * 8)
	h1, h2 := uint32(h), uint32(h>>32)|1
	for i := range uint32(bloomProbes) {
		bit := (h1 + i*h2) % m
		if f[bit/8]&(1<<(bit%8)) == 0 {
			return false
		}
	}
	return true
}

// nameHash and tagHash are the Bloom filter items of a span name and of a tag.
func nameHash(name string) uint64 { return mixHash(0x6e616d65, xxhash.Sum64String(name)) }

func tagHash(key string, value []byte) uint64 {
	return mixHash(xxhash.Sum64String(key), xxhash.Sum64(value))
}

func mixHash(a, b uint64) uint64 {
	h := a*0x9e3779b97f4a7c15 ^ (b + 0x632be59bd9b4e019 + a<<6 + a>>2)
	h ^= h >> 31
	h *= 0xbf58476d1ce4e5b9
	return h ^ h>>29
}

// appendValueText appends the text a Jaeger tag search compares (Value.String) without
// allocating.
func appendValueText(dst []byte, v Value) []byte {
	switch v.typ {
	case ValueBool:
		return strconv.AppendBool(dst, v.Bool())
	case ValueInt:
		return strconv.AppendInt(dst, v.Int(), 10)
	case ValueFloat:
		return strconv.AppendFloat(dst, v.Float(), 'g', -1, 64)
	case ValueBytes:
		return hex.AppendEncode(dst, []byte(v.s))
	}
	return append(dst, v.s...)
}

// derivedTags are the tags the Jaeger view adds to a span (kind and status), which a tag
// search may name too.
func derivedTags(dst []Attribute, kind SpanKind, status StatusCode) []Attribute {
	if k := kind.String(); k != "" {
		dst = append(dst, Attribute{Key: "span.kind", Value: StringValue(k)})
	}
	switch status {
	case StatusError:
		dst = append(dst, Attribute{Key: "error", Value: BoolValue(true)},
			Attribute{Key: "otel.status_code", Value: StringValue("ERROR")})
	case StatusOK:
		dst = append(dst, Attribute{Key: "otel.status_code", Value: StringValue("OK")})
	}
	return dst
}
