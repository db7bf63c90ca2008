package logs

import (
	"slices"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// TestBlockRoundTrip encodes blocks whose lines exercise every cut and reference case and
// checks that every line decodes exactly as written, whole and selectively.
func TestBlockRoundTrip(t *testing.T) {
	trace, span := "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	lines := []Record{
		{Service: "a", Level: "info", Message: "plain", TraceID: trace, SpanID: span,
			Raw: []byte(`{"msg":"plain","trace_id":"` + trace + `","span_id":"` + span + `"}`)},
		// Upper-case id in Raw: the record's id is lower case, so nothing is cut.
		{Level: "error", Message: "upper", TraceID: trace,
			Raw: []byte(`{"msg":"upper","trace_id":"4BF92F3577B34DA6A3CE929D0E0E4736","level":"ERROR"}`)},
		// The message holds the trace id: the id overlaps the message cut and stays in Raw.
		{Message: "trace " + trace + " failed", TraceID: trace, Raw: []byte(`{"msg":"trace ` + trace + ` failed"}`)},
		// Escaped message: not in Raw verbatim.
		{Message: "a \"quoted\" word", Raw: []byte(`{"msg":"a \"quoted\" word"}`)},
		// Odd-length hex id, fields with values absent from Raw, empty values.
		{TraceID: "abc", Fields: []Field{{"n", "1", KindNumber}, {"x", "not in raw", KindString}, {"e", "", KindString}}, Raw: []byte(`{"trace_id":"abc","n":1}`)},
		// Span before trace in Raw, id repeated in Raw.
		{TraceID: trace, SpanID: span, Raw: []byte(`{"span":"` + span + `","trace":"` + trace + `","again":"` + trace + `"}`)},
		{Raw: []byte{}},
		{Message: "no raw"},
	}
	for i := range lines {
		lines[i].Time = t0.Add(time.Duration(i) * time.Second)
	}
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	var w blockWriter
	sec, _ := w.encode(lines, enc)
	raw, err := dec.DecodeAll(sec.msgs, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := decodeMessages(raw)
	if err != nil {
		t.Fatal(err)
	}
	p := &partition{}
	e := blockEntry{lines: uint32(len(lines))}
	got, err := p.decodeRecords(e, m, sec.recs, nil, dec)
	if err != nil {
		t.Fatal(err)
	}
	equal := func(a, b *Record) bool {
		return a.Time.Equal(b.Time) && a.Service == b.Service && a.Level == b.Level && a.Message == b.Message &&
			a.TraceID == b.TraceID && a.SpanID == b.SpanID && slices.Equal(a.Fields, b.Fields) && string(a.Raw) == string(b.Raw)
	}
	for i := range lines {
		if !equal(&got[i], &lines[i]) {
			t.Errorf("line %d = %+v\nwant %+v", i, got[i], lines[i])
		}
	}
	want := newLineBits(len(lines))
	want.set(2)
	want.set(5)
	some, err := p.decodeRecords(e, m, sec.recs, want, dec)
	if err != nil {
		t.Fatal(err)
	}
	for i := range lines {
		if want.has(i) && !equal(&some[i], &lines[i]) {
			t.Errorf("selective line %d = %+v\nwant %+v", i, some[i], lines[i])
		}
	}
}
