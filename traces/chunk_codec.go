package traces

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
)

// A chunk is the encoding of the spans of one trace written together (keys.go). It is
// compact because most of a span repeats what another span of its trace says, and pebble's
// block compression takes care of what repeats across traces:
//
//	chunk  = format:1 base:varint nGroups:uvarint group* nSpans:uvarint header* body*
//	group  = service:str resourceHash:8 scopeName:str scopeVersion:str
//	header = spanID:8 parent:uvarint group:uvarint name:str kind<<4|status:1
//	         startSinceBase:uvarint duration:varint
//	body   = flags:uvarint statusMessage:str traceState:str attrs
//	         nEvents:uvarint (sinceStart:varint name:str attrs)*
//	         nLinks:uvarint (sameTrace:1 [traceID:16] spanID:8 traceState:str attrs)*
//	attrs  = n:uvarint (key:str type:1 value)*, value by type: string str, bytes
//	         len:uvarint raw, bool 1 byte, int varint, float 8 bytes little-endian
//	parent = 0 none, 1 followed by the 8-byte id, 2+i the i-th span of this chunk
//	str    = uvarint i: i > 0 is the i-th string already read in this chunk (an interned
//	         key, name or value), 0 a new string (len:uvarint bytes) that takes the next number
//
// Trace and span ids are not repeated: the trace id is in the key, parents point at their
// span inside the chunk, times are offsets in nanoseconds. Headers come before bodies, so
// the tree view (tree.go) reads ids, names and times without decoding attributes. The
// resource (attributes other than service.name) is stored once per hour under its hash
// (resourceKey) and shared by every chunk of that hour.
const chunkFormat = 2

// maxInternLen: longer strings are written out each time, not looked up (they rarely
// repeat and would bloat the encoder's table).
const maxInternLen = 128

// errCorrupt means a stored value does not decode.
var errCorrupt = errors.New("corrupt span record")

// chunkGroup is what spans of one resource and scope share.
type chunkGroup struct {
	service string
	resHash uint64
	scope   Scope
}

// chunkEncoder encodes chunks; reuse one per WriteSpans call (not concurrently).
type chunkEncoder struct {
	buf  []byte
	strs map[string]uint32
	nstr uint32
	pos  map[SpanID]int
}

func (e *chunkEncoder) reset() {
	e.buf = e.buf[:0]
	if e.strs == nil {
		e.strs = make(map[string]uint32, 64)
		e.pos = make(map[SpanID]int, 32)
	}
	clear(e.strs)
	clear(e.pos)
	e.nstr = 0
}

func (e *chunkEncoder) str(s string) {
	if len(s) <= maxInternLen {
		if i, ok := e.strs[s]; ok {
			e.buf = binary.AppendUvarint(e.buf, uint64(i)+1)
			return
		}
		e.strs[s] = e.nstr
	}
	e.nstr++
	e.buf = append(e.buf, 0)
	e.buf = binary.AppendUvarint(e.buf, uint64(len(s)))
	e.buf = append(e.buf, s...)
}

func (e *chunkEncoder) attrs(as []Attribute) {
	e.buf = binary.AppendUvarint(e.buf, uint64(len(as)))
	for i := range as {
		a := &as[i]
		e.str(a.Key)
		e.buf = append(e.buf, byte(a.Value.typ))
		switch a.Value.typ {
		case ValueString:
			e.str(a.Value.s)
		case ValueBytes:
			e.buf = binary.AppendUvarint(e.buf, uint64(len(a.Value.s)))
			e.buf = append(e.buf, a.Value.s...)
		case ValueBool:
			e.buf = append(e.buf, byte(a.Value.n))
		case ValueInt:
			e.buf = binary.AppendVarint(e.buf, int64(a.Value.n))
		default: // ValueFloat
			e.buf = binary.LittleEndian.AppendUint64(e.buf, a.Value.n)
		}
	}
}

// encodeChunk encodes spans[idx[0]], spans[idx[1]], ... (one trace) whose groups are
// groups[group[i]] into e.buf, which it returns.
func (e *chunkEncoder) encodeChunk(spans []Span, idx []int32, groups []chunkGroup, group []int32) []byte {
	e.reset()
	baseNs := int64(math.MaxInt64)
	for i, j := range idx {
		s := &spans[j]
		baseNs = min(baseNs, s.Start.UnixNano())
		e.pos[s.SpanID] = i
	}
	e.buf = append(e.buf, chunkFormat)
	e.buf = binary.AppendVarint(e.buf, baseNs)
	e.buf = binary.AppendUvarint(e.buf, uint64(len(groups)))
	for i := range groups {
		g := &groups[i]
		e.str(g.service)
		e.buf = binary.BigEndian.AppendUint64(e.buf, g.resHash)
		e.str(g.scope.Name)
		e.str(g.scope.Version)
	}
	e.buf = binary.AppendUvarint(e.buf, uint64(len(idx)))
	for i, j := range idx {
		s := &spans[j]
		e.buf = append(e.buf, s.SpanID[:]...)
		switch p, ok := e.pos[s.ParentSpanID]; {
		case s.ParentSpanID.IsZero():
			e.buf = append(e.buf, 0)
		case ok:
			e.buf = binary.AppendUvarint(e.buf, uint64(p)+2)
		default:
			e.buf = append(e.buf, 1)
			e.buf = append(e.buf, s.ParentSpanID[:]...)
		}
		e.buf = binary.AppendUvarint(e.buf, uint64(group[i]))
		e.str(s.Name)
		e.buf = append(e.buf, byte(s.Kind)<<4|byte(s.StatusCode)&0x0f)
		start := s.Start.UnixNano()
		e.buf = binary.AppendUvarint(e.buf, uint64(start-baseNs))
		e.buf = binary.AppendVarint(e.buf, s.End.UnixNano()-start)
	}
	for _, j := range idx {
		s := &spans[j]
		start := s.Start.UnixNano()
		e.buf = binary.AppendUvarint(e.buf, uint64(s.Flags))
		e.str(s.StatusMessage)
		e.str(s.TraceState)
		e.attrs(s.Attributes)
		e.buf = binary.AppendUvarint(e.buf, uint64(len(s.Events)))
		for k := range s.Events {
			ev := &s.Events[k]
			e.buf = binary.AppendVarint(e.buf, ev.Time.UnixNano()-start)
			e.str(ev.Name)
			e.attrs(ev.Attributes)
		}
		e.buf = binary.AppendUvarint(e.buf, uint64(len(s.Links)))
		for k := range s.Links {
			l := &s.Links[k]
			if l.TraceID == s.TraceID {
				e.buf = append(e.buf, 1)
			} else {
				e.buf = append(e.buf, 0)
				e.buf = append(e.buf, l.TraceID[:]...)
			}
			e.buf = append(e.buf, l.SpanID[:]...)
			e.str(l.TraceState)
			e.attrs(l.Attributes)
		}
	}
	return e.buf
}

// encodeResource encodes resource attributes (a record of their own, with its own strings).
func (e *chunkEncoder) encodeResource(as []Attribute) []byte {
	e.reset()
	e.buf = append(e.buf, chunkFormat)
	e.attrs(as)
	return e.buf
}

// chunkDecoder reads a chunk. Strings are substrings of one copy of the value, so decoding
// allocates one string per chunk rather than one per attribute. The first error sticks.
type chunkDecoder struct {
	s    string
	i    int
	err  error
	strs []string
}

func (d *chunkDecoder) fail() {
	if d.err == nil {
		d.err = errCorrupt
	}
	d.i = len(d.s)
}

func (d *chunkDecoder) byte() byte {
	if d.i >= len(d.s) {
		d.fail()
		return 0
	}
	c := d.s[d.i]
	d.i++
	return c
}

func (d *chunkDecoder) raw(n int) string {
	if n < 0 || len(d.s)-d.i < n {
		d.fail()
		return ""
	}
	p := d.s[d.i : d.i+n]
	d.i += n
	return p
}

func (d *chunkDecoder) uvarint() uint64 {
	var v uint64
	for shift := uint(0); shift < 64; shift += 7 {
		if d.i >= len(d.s) {
			break
		}
		c := d.s[d.i]
		d.i++
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v
		}
	}
	d.fail()
	return 0
}

func (d *chunkDecoder) varint() int64 {
	u := d.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

// count reads a length that must fit in what is left (each element takes at least a byte).
func (d *chunkDecoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.s)-d.i) {
		d.fail()
		return 0
	}
	return int(n)
}

func (d *chunkDecoder) str() string {
	i := d.uvarint()
	if i > 0 {
		if i > uint64(len(d.strs)) {
			d.fail()
			return ""
		}
		return d.strs[i-1]
	}
	s := d.raw(d.count())
	d.strs = append(d.strs, s)
	return s
}

func (d *chunkDecoder) id8() (id SpanID) {
	copy(id[:], d.raw(8))
	return id
}

func (d *chunkDecoder) attrs() []Attribute {
	n := d.count()
	if n == 0 {
		return nil
	}
	as := make([]Attribute, 0, n)
	for range n {
		a := Attribute{Key: d.str()}
		a.Value.typ = ValueType(d.byte())
		switch a.Value.typ {
		case ValueString:
			a.Value.s = d.str()
		case ValueBytes:
			a.Value.s = d.raw(d.count())
		case ValueBool:
			a.Value.n = uint64(d.byte() & 1)
		case ValueInt:
			a.Value.n = uint64(d.varint())
		case ValueFloat:
			if r := d.raw(8); len(r) == 8 {
				a.Value.n = binary.LittleEndian.Uint64([]byte(r))
			}
		default:
			d.fail()
		}
		if d.err != nil {
			return nil
		}
		as = append(as, a)
	}
	return as
}

// spanHeader is what a chunk says about a span before its body: enough for the tree view,
// the dependency graph and search summaries.
type spanHeader struct {
	SpanID, Parent SpanID
	Service, Name  string
	Kind           SpanKind
	Status         StatusCode
	StartNs, DurNs int64
	group          int
}

// chunkHeaders holds the decoded head of a chunk; d is positioned at the first body.
type chunkHeaders struct {
	groups  []chunkGroup
	headers []spanHeader
	d       chunkDecoder
}

// decodeHeaders reads the groups and span headers of a chunk.
func decodeHeaders(v []byte) (chunkHeaders, error) {
	h := chunkHeaders{d: chunkDecoder{s: string(v)}}
	d := &h.d
	if f := d.byte(); f != chunkFormat && d.err == nil {
		return h, fmt.Errorf("%w: format %d", errCorrupt, f)
	}
	baseNs := d.varint()
	ng := d.count()
	h.groups = make([]chunkGroup, 0, ng)
	for range ng {
		var g chunkGroup
		g.service = d.str()
		if r := d.raw(8); len(r) == 8 {
			g.resHash = binary.BigEndian.Uint64([]byte(r))
		}
		g.scope.Name, g.scope.Version = d.str(), d.str()
		h.groups = append(h.groups, g)
	}
	n := d.count()
	h.headers = make([]spanHeader, n)
	parents := make([]int32, n) // -1: none or literal
	for i := range n {
		sh := &h.headers[i]
		sh.SpanID = d.id8()
		parents[i] = -1
		switch p := d.uvarint(); {
		case p == 1:
			sh.Parent = d.id8()
		case p >= 2:
			if p-2 >= uint64(n) {
				d.fail()
			} else {
				parents[i] = int32(p - 2)
			}
		}
		g := d.uvarint()
		if g >= uint64(len(h.groups)) {
			d.fail()
			break
		}
		sh.group = int(g)
		sh.Service = h.groups[g].service
		sh.Name = d.str()
		ks := d.byte()
		sh.Kind, sh.Status = SpanKind(ks>>4), StatusCode(ks&0x0f)
		sh.StartNs = baseNs + int64(d.uvarint())
		sh.DurNs = d.varint()
		if d.err != nil {
			break
		}
	}
	if d.err != nil {
		return h, d.err
	}
	for i, p := range parents {
		if p >= 0 {
			h.headers[i].Parent = h.headers[p].SpanID
		}
	}
	return h, nil
}

// decodeChunk decodes every span of a chunk of trace t; resource returns the resource
// attributes stored under a hash (nil if there are none or they are gone).
func decodeChunk(t TraceID, v []byte, resource func(hash uint64) ([]Attribute, error)) ([]Span, error) {
	h, err := decodeHeaders(v)
	if err != nil {
		return nil, fmt.Errorf("decode chunk of trace %s: %w", t, err)
	}
	res := make([][]Attribute, len(h.groups))
	for i, g := range h.groups {
		if g.resHash != 0 {
			if res[i], err = resource(g.resHash); err != nil {
				return nil, err
			}
		}
	}
	spans := make([]Span, len(h.headers))
	d := &h.d
	for i := range h.headers {
		sh := &h.headers[i]
		g := &h.groups[sh.group]
		s := &spans[i]
		*s = Span{
			TraceID: t, SpanID: sh.SpanID, ParentSpanID: sh.Parent,
			Service: sh.Service, Name: sh.Name, Kind: sh.Kind, StatusCode: sh.Status,
			Start: timeOf(sh.StartNs), End: timeOf(sh.StartNs + sh.DurNs),
			Resource: res[sh.group], Scope: g.scope,
		}
		s.Flags = uint32(d.uvarint())
		s.StatusMessage = d.str()
		s.TraceState = d.str()
		s.Attributes = d.attrs()
		if n := d.count(); n > 0 {
			s.Events = make([]Event, 0, n)
			for range n {
				ev := Event{Time: timeOf(sh.StartNs + d.varint()), Name: d.str(), Attributes: d.attrs()}
				if d.err != nil {
					break
				}
				s.Events = append(s.Events, ev)
			}
		}
		if n := d.count(); n > 0 {
			s.Links = make([]Link, 0, n)
			for range n {
				l := Link{TraceID: t}
				if d.byte() == 0 {
					copy(l.TraceID[:], d.raw(16))
				}
				l.SpanID = d.id8()
				l.TraceState = d.str()
				l.Attributes = d.attrs()
				if d.err != nil {
					break
				}
				s.Links = append(s.Links, l)
			}
		}
		if d.err != nil {
			return nil, fmt.Errorf("decode chunk of trace %s: %w", t, d.err)
		}
	}
	if d.i != len(d.s) {
		return nil, fmt.Errorf("decode chunk of trace %s: %w: %d bytes left over", t, errCorrupt, len(d.s)-d.i)
	}
	return spans, nil
}

// decodeResource decodes a record written by encodeResource.
func decodeResource(v []byte) ([]Attribute, error) {
	d := chunkDecoder{s: string(v)}
	if f := d.byte(); f != chunkFormat && d.err == nil {
		return nil, fmt.Errorf("%w: resource format %d", errCorrupt, f)
	}
	as := d.attrs()
	if d.err == nil && d.i != len(d.s) {
		d.fail()
	}
	if d.err != nil {
		return nil, fmt.Errorf("decode resource: %w", d.err)
	}
	return as, nil
}

func timeOf(ns int64) time.Time { return time.Unix(0, ns).UTC() }
