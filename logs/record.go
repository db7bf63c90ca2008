package logs

import "time"

// Record is one log line as Vigil keeps it. The ingest edge builds records from every log
// protocol; the store indexes them and returns Raw unchanged on a hit.
type Record struct {
	// Time is when the event happened (the line's own timestamp, else the receive time).
	Time time.Time
	// Service, Level, Message, TraceID and SpanID are the recognised fields, normalised:
	// Level lower-case ("error", "warn", "info", "debug", ...), TraceID/SpanID lower-case hex.
	Service string
	Level   string
	Message string
	TraceID string
	SpanID  string
	// Fields are every other field, nested objects flattened with dots ("http.status"), in the
	// order they were sent.
	Fields []Field
	// Raw is the line exactly as it was sent (for OTLP and Loki, a JSON rendering of the
	// record). A search hit returns these bytes.
	Raw []byte
}

// Field is one flattened field of a record.
type Field struct {
	Key   string
	Value string // the value as text: numbers as written, booleans "true"/"false"
	Kind  FieldKind
}

// FieldKind says how a field's value is indexed.
type FieldKind uint8

// Field kinds: strings are keywords, numbers numeric, booleans keywords "true"/"false".
const (
	KindString FieldKind = iota
	KindNumber
	KindBool
)
