package ingest

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vigilhq/vigil/logs"
)

// slot is a recognised field of logs.Record.
type slot uint8

const (
	slotNone slot = iota
	slotTime
	slotLevel
	slotMessage
	slotService
	slotTraceID
	slotSpanID
)

// recognisedKeys maps the usual field names, after flattening, to the Record field they fill.
// The first occurrence fills the slot; a later one with the same meaning stays a field.
// ECS names (log.level, service.name, trace.id, span.id) are here because Filebeat and
// Logstash send them.
var recognisedKeys = map[string]slot{
	"timestamp": slotTime, "time": slotTime, "ts": slotTime, "@timestamp": slotTime,
	"level": slotLevel, "severity": slotLevel, "lvl": slotLevel, "log.level": slotLevel,
	"detected_level": slotLevel,
	"message":        slotMessage, "msg": slotMessage,
	"service": slotService, "service.name": slotService, "service_name": slotService,
	"trace_id": slotTraceID, "traceId": slotTraceID, "traceID": slotTraceID, "trace.id": slotTraceID,
	"span_id": slotSpanID, "spanId": slotSpanID, "spanID": slotSpanID, "span.id": slotSpanID,
}

// recordBuilder fills one logs.Record from flattened key/value pairs, in the order sent.
type recordBuilder struct {
	rec     logs.Record
	hasTime bool
	// skipTime leaves time keys as plain fields (Loki: the entry timestamp is the time).
	skipTime bool
	// err is the first reason the line must be rejected.
	err    error
	reason rejectReason
}

func (b *recordBuilder) reset(skipTime bool) {
	fields := b.rec.Fields[:0]
	*b = recordBuilder{skipTime: skipTime}
	b.rec.Fields = fields
}

// add takes one flattened field.
func (b *recordBuilder) add(key, value string, kind logs.FieldKind) {
	switch s := recognisedKeys[key]; {
	case s == slotTime && !b.skipTime && !b.hasTime:
		t, err := parseLogTime(value, kind)
		if err != nil {
			if b.err == nil {
				b.err, b.reason = fmt.Errorf("field %q: %w", key, err), reasonBadTime
			}
			return
		}
		b.rec.Time, b.hasTime = t, true
		return
	case s == slotLevel && b.rec.Level == "" && kind != logs.KindBool:
		if lvl := normaliseLevel(value, kind); lvl != "" {
			b.rec.Level = lvl
			return
		}
	case s == slotMessage && b.rec.Message == "" && kind == logs.KindString:
		b.rec.Message = value
		return
	case s == slotService && b.rec.Service == "" && kind == logs.KindString && value != "":
		b.rec.Service = value
		return
	case s == slotTraceID && b.rec.TraceID == "" && kind == logs.KindString && isHexID(value):
		b.rec.TraceID = strings.ToLower(value)
		return
	case s == slotSpanID && b.rec.SpanID == "" && kind == logs.KindString && isHexID(value):
		b.rec.SpanID = strings.ToLower(value)
		return
	}
	b.rec.Fields = append(b.rec.Fields, logs.Field{Key: key, Value: value, Kind: kind})
}

// hasField tells whether key is already a field or filled its slot.
func (b *recordBuilder) hasField(key string) bool {
	switch recognisedKeys[key] {
	case slotTime:
		if !b.skipTime && b.hasTime {
			return true
		}
	case slotLevel:
		if b.rec.Level != "" {
			return true
		}
	case slotMessage:
		if b.rec.Message != "" {
			return true
		}
	case slotService:
		if b.rec.Service != "" {
			return true
		}
	}
	for _, f := range b.rec.Fields {
		if f.Key == key {
			return true
		}
	}
	return false
}

// finish returns the record, its time defaulted to now, and copies its fields so the builder
// can be reused.
func (b *recordBuilder) finish(now time.Time, raw []byte) logs.Record {
	rec := b.rec
	if !b.hasTime {
		rec.Time = now
	}
	rec.Fields = append([]logs.Field(nil), b.rec.Fields...)
	rec.Raw = raw
	return rec
}

// isHexID tells whether s is a non-empty hex string of at most 64 digits (trace ids are 32,
// span ids 16; some systems use other even lengths).
func isHexID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// normaliseLevel lower-cases a level and maps the common aliases and numeric levels
// (pino/bunyan 10..60, syslog-style "warning", "err") onto trace, debug, info, warn, error,
// fatal. Anything else is kept lower-cased. Returns "" for an empty or unusable value.
func normaliseLevel(v string, kind logs.FieldKind) string {
	if kind == logs.KindNumber {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return ""
		}
		switch {
		case n <= 10:
			return "trace"
		case n <= 20:
			return "debug"
		case n <= 30:
			return "info"
		case n <= 40:
			return "warn"
		case n <= 50:
			return "error"
		default:
			return "fatal"
		}
	}
	l := strings.ToLower(strings.TrimSpace(v))
	switch l {
	case "warning":
		return "warn"
	case "err", "eror":
		return "error"
	case "information", "informational", "notice":
		return "info"
	case "dbg":
		return "debug"
	case "trc":
		return "trace"
	case "crit", "critical", "emerg", "emergency", "alert", "panic", "dpanic":
		return "fatal"
	}
	return l
}

var errTimeNegative = errors.New("negative epoch time")

// parseLogTime reads a time field: RFC 3339 text, or an epoch number (or numeric text) in
// seconds, milliseconds, microseconds or nanoseconds, told apart by magnitude: below 1e11 is
// seconds (until the year 5138), below 1e14 milliseconds, below 1e17 microseconds, else
// nanoseconds. Fractions are kept.
func parseLogTime(v string, kind logs.FieldKind) (time.Time, error) {
	if kind == logs.KindBool {
		return time.Time{}, fmt.Errorf("time is a boolean")
	}
	s := strings.TrimSpace(v)
	if kind == logs.KindString && !looksNumeric(s) {
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999Z0700"} {
			if t, err := time.Parse(layout, s); err == nil {
				return t, nil
			}
		}
		return time.Time{}, fmt.Errorf("time %q is neither RFC 3339 nor an epoch number", truncateMessage(s, 64))
	}
	return parseEpoch(s)
}

func looksNumeric(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
			return false
		}
	}
	return '0' <= s[0] && s[0] <= '9' || s[0] == '-'
}

// parseEpoch reads an epoch number: integers and decimals exactly, exponent forms through
// float64.
func parseEpoch(s string) (time.Time, error) {
	intPart, frac, hasFrac := strings.Cut(s, ".")
	n, err := strconv.ParseInt(intPart, 10, 64)
	if err == nil && (!hasFrac || allDigits(frac)) {
		if n < 0 || strings.HasPrefix(intPart, "-") {
			return time.Time{}, errTimeNegative
		}
		var unit int64 // nanoseconds per unit
		switch {
		case n < 1e11:
			unit = 1e9
		case n < 1e14:
			unit = 1e6
		case n < 1e17:
			unit = 1e3
		default:
			unit = 1
		}
		if n >= (1<<63-1)/unit {
			return time.Time{}, fmt.Errorf("time %q is out of range", truncateMessage(s, 64))
		}
		ns := n * unit
		if len(frac) > 9 {
			frac = frac[:9]
		}
		if frac != "" {
			f, _ := strconv.ParseInt(frac, 10, 64)
			for i := len(frac); i < 9; i++ {
				f *= 10
			}
			ns += f * unit / 1e9 // f is in nanoseconds of a unit
		}
		return time.Unix(0, ns).UTC(), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != f {
		return time.Time{}, fmt.Errorf("time %q is not an epoch number", truncateMessage(s, 64))
	}
	if f < 0 {
		return time.Time{}, errTimeNegative
	}
	var ns float64
	switch {
	case f < 1e11:
		ns = f * 1e9
	case f < 1e14:
		ns = f * 1e6
	case f < 1e17:
		ns = f * 1e3
	default:
		ns = f
	}
	if ns >= 9.2e18 {
		return time.Time{}, fmt.Errorf("time %q is out of range", truncateMessage(s, 64))
	}
	return time.Unix(0, int64(ns)).UTC(), nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
