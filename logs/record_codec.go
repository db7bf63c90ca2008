package logs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// The record encoding is shared by the WAL and the blocks:
//
//	varint unix-nano time, then uvarint-length-prefixed service, level, message, trace id,
//	span id, uvarint field count and per field key, value and one kind byte, then Raw.
//
// It is private to this package and versioned by the block and WAL headers.

var errCorrupt = errors.New("corrupt record encoding")

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendRecord appends r's encoding to b, with t as its time.
func appendRecord(b []byte, r *Record, t int64) []byte {
	b = binary.AppendVarint(b, t)
	b = appendString(b, r.Service)
	b = appendString(b, r.Level)
	b = appendString(b, r.Message)
	b = appendString(b, r.TraceID)
	b = appendString(b, r.SpanID)
	b = binary.AppendUvarint(b, uint64(len(r.Fields)))
	for _, f := range r.Fields {
		b = appendString(b, f.Key)
		b = appendString(b, f.Value)
		b = append(b, byte(f.Kind))
	}
	b = binary.AppendUvarint(b, uint64(len(r.Raw)))
	return append(b, r.Raw...)
}

// recordSize is an upper bound of appendRecord's output for r.
func recordSize(r *Record) int {
	n := 10 + 5*10 + len(r.Service) + len(r.Level) + len(r.Message) + len(r.TraceID) + len(r.SpanID)
	n += 10 + 10 + len(r.Raw)
	for _, f := range r.Fields {
		n += 21 + len(f.Key) + len(f.Value)
	}
	return n
}

type recordDecoder struct {
	b   []byte
	err error
}

func (d *recordDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errCorrupt
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *recordDecoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errCorrupt
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *recordDecoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = errCorrupt
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

// string returns the next string; it aliases the decoder's buffer, which the callers never
// modify (see decodeRecords).
func (d *recordDecoder) string() string { return bytesString(d.bytes()) }

// record decodes one record. Raw and the strings alias the decoder's buffer; fields are
// taken from *pool, which is grown as needed.
func (d *recordDecoder) record(r *Record, pool *[]Field) {
	r.Time = time.Unix(0, d.varint()).UTC()
	r.Service = d.string()
	r.Level = d.string()
	r.Message = d.string()
	r.TraceID = d.string()
	r.SpanID = d.string()
	n := d.uvarint()
	if d.err != nil {
		return
	}
	if n > uint64(len(d.b)) {
		d.err = errCorrupt
		return
	}
	if n > 0 {
		if uint64(len(*pool)) < n {
			*pool = make([]Field, max(n, 256))
		}
		r.Fields = (*pool)[:n:n]
		*pool = (*pool)[n:]
		for i := range r.Fields {
			r.Fields[i].Key = d.string()
			r.Fields[i].Value = d.string()
			if d.err != nil || len(d.b) == 0 {
				d.err = errCorrupt
				return
			}
			r.Fields[i].Kind = FieldKind(d.b[0])
			d.b = d.b[1:]
		}
	}
	r.Raw = d.bytes()
}

// encodeRecords encodes a count followed by the records; zero times become now.
func encodeRecords(dst []byte, recs []Record, now int64) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(recs)))
	for i := range recs {
		t := now
		if !recs[i].Time.IsZero() {
			t = recs[i].Time.UnixNano()
		}
		dst = appendRecord(dst, &recs[i], t)
	}
	return dst
}

// decodeRecords decodes what encodeRecords wrote. The records' Raw and strings alias b, so
// b must never be modified afterwards: a WAL batch is decoded once, from a buffer only
// read from then on, and its records then share its memory (one allocation per batch
// instead of one per string, which made up most of ingest's allocations).
func decodeRecords(b []byte) ([]Record, error) {
	d := recordDecoder{b: b}
	n := d.uvarint()
	if d.err == nil && n > uint64(len(b)) {
		d.err = errCorrupt
	}
	if d.err != nil {
		return nil, fmt.Errorf("decode record count: %w", d.err)
	}
	recs := make([]Record, n)
	var pool []Field
	for i := range recs {
		d.record(&recs[i], &pool)
		if d.err != nil {
			return nil, fmt.Errorf("decode record %d of %d: %w", i, n, d.err)
		}
	}
	if len(d.b) != 0 {
		return nil, fmt.Errorf("decode records: %d trailing bytes: %w", len(d.b), errCorrupt)
	}
	return recs, nil
}
