package traces

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// spanFormatV1 is the first byte of every encoded span, so the format can change later.
const spanFormatV1 = 1

// errCorrupt means a stored value does not decode.
var errCorrupt = errors.New("corrupt span record")

// appendSpan encodes s after dst. The trace and span ids are in the key, not here.
// Times are stored as offsets from the span start to keep values small.
func appendSpan(dst []byte, s *Span) []byte {
	start := s.Start.UnixNano()
	dst = append(dst, spanFormatV1)
	dst = append(dst, s.ParentSpanID[:]...)
	dst = binary.AppendVarint(dst, start)
	dst = binary.AppendVarint(dst, s.End.UnixNano()-start)
	dst = append(dst, byte(s.Kind), byte(s.StatusCode))
	dst = binary.AppendUvarint(dst, uint64(s.Flags))
	for _, str := range []string{s.Service, s.Name, s.StatusMessage, s.TraceState, s.Scope.Name, s.Scope.Version} {
		dst = appendString(dst, str)
	}
	dst = appendAttrs(dst, s.Attributes)
	dst = appendAttrs(dst, s.Resource)
	dst = binary.AppendUvarint(dst, uint64(len(s.Events)))
	for _, e := range s.Events {
		dst = binary.AppendVarint(dst, e.Time.UnixNano()-start)
		dst = appendString(dst, e.Name)
		dst = appendAttrs(dst, e.Attributes)
	}
	dst = binary.AppendUvarint(dst, uint64(len(s.Links)))
	for _, l := range s.Links {
		dst = append(dst, l.TraceID[:]...)
		dst = append(dst, l.SpanID[:]...)
		dst = appendString(dst, l.TraceState)
		dst = appendAttrs(dst, l.Attributes)
	}
	return dst
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendAttrs(dst []byte, as []Attribute) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(as)))
	for _, a := range as {
		dst = appendString(dst, a.Key)
		dst = append(dst, byte(a.Value.typ))
		switch a.Value.typ {
		case ValueString, ValueBytes:
			dst = appendString(dst, a.Value.s)
		default:
			dst = binary.AppendUvarint(dst, a.Value.n)
		}
	}
	return dst
}

// decoder reads what appendSpan wrote; the first error sticks.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errCorrupt
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.fail()
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) bytes(n int) []byte {
	if n < 0 || len(d.b) < n {
		d.fail()
		return make([]byte, max(n, 0))
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return ""
	}
	return string(d.bytes(int(n)))
}

// count reads a length that must fit in what is left (each element takes at least a byte).
func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return 0
	}
	return int(n)
}

func (d *decoder) attrs() []Attribute {
	n := d.count()
	if n == 0 {
		return nil
	}
	as := make([]Attribute, 0, n)
	for range n {
		a := Attribute{Key: d.string()}
		a.Value.typ = ValueType(d.byte())
		switch a.Value.typ {
		case ValueString, ValueBytes:
			a.Value.s = d.string()
		case ValueBool, ValueInt, ValueFloat:
			a.Value.n = d.uvarint()
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

// decodeSpan decodes a value written by appendSpan for the given ids.
func decodeSpan(traceID TraceID, spanID SpanID, b []byte) (Span, error) {
	d := decoder{b: b}
	if v := d.byte(); v != spanFormatV1 && d.err == nil {
		return Span{}, fmt.Errorf("%w: format %d", errCorrupt, v)
	}
	s := Span{TraceID: traceID, SpanID: spanID}
	copy(s.ParentSpanID[:], d.bytes(8))
	start := d.varint()
	s.Start = time.Unix(0, start).UTC()
	s.End = time.Unix(0, start+d.varint()).UTC()
	s.Kind = SpanKind(d.byte())
	s.StatusCode = StatusCode(d.byte())
	s.Flags = uint32(d.uvarint())
	s.Service, s.Name, s.StatusMessage = d.string(), d.string(), d.string()
	s.TraceState, s.Scope.Name, s.Scope.Version = d.string(), d.string(), d.string()
	s.Attributes = d.attrs()
	s.Resource = d.attrs()
	if n := d.count(); n > 0 {
		s.Events = make([]Event, 0, n)
		for range n {
			e := Event{Time: time.Unix(0, start+d.varint()).UTC(), Name: d.string(), Attributes: d.attrs()}
			if d.err != nil {
				break
			}
			s.Events = append(s.Events, e)
		}
	}
	if n := d.count(); n > 0 {
		s.Links = make([]Link, 0, n)
		for range n {
			var l Link
			copy(l.TraceID[:], d.bytes(16))
			copy(l.SpanID[:], d.bytes(8))
			l.TraceState = d.string()
			l.Attributes = d.attrs()
			if d.err != nil {
				break
			}
			s.Links = append(s.Links, l)
		}
	}
	if d.err != nil {
		return Span{}, fmt.Errorf("decode span %s/%s: %w", traceID, spanID, d.err)
	}
	return s, nil
}
