package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode/utf8"

	"github.com/vigilhq/vigil/logs"
)

// flattenMaxDepth bounds how deep objects are flattened; a deeper object is kept whole as a
// JSON-text field. It keeps a pathological line from building quadratic key strings.
const flattenMaxDepth = 32

// jsonMaxNesting is encoding/json's nesting limit: json.Valid refuses deeper documents, and so
// does the walker, so that both agree on what is JSON.
const jsonMaxNesting = 10000

var (
	errNotJSON   = errors.New("not valid JSON")
	errNotObject = errors.New("not a JSON object")
)

// parseJSONObject checks that line is one JSON object and feeds its fields to b, nested
// objects flattened with dots ("http.status"), in the order sent. Strings are unescaped,
// numbers kept as written, arrays kept as their compact JSON text, nulls and empty objects
// dropped. It accepts exactly what json.Valid accepts (FuzzJSONWalkerAgreesWithValid), in one
// pass: checking with json.Valid first cost a tenth of log ingest. On a syntax error b may
// hold part of the line's fields; the caller rejects the line and resets b.
func parseJSONObject(line []byte, b *recordBuilder) (rejectReason, error) {
	w := jsonWalker{buf: line, b: b}
	w.skipSpace()
	if w.peek() != '{' {
		// Rare: tell a JSON value that is not an object from text that is not JSON.
		if json.Valid(line) {
			return reasonNotObject, errNotObject
		}
		return reasonBadJSON, errNotJSON
	}
	if !w.object("", 0) {
		return reasonBadJSON, errNotJSON
	}
	w.skipSpace()
	if w.pos != len(w.buf) {
		return reasonBadJSON, errNotJSON
	}
	return "", nil
}

// jsonWalker walks one JSON document, checking its syntax as it goes (RFC 8259, as
// encoding/json reads it: invalid UTF-8 is accepted and becomes U+FFFD when unescaped).
type jsonWalker struct {
	buf []byte
	pos int
	b   *recordBuilder
}

// peek is the byte at pos, or 0 at the end (0 is never valid where a byte is looked at).
func (w *jsonWalker) peek() byte {
	if w.pos < len(w.buf) {
		return w.buf[w.pos]
	}
	return 0
}

func (w *jsonWalker) skipSpace() {
	for w.pos < len(w.buf) {
		switch w.buf[w.pos] {
		case ' ', '\t', '\n', '\r':
			w.pos++
		default:
			return
		}
	}
}

// object walks the object at pos (nested depth objects deep; 0 is the line itself), adding
// its fields with keys prefixed by prefix (which ends in "." unless empty). False: bad syntax.
func (w *jsonWalker) object(prefix string, depth int) bool {
	w.pos++ // {
	w.skipSpace()
	if w.peek() == '}' {
		w.pos++
		return true
	}
	for {
		if w.peek() != '"' {
			return false
		}
		name, ok := w.str()
		if !ok {
			return false
		}
		w.skipSpace()
		if w.peek() != ':' {
			return false
		}
		w.pos++
		w.skipSpace()
		if !w.value(prefix+name, depth) {
			return false
		}
		w.skipSpace()
		switch w.peek() {
		case ',':
			w.pos++
			w.skipSpace()
		case '}':
			w.pos++
			return true
		default:
			return false
		}
	}
}

// value walks one member value of an object nested depth deep and adds it under key.
func (w *jsonWalker) value(key string, depth int) bool {
	start := w.pos
	switch c := w.peek(); c {
	case '{':
		if depth+1 < flattenMaxDepth {
			return w.object(key+".", depth+1)
		}
		if !w.skip(depth + 2) {
			return false
		}
		w.b.add(key, compactJSON(w.buf[start:w.pos]), logs.KindString)
	case '[':
		if !w.skip(depth + 2) {
			return false
		}
		w.b.add(key, compactJSON(w.buf[start:w.pos]), logs.KindString)
	case '"':
		s, ok := w.str()
		if !ok {
			return false
		}
		w.b.add(key, s, logs.KindString)
	case 't':
		if !w.literal("true") {
			return false
		}
		w.b.add(key, "true", logs.KindBool)
	case 'f':
		if !w.literal("false") {
			return false
		}
		w.b.add(key, "false", logs.KindBool)
	case 'n':
		return w.literal("null")
	default:
		if !w.number() {
			return false
		}
		w.b.add(key, string(w.buf[start:w.pos]), logs.KindNumber)
	}
	return true
}

// skip moves past the value at pos, checking it; level is the nesting level a composite value
// there would have (the line's own object is level 1).
func (w *jsonWalker) skip(level int) bool {
	switch w.peek() {
	case '{', '[':
		if level > jsonMaxNesting {
			return false
		}
		closing := byte('}')
		if w.buf[w.pos] == '[' {
			closing = ']'
		}
		w.pos++
		w.skipSpace()
		if w.peek() == closing {
			w.pos++
			return true
		}
		for {
			if closing == '}' {
				if w.peek() != '"' || !w.skipString() {
					return false
				}
				w.skipSpace()
				if w.peek() != ':' {
					return false
				}
				w.pos++
				w.skipSpace()
			}
			if !w.skip(level + 1) {
				return false
			}
			w.skipSpace()
			switch w.peek() {
			case ',':
				w.pos++
				w.skipSpace()
			case closing:
				w.pos++
				return true
			default:
				return false
			}
		}
	case '"':
		return w.skipString()
	case 't':
		return w.literal("true")
	case 'f':
		return w.literal("false")
	case 'n':
		return w.literal("null")
	default:
		return w.number()
	}
}

func (w *jsonWalker) literal(s string) bool {
	if !bytes.HasPrefix(w.buf[w.pos:], []byte(s)) {
		return false
	}
	w.pos += len(s)
	return true
}

// number moves past the number at pos: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (w *jsonWalker) number() bool {
	if w.peek() == '-' {
		w.pos++
	}
	switch c := w.peek(); {
	case c == '0':
		w.pos++
	case '1' <= c && c <= '9':
		w.digits()
	default:
		return false
	}
	if w.peek() == '.' {
		w.pos++
		if !w.digits() {
			return false
		}
	}
	if c := w.peek(); c == 'e' || c == 'E' {
		w.pos++
		if c := w.peek(); c == '+' || c == '-' {
			w.pos++
		}
		if !w.digits() {
			return false
		}
	}
	return true
}

// digits moves past a run of decimal digits and reports whether there was at least one.
func (w *jsonWalker) digits() bool {
	start := w.pos
	for w.pos < len(w.buf) && '0' <= w.buf[w.pos] && w.buf[w.pos] <= '9' {
		w.pos++
	}
	return w.pos > start
}

// scanString moves past the string at pos (on its opening quote), checking its escapes and
// that it has no control characters; escaped reports a backslash in it.
func (w *jsonWalker) scanString() (ok, escaped bool) {
	w.pos++ // opening quote
	for w.pos < len(w.buf) {
		c := w.buf[w.pos]
		switch {
		case c == '"':
			w.pos++
			return true, escaped
		case c == '\\':
			escaped = true
			if w.pos+1 >= len(w.buf) {
				return false, escaped
			}
			switch w.buf[w.pos+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				w.pos += 2
			case 'u':
				if w.pos+6 > len(w.buf) {
					return false, escaped
				}
				for _, h := range w.buf[w.pos+2 : w.pos+6] {
					if !isHexDigit(h) {
						return false, escaped
					}
				}
				w.pos += 6
			default:
				return false, escaped
			}
		case c < 0x20:
			return false, escaped
		default:
			w.pos++
		}
	}
	return false, escaped
}

func (w *jsonWalker) skipString() bool {
	ok, _ := w.scanString()
	return ok
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// str reads the string at pos, unescaping it if needed.
func (w *jsonWalker) str() (string, bool) {
	start := w.pos
	ok, escaped := w.scanString()
	if !ok {
		return "", false
	}
	raw := w.buf[start:w.pos]
	if !escaped && utf8.Valid(raw) {
		return string(raw[1 : len(raw)-1]), true
	}
	var s string
	if json.Unmarshal(raw, &s) != nil { // checked above; invalid UTF-8 becomes U+FFFD
		return "", false
	}
	return s, true
}

// compactJSON is the JSON text of an array or object without insignificant space.
func compactJSON(raw []byte) string {
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return string(raw)
	}
	return buf.String()
}
