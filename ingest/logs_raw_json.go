package ingest

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/vigilhq/vigil/logs"
)

// appendRecordJSON renders a record built from a protocol with no line of its own (OTLP, Loki)
// as its Raw bytes: one flat JSON object
//
//	{"time":"<RFC 3339, nanoseconds, UTC>","level":..,"service":..,"message":..,
//	 "trace_id":..,"span_id":..,"<field>":<value>,...}
//
// with the recognised keys present only when set, then every field under its dotted key in
// record order; numbers and booleans are JSON numbers and booleans, everything else a string.
// Posting the result to /api/v1/logs gives back the same record (unless a field's key is one
// of the recognised names, which a sender can only do over OTLP or Loki).
func appendRecordJSON(dst []byte, rec *logs.Record) []byte {
	dst = append(dst, `{"time":"`...)
	dst = rec.Time.UTC().AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, '"')
	for _, kv := range [...]struct{ k, v string }{
		{"level", rec.Level}, {"service", rec.Service}, {"message", rec.Message},
		{"trace_id", rec.TraceID}, {"span_id", rec.SpanID},
	} {
		if kv.v != "" {
			dst = append(dst, ',')
			dst = appendJSONString(dst, kv.k)
			dst = append(dst, ':')
			dst = appendJSONString(dst, kv.v)
		}
	}
	for _, f := range rec.Fields {
		dst = append(dst, ',')
		dst = appendJSONString(dst, f.Key)
		dst = append(dst, ':')
		switch {
		case f.Kind == logs.KindBool && (f.Value == "true" || f.Value == "false"):
			dst = append(dst, f.Value...)
		case f.Kind == logs.KindNumber && isJSONNumber(f.Value):
			dst = append(dst, f.Value...)
		default:
			dst = appendJSONString(dst, f.Value)
		}
	}
	return append(dst, '}')
}

// isJSONNumber tells whether s is a number in JSON's grammar.
func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		j := i
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
		if i == j {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := i
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
		if i == j {
			return false
		}
	}
	return i == len(s)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes U+FFFD. HTML characters
// are not escaped: the bytes are for logs, not for a web page.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// formatFloatField renders a float attribute: a JSON number when finite, else text.
func formatFloatField(f float64) (string, logs.FieldKind) {
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if isJSONNumber(s) {
		return s, logs.KindNumber
	}
	return s, logs.KindString
}
