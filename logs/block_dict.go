package logs

import (
	"encoding/binary"
	"errors"
	"slices"
	"strconv"
	"strings"
)

// A block's dictionary lists, per field, every term that occurs in at least two of its lines
// with the positions of those lines (message tokens under "message", keyword values under
// their field's name). It is stored uncompressed right after the block's bloom filter, so a
// query binary-searches it in the bytes it read, without decompressing or allocating, and
// counts or selects lines without touching the lines themselves. Terms found in one line
// only go to the bloom filter instead (see bloom.go).
//
// Layout (integers are uvarints unless marked):
//
//	field count, then per field (sorted by name): name length, name, singleton count
//	u32 term count (LE), u32 offsets[term count + 1] (LE, from the first entry)
//	entries, sorted by (field number, term): field number, term length, term, postings
//
// Postings: c<<2|kind, where c is the number of lines; kind 0: c ascending line gaps
// (first from -1), kind 1: a bitset of (lines+7)/8 bytes, kind 2: every line; or off<<2|3:
// the same postings as stored at offset off from the first entry.

var errCorruptDict = errors.New("corrupt block dictionary")

// dictBuilder collects a block's terms. One builder is reused for every block a flush writes
// (flushes run one at a time), so its maps and slices keep their capacity.
type dictBuilder struct {
	ids    map[dictKey]int32
	terms  []dictTerm
	num    map[string]numRange
	seen   map[string]int // postings already written, by bytes: their offset from the entries
	shared []int32        // indexes of the terms in 2+ lines
}

type dictKey struct{ field, term string }

type dictTerm struct {
	key   dictKey
	first uint32 // first line
	last  uint32 // last line (to count each line once)
	count uint32
	post  []uint32 // lines, when count >= 2
}

// blockTerms is what a dictBuilder made of a block's lines.
type blockTerms struct {
	dict       []byte
	bloom      []byte
	shared     []dictKey // terms in 2+ lines, sorted: these go to bleve
	fields     []string  // every field present, sorted
	singletons map[string]int
	num        map[string]numRange
}

func (d *dictBuilder) reset() {
	if d.ids == nil {
		d.ids = make(map[dictKey]int32)
		d.num = make(map[string]numRange)
		d.seen = make(map[string]int)
	}
	clear(d.seen)
	clear(d.ids)
	clear(d.num)
	for i := range d.terms {
		d.terms[i] = dictTerm{}
	}
	d.terms = d.terms[:0]
}

func (d *dictBuilder) add(field, term string, line uint32) {
	if term == "" {
		return
	}
	k := dictKey{field, term}
	if i, ok := d.ids[k]; ok {
		t := &d.terms[i]
		if t.last == line {
			return
		}
		if t.count == 1 {
			t.post = append(t.post, t.first)
		}
		t.post = append(t.post, line)
		t.last = line
		t.count++
		return
	}
	d.ids[k] = int32(len(d.terms))
	d.terms = append(d.terms, dictTerm{key: k, first: line, last: line, count: 1})
}

// build indexes lines: message tokens, level, service, trace and span ids, and every
// non-reserved field's value; numeric fields also get their range.
func (d *dictBuilder) build(lines []Record) blockTerms {
	d.reset()
	for i := range lines {
		r := &lines[i]
		line := uint32(i)
		tokenize(r.Message, func(tok string) { d.add(fieldMessage, tok, line) })
		d.add(fieldLevel, r.Level, line)
		d.add(fieldService, r.Service, line)
		d.add(fieldTraceID, r.TraceID, line)
		d.add(fieldSpanID, r.SpanID, line)
		for _, f := range r.Fields {
			if reservedField(f.Key) {
				continue
			}
			d.add(f.Key, f.Value, line)
			if f.Kind == KindNumber {
				if x, err := strconv.ParseFloat(f.Value, 64); err == nil {
					rg, ok := d.num[f.Key]
					if !ok {
						rg = numRange{x, x}
					}
					d.num[f.Key] = numRange{min(rg.lo, x), max(rg.hi, x)}
				}
			}
		}
	}
	out := blockTerms{singletons: map[string]int{}, num: make(map[string]numRange, len(d.num))}
	for k, v := range d.num {
		out.num[k] = v
	}
	// Terms of one line go to the bloom filter unsorted; only the others (a few hundred of
	// a block's thousands) are sorted into the dictionary.
	nSingle := 0
	shared := d.shared[:0]
	for i := range d.terms {
		t := &d.terms[i]
		if _, ok := out.singletons[t.key.field]; !ok {
			out.singletons[t.key.field] = 0
			out.fields = append(out.fields, t.key.field)
		}
		if t.count == 1 {
			out.singletons[t.key.field]++
			nSingle++
		} else {
			shared = append(shared, int32(i))
		}
	}
	d.shared = shared
	slices.Sort(out.fields)
	slices.SortFunc(shared, func(a, b int32) int {
		ka, kb := &d.terms[a].key, &d.terms[b].key
		if c := strings.Compare(ka.field, kb.field); c != 0 {
			return c
		}
		return strings.Compare(ka.term, kb.term)
	})
	out.bloom = make([]byte, bloomSize(nSingle))
	for i := range d.terms {
		if t := &d.terms[i]; t.count == 1 {
			bloomAdd(out.bloom, termHash(t.key.field, t.key.term))
		}
	}
	n := len(lines)
	var dict []byte
	dict = binary.AppendUvarint(dict, uint64(len(out.fields)))
	for _, f := range out.fields {
		dict = appendString(dict, f)
		dict = binary.AppendUvarint(dict, uint64(out.singletons[f]))
	}
	dict = binary.LittleEndian.AppendUint32(dict, uint32(len(shared)))
	offAt := len(dict)
	dict = append(dict, make([]byte, 4*(len(shared)+1))...)
	entries := len(dict)
	fieldNo := 0
	k := 0
	out.shared = make([]dictKey, 0, len(shared))
	for _, ti := range shared {
		t := &d.terms[ti]
		for out.fields[fieldNo] != t.key.field {
			fieldNo++
		}
		out.shared = append(out.shared, t.key)
		binary.LittleEndian.PutUint32(dict[offAt+4*k:], uint32(len(dict)-entries))
		k++
		dict = binary.AppendUvarint(dict, uint64(fieldNo))
		dict = appendString(dict, t.key.term)
		// The tokens of one message template share their lines ("published", "event",
		// "kafka", "topic" ...): such postings are stored once and referenced.
		at := len(dict)
		dict = appendPostings(dict, t.post, n)
		if prev, ok := d.seen[string(dict[at:])]; ok && len(dict)-at > 2 {
			dict = binary.AppendUvarint(dict[:at], uint64(prev)<<2|3)
		} else {
			d.seen[string(dict[at:])] = at - entries
		}
	}
	binary.LittleEndian.PutUint32(dict[offAt+4*k:], uint32(len(dict)-entries))
	out.dict = dict
	return out
}

func appendPostings(b []byte, post []uint32, n int) []byte {
	c := len(post)
	switch {
	case c == n:
		return binary.AppendUvarint(b, uint64(c)<<2|2)
	case (n+7)/8 < c:
		b = binary.AppendUvarint(b, uint64(c)<<2|1)
		start := len(b)
		b = append(b, make([]byte, (n+7)/8)...)
		for _, l := range post {
			b[start+int(l>>3)] |= 1 << (l & 7)
		}
		return b
	}
	b = binary.AppendUvarint(b, uint64(c)<<2)
	prev := int64(-1)
	for _, l := range post {
		b = binary.AppendUvarint(b, uint64(int64(l)-prev))
		prev = int64(l)
	}
	return b
}

// blockDict reads a dictionary in place.
type blockDict struct {
	n       int // lines in the block
	fields  []dictField
	offsets []byte // u32 offsets
	entries []byte
	terms   int
}

type dictField struct {
	name       []byte
	singletons int
}

func parseDict(b []byte, n int) (blockDict, error) {
	d := blockDict{n: n}
	rd := recordDecoder{b: b}
	nf := rd.uvarint()
	if rd.err != nil || nf > uint64(len(b)) {
		return d, errCorruptDict
	}
	d.fields = make([]dictField, nf)
	for i := range d.fields {
		d.fields[i].name = rd.bytes()
		d.fields[i].singletons = int(rd.uvarint())
	}
	if rd.err != nil || len(rd.b) < 4 {
		return d, errCorruptDict
	}
	d.terms = int(binary.LittleEndian.Uint32(rd.b))
	rest := rd.b[4:]
	if d.terms < 0 || len(rest) < 4*(d.terms+1) {
		return d, errCorruptDict
	}
	d.offsets = rest[:4*(d.terms+1)]
	d.entries = rest[4*(d.terms+1):]
	if int(binary.LittleEndian.Uint32(d.offsets[4*d.terms:])) != len(d.entries) {
		return d, errCorruptDict
	}
	return d, nil
}

func (d *blockDict) field(name string) (int, *dictField) {
	for i := range d.fields {
		if string(d.fields[i].name) == name {
			return i, &d.fields[i]
		}
	}
	return -1, nil
}

// entry returns term i's field number, term and postings bytes.
func (d *blockDict) entry(i int) (int, []byte, []byte) {
	start := binary.LittleEndian.Uint32(d.offsets[4*i:])
	end := binary.LittleEndian.Uint32(d.offsets[4*i+4:])
	if start > end || int(end) > len(d.entries) {
		return -1, nil, nil
	}
	e := d.entries[start:end]
	f, n := binary.Uvarint(e)
	if n <= 0 {
		return -1, nil, nil
	}
	e = e[n:]
	l, n := binary.Uvarint(e)
	if n <= 0 || l > uint64(len(e)-n) {
		return -1, nil, nil
	}
	return int(f), e[n : n+int(l)], e[n+int(l):]
}

// lookup returns the postings of (field number f, term), or nil.
func (d *blockDict) lookup(f int, term string) []byte {
	lo, hi := 0, d.terms
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		ef, et, _ := d.entry(m)
		c := ef - f
		if c == 0 {
			c = strings.Compare(bytesString(et), term)
		}
		switch {
		case c == 0:
			_, _, p := d.entry(m)
			return d.postings(p)
		case c < 0:
			lo = m + 1
		default:
			hi = m
		}
	}
	return nil
}

// fieldRange returns the entries [lo, hi) of field number f.
func (d *blockDict) fieldRange(f int) (int, int) {
	lo := sortSearch(d.terms, func(i int) bool { ef, _, _ := d.entry(i); return ef >= f })
	hi := sortSearch(d.terms, func(i int) bool { ef, _, _ := d.entry(i); return ef > f })
	return lo, hi
}

func sortSearch(n int, f func(int) bool) int {
	lo, hi := 0, n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if !f(m) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// postingsCount returns the number of lines of a postings list.
func postingsCount(p []byte) int {
	x, n := binary.Uvarint(p)
	if n <= 0 {
		return 0
	}
	return int(x >> 2)
}

// postings resolves a reference to postings stored earlier.
func (d *blockDict) postings(p []byte) []byte {
	x, k := binary.Uvarint(p)
	if k <= 0 || x&3 != 3 {
		return p
	}
	off := x >> 2
	if off >= uint64(len(d.entries)) {
		return nil
	}
	return d.entries[off:]
}

// orPostings adds the lines of p (resolved) to b.
func orPostings(b lineBits, p []byte, n int) error {
	x, k := binary.Uvarint(p)
	if k <= 0 {
		return errCorruptDict
	}
	p = p[k:]
	c := int(x >> 2)
	switch x & 3 {
	case 2:
		b.or(allLines(n))
	case 1:
		if len(p) < (n+7)/8 {
			return errCorruptDict
		}
		for i := 0; i < n; i++ {
			if p[i>>3]&(1<<(i&7)) != 0 {
				b.set(i)
			}
		}
	case 0:
		l := int64(-1)
		for range c {
			g, k := binary.Uvarint(p)
			if k <= 0 {
				return errCorruptDict
			}
			p = p[k:]
			l += int64(g)
			if l < 0 || l >= int64(n) {
				return errCorruptDict
			}
			b.set(int(l))
		}
	default:
		return errCorruptDict
	}
	return nil
}
