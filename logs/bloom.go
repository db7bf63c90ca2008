package logs

import "math/bits"

// A block's bloom filter holds the terms that occur in exactly one of its lines (trace and
// span ids, user ids, order numbers, durations): they make up most of a block's distinct
// terms but almost never repeat, so indexing them in bleve cost most of ingest's CPU and
// index bytes (see doc.go). A query term missing from the block's dictionary is looked up
// here; a "maybe" makes the block a candidate whose lines are verified.
//
// Layout: 64-byte (512-bit) buckets, one per about 40 terms; a term sets bloomProbes bits in
// the one bucket its hash picks, so a lookup touches one cache line.

const (
	bloomBucketBytes = 64
	bloomBitsPerTerm = 12 // about 0.3% false positives with 8 probes in a 512-bit bucket
	bloomProbes      = 8
)

// termHash hashes a (field, term) pair: FNV-1a over field, a zero byte and term, then a
// 64-bit finaliser. It is part of the on-disk format.
func termHash(field, term string) uint64 {
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	for i := 0; i < len(field); i++ {
		h = (h ^ uint64(field[i])) * prime
	}
	h = (h ^ 0) * prime
	for i := 0; i < len(term); i++ {
		h = (h ^ uint64(term[i])) * prime
	}
	// splitmix64 finaliser: FNV's low bits are weak.
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

// bloomSize is the byte size of a filter for n terms (0 for none).
func bloomSize(n int) int {
	if n == 0 {
		return 0
	}
	buckets := (n*bloomBitsPerTerm + 511) / 512
	return buckets * bloomBucketBytes
}

// bloomProbe calls fn with the word and bit mask of each probe of h in a filter of size bytes.
func bloomProbe(h uint64, size int, fn func(word int, mask uint64) bool) bool {
	b := bloomBucket(h, size) / bloomBucketBytes
	h1, h2 := uint32(h), uint32(h>>32)|1
	for i := uint32(0); i < bloomProbes; i++ {
		bit := (h1 + i*h2) & 511
		if !fn(b*8+int(bit>>6), 1<<(bit&63)) {
			return false
		}
	}
	return true
}

// bloomAdd sets h in filter f (little-endian 64-bit words).
func bloomAdd(f []byte, h uint64) {
	bloomProbe(h, len(f), func(w int, mask uint64) bool {
		v := leUint64(f[w*8:]) | mask
		putLeUint64(f[w*8:], v)
		return true
	})
}

// bloomHas reports whether h may be in filter f.
func bloomHas(f []byte, h uint64) bool {
	if len(f) == 0 {
		return false
	}
	return bloomProbe(h, len(f), func(w int, mask uint64) bool { return leUint64(f[w*8:])&mask != 0 })
}

func leUint64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

func putLeUint64(b []byte, v uint64) {
	_ = b[7]
	for i := range 8 {
		b[i] = byte(v >> (8 * i))
	}
}

// lineBits is a set of line positions in a block.
type lineBits []uint64

func newLineBits(n int) lineBits { return make(lineBits, (n+63)/64) }

func allLines(n int) lineBits {
	b := newLineBits(n)
	for i := range b {
		b[i] = ^uint64(0)
	}
	if r := n % 64; r != 0 {
		b[len(b)-1] = 1<<r - 1
	}
	return b
}

func (b lineBits) set(i int)      { b[i>>6] |= 1 << (i & 63) }
func (b lineBits) has(i int) bool { return b[i>>6]&(1<<(i&63)) != 0 }

func (b lineBits) and(o lineBits) {
	for i := range b {
		b[i] &= o[i]
	}
}

func (b lineBits) or(o lineBits) {
	for i := range b {
		b[i] |= o[i]
	}
}

// andNot removes o's lines from b.
func (b lineBits) andNot(o lineBits) {
	for i := range b {
		b[i] &^= o[i]
	}
}

func (b lineBits) count() int {
	n := 0
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
}

func (b lineBits) empty() bool {
	for _, w := range b {
		if w != 0 {
			return false
		}
	}
	return true
}

// each calls fn with every line in b, ascending; fn returns false to stop.
func (b lineBits) each(fn func(i int) bool) {
	for wi, w := range b {
		for w != 0 {
			t := bits.TrailingZeros64(w)
			if !fn(wi*64 + t) {
				return
			}
			w &= w - 1
		}
	}
}

// eachDesc is each, descending.
func (b lineBits) eachDesc(fn func(i int) bool) {
	for wi := len(b) - 1; wi >= 0; wi-- {
		w := b[wi]
		for w != 0 {
			t := 63 - bits.LeadingZeros64(w)
			if !fn(wi*64 + t) {
				return
			}
			w &^= 1 << t
		}
	}
}

// bloomBucket returns the offset in a filter of size bytes of the bucket h uses: the high
// half of h scaled to the bucket count, without a division.
func bloomBucket(h uint64, size int) int {
	buckets := uint64(size / bloomBucketBytes)
	return int((h>>32)*buckets>>32) * bloomBucketBytes
}

// bloomHasInBucket is bloomHas given only the bucket h uses.
func bloomHasInBucket(bucket []byte, h uint64) bool {
	h1, h2 := uint32(h), uint32(h>>32)|1
	for i := uint32(0); i < bloomProbes; i++ {
		bit := (h1 + i*h2) & 511
		if leUint64(bucket[(bit>>6)*8:])&(1<<(bit&63)) == 0 {
			return false
		}
	}
	return true
}
