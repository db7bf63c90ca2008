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

var (
	errNotJSON   = errors.New("not valid JSON")
	errNotObject = errors.New("not a JSON object")
)

// parseJSONObject checks that line is one JSON object and feeds its fields to b, nested
// objects flattened with dots ("http.status"), in the order sent. Strings are unescaped,
// numbers kept as written, arrays kept as their compact JSON text, nulls and empty objects dropped.
func parseJSONObject(line []byte, b *recordBuilder) (rejectReason, error) {
	if !json.Valid(line) {
		return reasonBadJSON, errNotJSON
	}
	w := jsonWalker{buf: line, b: b}
	w.skipSpace()
	if w.pos >= len(w.buf) || w.buf[w.pos] != '{' {
		return reasonNotObject, errNotObject
	}
	w.object("", 0)
	return "", nil
}

// jsonWalker walks JSON already checked by json.Valid, so it does not re-check syntax.
type jsonWalker struct {
	buf []byte
	pos int
	b   *recordBuilder
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

// object walks {...} at w.pos, prefixing keys with prefix (which ends in "." unless empty).
func (w *jsonWalker) object(prefix string, depth int) {
	w.pos++ // {
	for {
		w.skipSpace()
		if w.buf[w.pos] == '}' {
			w.pos++
			return
		}
		if w.buf[w.pos] == ',' {
			w.pos++
			w.skipSpace()
		}
		name := w.str()
		w.skipSpace()
		w.pos++ // :
		w.skipSpace()
		w.value(prefix+name, depth)
	}
}

// value walks one value and adds it to the builder under key.
func (w *jsonWalker) value(key string, depth int) {
	switch c := w.buf[w.pos]; {
	case c == '{':
		if depth+1 >= flattenMaxDepth {
			start := w.pos
			w.skipComposite()
			w.b.add(key, compactJSON(w.buf[start:w.pos]), logs.KindString)
			return
		}
		w.object(key+".", depth+1)
	case c == '[':
		start := w.pos
		w.skipComposite()
		w.b.add(key, compactJSON(w.buf[start:w.pos]), logs.KindString)
	case c == '"':
		w.b.add(key, w.str(), logs.KindString)
	case c == 't':
		w.pos += 4
		w.b.add(key, "true", logs.KindBool)
	case c == 'f':
		w.pos += 5
		w.b.add(key, "false", logs.KindBool)
	case c == 'n':
		w.pos += 4
	default:
		start := w.pos
		for w.pos < len(w.buf) && isNumberByte(w.buf[w.pos]) {
			w.pos++
		}
		w.b.add(key, string(w.buf[start:w.pos]), logs.KindNumber)
	}
}

func isNumberByte(c byte) bool {
	return '0' <= c && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}

// str reads the string at w.pos, unescaping it if needed.
func (w *jsonWalker) str() string {
	start := w.pos
	w.pos++ // opening quote
	escaped := false
	for {
		c := w.buf[w.pos]
		if c == '\\' {
			escaped = true
			w.pos += 2
			continue
		}
		w.pos++
		if c == '"' {
			break
		}
	}
	raw := w.buf[start:w.pos]
	if !escaped && utf8.Valid(raw) {
		return string(raw[1 : len(raw)-1])
	}
	var s string
	_ = json.Unmarshal(raw, &s) // valid by json.Valid; invalid UTF-8 becomes U+FFFD
	return s
}

// skipComposite moves past the array or object at w.pos.
func (w *jsonWalker) skipComposite() {
	depth := 0
	for w.pos < len(w.buf) {
		switch w.buf[w.pos] {
		case '"':
			w.str()
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				w.pos++
				return
			}
		}
		w.pos++
	}
}

// compactJSON is the JSON text of an array or object without insignificant space.
func compactJSON(raw []byte) string {
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return string(raw)
	}
	return buf.String()
}
