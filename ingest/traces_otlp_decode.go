package ingest

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/vigilhq/vigil/traces"
)

// decodeOTLPSpans decodes a protobuf ExportTraceServiceRequest straight into spans,
// keeping those c accepts: what pdata decoding followed by convertOTLPTraces gives, at a
// fraction of the cost (pdata builds an object per attribute and value; this builds the
// spans, and copies each distinct short string once per request). A span with an id of the
// wrong length is rejected alone (c.rejectBadID).
//
// It handles the messages OTLP exporters send; for anything else it returns
// errSlowPath and the caller decodes with pdata, whose answer is then the reference:
// array and map values (their JSON text comes from pdata), the deprecated
// instrumentation_library_spans, a repeated resource, scope or status message, and any
// wire type pdata would refuse. TestDecodeOTLPSpansMatchesPdata and FuzzDecodeOTLPSpans
// hold the two paths to the same result.
func decodeOTLPSpans(b []byte, c *spanCheck) ([]traces.Span, error) {
	d := otlpDecoders.Get().(*otlpDecoder)
	defer otlpDecoders.Put(d)
	d.reset(c)
	d.out = make([]traces.Span, 0, len(b)/400+1) // an exported span takes 400+ bytes
	if err := d.request(b); err != nil {
		return nil, err
	}
	return d.out, nil
}

// errSlowPath means: decode this request with pdata.
var errSlowPath = errors.New("OTLP traces request needs the pdata decoder")

var otlpDecoders = sync.Pool{New: func() any { return &otlpDecoder{strs: map[string]string{}} }}

// maxInternedStrings bounds the per-request string table (keys, names and repeated
// values); past it strings are copied one by one.
const maxInternedStrings = 4096

// otlpDecoder holds the state of one request's decoding.
type otlpDecoder struct {
	c    *spanCheck
	out  []traces.Span
	strs map[string]string
	slab []traces.Attribute
}

func (d *otlpDecoder) reset(c *spanCheck) {
	d.c, d.out, d.slab = c, nil, nil
	if len(d.strs) > maxInternedStrings {
		d.strs = map[string]string{}
	}
	clear(d.strs)
}

// str copies b into a string, once per distinct short string of the request.
func (d *otlpDecoder) str(b []byte) string {
	if len(b) > 64 {
		return string(b)
	}
	if s, ok := d.strs[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(d.strs) < maxInternedStrings {
		d.strs[s] = s
	}
	return s
}

// fields calls fn for each field of message m with its number, wire type and contents
// (the bytes of a length-delimited field, else the raw value). fn returning an error stops.
func fields(m []byte, fn func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error) error {
	for len(m) > 0 {
		num, typ, n := protowire.ConsumeTag(m)
		if n < 0 {
			return protowire.ParseError(n)
		}
		m = m[n:]
		var (
			v []byte
			x uint64
		)
		switch typ {
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(m)
		case protowire.Fixed64Type:
			x, n = protowire.ConsumeFixed64(m)
		case protowire.Fixed32Type:
			var x32 uint32
			x32, n = protowire.ConsumeFixed32(m)
			x = uint64(x32)
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(m)
		default:
			return errSlowPath // groups: pdata decides
		}
		if n < 0 {
			return protowire.ParseError(n)
		}
		m = m[n:]
		if err := fn(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}

// want checks a field's wire type (pdata refuses a mismatch; so does the slow path).
func want(typ, is protowire.Type) error {
	if typ != is {
		return errSlowPath
	}
	return nil
}

func (d *otlpDecoder) request(b []byte) error {
	return fields(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num != 1 { // resource_spans
			return nil
		}
		if err := want(typ, protowire.BytesType); err != nil {
			return err
		}
		return d.resourceSpans(v)
	})
}

// resourceSpans: resource = 1, scope_spans = 2, schema_url = 3,
// instrumentation_library_spans = 1000 (deprecated; pdata migrates it).
func (d *otlpDecoder) resourceSpans(b []byte) error {
	var resource, scopes [][]byte
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		switch num {
		case 1:
			resource = append(resource, v)
			return want(typ, protowire.BytesType)
		case 2:
			scopes = append(scopes, v)
			return want(typ, protowire.BytesType)
		case 3:
			return want(typ, protowire.BytesType)
		case 1000:
			return errSlowPath
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(resource) > 1 {
		return errSlowPath
	}
	service := unknownService
	var res []traces.Attribute
	if len(resource) == 1 {
		// Resource: attributes = 1, dropped_attributes_count = 2, entity_refs = 3.
		err := fields(resource[0], func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
			switch num {
			case 1:
				if err := want(typ, protowire.BytesType); err != nil {
					return err
				}
				a, err := d.keyValue(v)
				if err != nil {
					return err
				}
				if a.Key == "service.name" {
					if a.Value.Type() != traces.ValueString {
						return errSlowPath // pdata's text of other types
					}
					if a.Value.Str() != "" {
						service = a.Value.Str()
					}
					return nil
				}
				res = append(res, a)
			case 2:
				return want(typ, protowire.VarintType)
			case 3:
				return want(typ, protowire.BytesType)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	for _, ss := range scopes {
		if err := d.scopeSpans(ss, service, res); err != nil {
			return err
		}
	}
	return nil
}

// scopeSpans: scope = 1, spans = 2, schema_url = 3.
func (d *otlpDecoder) scopeSpans(b []byte, service string, res []traces.Attribute) error {
	var scope traces.Scope
	var spans [][]byte
	nScopes := 0
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		switch num {
		case 1:
			nScopes++
			if err := want(typ, protowire.BytesType); err != nil {
				return err
			}
			// InstrumentationScope: name = 1, version = 2, attributes = 3, dropped = 4.
			return fields(v, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
				switch num {
				case 1, 2:
					if err := want(typ, protowire.BytesType); err != nil {
						return err
					}
					if num == 1 {
						scope.Name = d.str(v)
					} else {
						scope.Version = d.str(v)
					}
				case 3:
					if err := want(typ, protowire.BytesType); err != nil {
						return err
					}
					_, err := d.keyValue(v) // checked, not kept (as convertOTLPTraces)
					return err
				case 4:
					return want(typ, protowire.VarintType)
				}
				return nil
			})
		case 2:
			spans = append(spans, v)
			return want(typ, protowire.BytesType)
		case 3:
			return want(typ, protowire.BytesType)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if nScopes > 1 {
		return errSlowPath
	}
	for _, sp := range spans {
		if err := d.span(sp, service, res, scope); err != nil {
			return err
		}
	}
	return nil
}

// span decodes one Span (field numbers in the cases) and hands it to the check.
func (d *otlpDecoder) span(b []byte, service string, res []traces.Attribute, scope traces.Scope) error {
	s := traces.Span{Service: service, Resource: res, Scope: scope}
	var (
		badReason rejectReason
		badMsg    string
		nAttrs    int
		nStatus   int
	)
	bad := func(r rejectReason, what string, got, want int) {
		if badReason == "" {
			badReason, badMsg = r, fmt.Sprintf("%s has %d bytes, want %d", what, got, want)
		}
	}
	// Count the attributes first so they take one cut of the slab.
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		if num == 9 {
			nAttrs++
		}
		return nil
	})
	if err != nil {
		return err
	}
	if nAttrs > 0 {
		s.Attributes = d.attrs(nAttrs)
	}
	var start, end uint64
	err = fields(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch num {
		case 1, 2, 4: // trace_id, span_id, parent_span_id
			if err := want(typ, protowire.BytesType); err != nil {
				return err
			}
			switch num {
			case 1:
				if len(v) != 0 && len(v) != 16 {
					bad(reasonBadTraceID, "trace id", len(v), 16)
					return nil
				}
				s.TraceID = traces.TraceID{}
				copy(s.TraceID[:], v)
			case 2:
				if len(v) != 0 && len(v) != 8 {
					bad(reasonBadSpanID, "span id", len(v), 8)
					return nil
				}
				s.SpanID = traces.SpanID{}
				copy(s.SpanID[:], v)
			case 4:
				if len(v) != 0 && len(v) != 8 {
					bad(reasonBadParentID, "parent span id", len(v), 8)
					return nil
				}
				s.ParentSpanID = traces.SpanID{}
				copy(s.ParentSpanID[:], v)
			}
		case 3: // trace_state
			if err := want(typ, protowire.BytesType); err != nil {
				return err
			}
			s.TraceState = d.str(v)
		case 16: // flags
			if err := want(typ, protowire.Fixed32Type); err != nil {
				return err
			}
			s.Flags = uint32(x)
		case 5: // name
			if err := want(typ, protowire.BytesType); err != nil {
				return err
			}
			s.Name = d.str(v)
		case 6: // kind
			if err := want(typ, protowire.VarintType); err != nil {
				return err
			}
			s.Kind = traces.SpanKind(int32(x))
		case 7, 8: // start_time_unix_nano, end_time_unix_nano
			if err := want(typ, protowire.Fixed64Type); err != nil {
				return err
			}
			if num == 7 {
				start = x
			} else {
				end = x
			}
		case 9: // attributes
			if err := want(typ, protowire.BytesType); err != nil {
				return err
			}
			a, err := d.keyValue(v)
			if err != nil {
				return err
			}
			s.Attributes = append(s.Attributes, a)
		case 10, 12, 14: // dropped counts
			return want(typ, protowire.VarintType)
		case 11: // events
			if err := want(typ, protowire.BytesType); err != nil {
				return err
			}
			return d.event(&s, v)
		case 13: // links
			if err := want(typ, protowire.BytesType); err != nil {
				return err
			}
			return d.link(&s, v, bad)
		case 15: // status: message = 2, code = 3
			if err := want(typ, protowire.BytesType); err != nil {
				return err
			}
			if nStatus++; nStatus > 1 {
				return errSlowPath
			}
			return fields(v, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
				switch num {
				case 2:
					if err := want(typ, protowire.BytesType); err != nil {
						return err
					}
					s.StatusMessage = d.str(v)
				case 3:
					if err := want(typ, protowire.VarintType); err != nil {
						return err
					}
					s.StatusCode = traces.StatusCode(int32(x))
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return err
	}
	if badReason != "" {
		d.c.rejectBadID(badReason, badMsg)
		return nil
	}
	s.Start, s.End = time.Unix(0, int64(start)).UTC(), time.Unix(0, int64(end)).UTC()
	if s.Kind > traces.SpanKindConsumer {
		s.Kind = traces.SpanKindUnspecified
	}
	if s.StatusCode > traces.StatusError {
		s.StatusCode = traces.StatusUnset
	}
	if d.c.ok(&s) {
		d.out = append(d.out, s)
	}
	return nil
}

// attrs returns an empty slice with room for n attributes, cut from the slab.
func (d *otlpDecoder) attrs(n int) []traces.Attribute {
	if len(d.slab) < n {
		d.slab = make([]traces.Attribute, max(n, 2048))
	}
	out := d.slab[:0:n]
	d.slab = d.slab[n:]
	return out
}

// event: time_unix_nano = 1, name = 2, attributes = 3, dropped_attributes_count = 4.
func (d *otlpDecoder) event(s *traces.Span, b []byte) error {
	var ev traces.Event
	var ts uint64
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch num {
		case 1:
			if err := want(typ, protowire.Fixed64Type); err != nil {
				return err
			}
			ts = x
		case 2:
			if err := want(typ, protowire.BytesType); err != nil {
				return err
			}
			ev.Name = d.str(v)
		case 3:
			if err := want(typ, protowire.BytesType); err != nil {
				return err
			}
			a, err := d.keyValue(v)
			if err != nil {
				return err
			}
			ev.Attributes = append(ev.Attributes, a)
		case 4:
			return want(typ, protowire.VarintType)
		}
		return nil
	})
	ev.Time = time.Unix(0, int64(ts)).UTC()
	s.Events = append(s.Events, ev)
	return err
}

// link: trace_id = 1, span_id = 2, trace_state = 3, attributes = 4, dropped = 5, flags = 6.
func (d *otlpDecoder) link(s *traces.Span, b []byte, bad func(rejectReason, string, int, int)) error {
	var l traces.Link
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch num {
		case 1, 2, 3, 4:
			if err := want(typ, protowire.BytesType); err != nil {
				return err
			}
			switch num {
			case 1:
				if len(v) != 0 && len(v) != 16 {
					bad(reasonBadLinkID, "link trace id", len(v), 16)
					return nil
				}
				l.TraceID = traces.TraceID{}
				copy(l.TraceID[:], v)
			case 2:
				if len(v) != 0 && len(v) != 8 {
					bad(reasonBadLinkID, "link span id", len(v), 8)
					return nil
				}
				l.SpanID = traces.SpanID{}
				copy(l.SpanID[:], v)
			case 3:
				l.TraceState = d.str(v)
			case 4:
				a, err := d.keyValue(v)
				if err != nil {
					return err
				}
				l.Attributes = append(l.Attributes, a)
			}
		case 5:
			return want(typ, protowire.VarintType)
		case 6:
			return want(typ, protowire.Fixed32Type)
		}
		return nil
	})
	s.Links = append(s.Links, l)
	return err
}

// keyValue decodes a KeyValue (key = 1, value = 2) the way convertAttr converts pdata's.
func (d *otlpDecoder) keyValue(b []byte) (traces.Attribute, error) {
	a := traces.Attribute{Value: traces.StringValue("")} // an absent value is pdata's empty value
	nValues := 0
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		switch num {
		case 1:
			if err := want(typ, protowire.BytesType); err != nil {
				return err
			}
			a.Key = d.str(v)
		case 2:
			if err := want(typ, protowire.BytesType); err != nil {
				return err
			}
			if nValues++; nValues > 1 {
				return errSlowPath
			}
			val, err := d.anyValue(v)
			a.Value = val
			return err
		}
		return nil
	})
	return a, err
}

// anyValue: string = 1, bool = 2, int = 3, double = 4, bytes = 7; arrays (5) and maps (6)
// take the slow path.
func (d *otlpDecoder) anyValue(b []byte) (traces.Value, error) {
	v := traces.StringValue("")
	n := 0
	err := fields(b, func(num protowire.Number, typ protowire.Type, raw []byte, x uint64) error {
		if n++; n > 1 {
			return errSlowPath // a oneof set twice: pdata keeps the last, of any type
		}
		switch num {
		case 1:
			if err := want(typ, protowire.BytesType); err != nil {
				return err
			}
			v = traces.StringValue(d.str(raw))
		case 2:
			if err := want(typ, protowire.VarintType); err != nil {
				return err
			}
			v = traces.BoolValue(x != 0)
		case 3:
			if err := want(typ, protowire.VarintType); err != nil {
				return err
			}
			v = traces.IntValue(int64(x))
		case 4:
			if err := want(typ, protowire.Fixed64Type); err != nil {
				return err
			}
			v = traces.FloatValue(math.Float64frombits(x))
		case 7:
			if err := want(typ, protowire.BytesType); err != nil {
				return err
			}
			v = traces.BytesValue(raw)
		default:
			return errSlowPath
		}
		return nil
	})
	return v, err
}
