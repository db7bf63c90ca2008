package traces

import (
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"time"
)

// TraceID identifies a trace; the zero value is invalid.
type TraceID [16]byte

// SpanID identifies a span within its trace; the zero value means "none" (e.g. no parent).
type SpanID [8]byte

// String is the lower-case hex form used by Jaeger, OTLP JSON and W3C trace context.
func (id TraceID) String() string { return hex.EncodeToString(id[:]) }

// IsZero reports whether id is all zeros.
func (id TraceID) IsZero() bool { return id == TraceID{} }

// String is the lower-case hex form.
func (id SpanID) String() string { return hex.EncodeToString(id[:]) }

// IsZero reports whether id is all zeros.
func (id SpanID) IsZero() bool { return id == SpanID{} }

// ParseTraceID parses 1 to 32 hex digits; shorter ids are left-padded with zeros, as Jaeger
// does for 64-bit trace ids.
func ParseTraceID(s string) (TraceID, error) {
	var id TraceID
	if len(s) == 0 || len(s) > 32 {
		return id, fmt.Errorf("trace id %q: want 1 to 32 hex digits", s)
	}
	if len(s)%2 == 1 {
		s = "0" + s
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return id, fmt.Errorf("trace id %q: %w", s, err)
	}
	copy(id[16-len(b):], b)
	return id, nil
}

// SpanKind is the OpenTelemetry span kind.
type SpanKind uint8

// Span kinds, numbered as in OTLP.
const (
	SpanKindUnspecified SpanKind = iota
	SpanKindInternal
	SpanKindServer
	SpanKindClient
	SpanKindProducer
	SpanKindConsumer
)

// String is the lower-case name Jaeger uses in span.kind tags and /api/operations
// ("server", "client", ...); "" for unspecified.
func (k SpanKind) String() string {
	switch k {
	case SpanKindInternal:
		return "internal"
	case SpanKindServer:
		return "server"
	case SpanKindClient:
		return "client"
	case SpanKindProducer:
		return "producer"
	case SpanKindConsumer:
		return "consumer"
	}
	return ""
}

// OTLPName is the name of the kind in the OTLP enum ("SPAN_KIND_SERVER"), the value of the
// span_kind label of span metrics.
func (k SpanKind) OTLPName() string {
	switch k {
	case SpanKindInternal:
		return "SPAN_KIND_INTERNAL"
	case SpanKindServer:
		return "SPAN_KIND_SERVER"
	case SpanKindClient:
		return "SPAN_KIND_CLIENT"
	case SpanKindProducer:
		return "SPAN_KIND_PRODUCER"
	case SpanKindConsumer:
		return "SPAN_KIND_CONSUMER"
	}
	return "SPAN_KIND_UNSPECIFIED"
}

// ParseSpanKind is the inverse of SpanKind.String; ok is false for an unknown name.
func ParseSpanKind(s string) (k SpanKind, ok bool) {
	for k := SpanKindUnspecified; k <= SpanKindConsumer; k++ {
		if k.String() == s {
			return k, true
		}
	}
	return 0, false
}

// StatusCode is the OpenTelemetry span status code.
type StatusCode uint8

// Status codes, numbered as in OTLP.
const (
	StatusUnset StatusCode = iota
	StatusOK
	StatusError
)

// OTLPName is the name in the OTLP enum ("STATUS_CODE_ERROR"), the value of the status_code
// label of span metrics.
func (c StatusCode) OTLPName() string {
	switch c {
	case StatusOK:
		return "STATUS_CODE_OK"
	case StatusError:
		return "STATUS_CODE_ERROR"
	}
	return "STATUS_CODE_UNSET"
}

// Span is one stored span. Times are absolute; Service is the resource's service.name, kept
// out of Resource.
type Span struct {
	TraceID       TraceID
	SpanID        SpanID
	ParentSpanID  SpanID // zero for a root span
	TraceState    string
	Flags         uint32
	Service       string
	Name          string
	Kind          SpanKind
	Start, End    time.Time
	StatusCode    StatusCode
	StatusMessage string
	Attributes    []Attribute
	Resource      []Attribute // resource attributes other than service.name
	Scope         Scope
	Events        []Event
	Links         []Link
}

// Duration is End - Start.
func (s *Span) Duration() time.Duration { return s.End.Sub(s.Start) }

// Scope is the instrumentation scope that produced a span.
type Scope struct{ Name, Version string }

// Event is a timed annotation on a span (a Jaeger log).
type Event struct {
	Time       time.Time
	Name       string
	Attributes []Attribute
}

// Link points at another span (a Jaeger FOLLOWS_FROM reference).
type Link struct {
	TraceID    TraceID
	SpanID     SpanID
	TraceState string
	Attributes []Attribute
}

// Attribute is a key and a typed value.
type Attribute struct {
	Key   string
	Value Value
}

// ValueType is the type of a Value.
type ValueType uint8

// Value types; arrays and maps arrive as their JSON text in a ValueString.
const (
	ValueString ValueType = iota
	ValueBool
	ValueInt
	ValueFloat
	ValueBytes
)

// Value is a small typed attribute value, like slog.Value.
type Value struct {
	typ ValueType
	s   string // string or bytes
	n   uint64 // bool, int64 or float64 bits
}

// StringValue, BoolValue, IntValue, FloatValue and BytesValue build Values.
func StringValue(s string) Value { return Value{typ: ValueString, s: s} }

// BoolValue returns a boolean Value.
func BoolValue(b bool) Value {
	v := Value{typ: ValueBool}
	if b {
		v.n = 1
	}
	return v
}

// IntValue returns an integer Value.
func IntValue(i int64) Value { return Value{typ: ValueInt, n: uint64(i)} }

// FloatValue returns a floating-point Value.
func FloatValue(f float64) Value { return Value{typ: ValueFloat, n: math.Float64bits(f)} }

// BytesValue returns a Value holding a copy of b.
func BytesValue(b []byte) Value { return Value{typ: ValueBytes, s: string(b)} }

// Type is the value's type.
func (v Value) Type() ValueType { return v.typ }

// Str is the string (or the raw bytes of a ValueBytes).
func (v Value) Str() string { return v.s }

// Bool is the boolean of a ValueBool.
func (v Value) Bool() bool { return v.n != 0 }

// Int is the integer of a ValueInt.
func (v Value) Int() int64 { return int64(v.n) }

// Float is the number of a ValueFloat.
func (v Value) Float() float64 { return math.Float64frombits(v.n) }

// String renders the value as Jaeger's tag search compares it.
func (v Value) String() string {
	switch v.typ {
	case ValueBool:
		return strconv.FormatBool(v.Bool())
	case ValueInt:
		return strconv.FormatInt(v.Int(), 10)
	case ValueFloat:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	case ValueBytes:
		return hex.EncodeToString([]byte(v.s))
	}
	return v.s
}
