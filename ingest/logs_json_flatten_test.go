package ingest

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/logs"
)

// walk runs parseJSONObject on line with a fresh builder.
func walk(line []byte) (rejectReason, error, []logs.Field) {
	var b recordBuilder
	b.reset(true)
	reason, err := parseJSONObject(line, &b)
	return reason, err, b.rec.Fields
}

func TestJSONWalkerSyntax(t *testing.T) {
	deep := strings.Repeat("[", jsonMaxNesting-1) + strings.Repeat("]", jsonMaxNesting-1)
	tooDeep := strings.Repeat("[", jsonMaxNesting) + strings.Repeat("]", jsonMaxNesting)
	for _, tc := range []struct {
		line   string
		reason rejectReason // "" accepted
	}{
		{`{}`, ""},
		{` {"a" : 1 , "b":[1,{"c":null}],"d":{"e":"\u00e9\n"}} `, ""},
		{`{"n":-0.5e+10,"z":0,"t":true,"f":false,"x":null}`, ""},
		{`{"deep":` + deep + `}`, ""},
		{`{"deep":` + tooDeep + `}`, reasonBadJSON},
		{`[1]`, reasonNotObject},
		{`"s"`, reasonNotObject},
		{`{"a":1}x`, reasonBadJSON},
		{`{"a":1,}`, reasonBadJSON},
		{`{"a" 1}`, reasonBadJSON},
		{`{a:1}`, reasonBadJSON},
		{`{"a":01}`, reasonBadJSON},
		{`{"a":1.}`, reasonBadJSON},
		{`{"a":.5}`, reasonBadJSON},
		{`{"a":1e}`, reasonBadJSON},
		{`{"a":+1}`, reasonBadJSON},
		{`{"a":tru}`, reasonBadJSON},
		{`{"a":truex}`, reasonBadJSON},
		{`{"a":"\x"}`, reasonBadJSON},
		{`{"a":"\u12g4"}`, reasonBadJSON},
		{"{\"a\":\"tab\there\"}", reasonBadJSON},
		{`{"a":"unterminated}`, reasonBadJSON},
		{`{"a":[1,2}`, reasonBadJSON},
		{`{"a":{"b":1]}`, reasonBadJSON},
		{`{"a":1`, reasonBadJSON},
		{``, reasonBadJSON},
	} {
		reason, err, _ := walk([]byte(tc.line))
		if reason != tc.reason || (err == nil) != (tc.reason == "") {
			t.Errorf("%.60q: reason %q (%v), want %q", tc.line, reason, err, tc.reason)
		}
		if valid := json.Valid([]byte(tc.line)); valid != (tc.reason != reasonBadJSON) {
			t.Errorf("%.60q: json.Valid %v disagrees with the case", tc.line, valid)
		}
	}
}

func TestJSONWalkerFields(t *testing.T) {
	_, err, fields := walk([]byte(`{"a":{"b":"x\"y","c":[1, 2]},"n":1.50,"e":{},"z":null,"u":"caf\u00e9","ok":false}`))
	if err != nil {
		t.Fatal(err)
	}
	want := []logs.Field{
		{Key: "a.b", Value: `x"y`, Kind: logs.KindString},
		{Key: "a.c", Value: `[1,2]`, Kind: logs.KindString},
		{Key: "n", Value: "1.50", Kind: logs.KindNumber},
		{Key: "u", Value: "café", Kind: logs.KindString},
		{Key: "ok", Value: "false", Kind: logs.KindBool},
	}
	if len(fields) != len(want) {
		t.Fatalf("fields %+v, want %+v", fields, want)
	}
	for i := range want {
		if fields[i] != want[i] {
			t.Errorf("field %d: %+v, want %+v", i, fields[i], want[i])
		}
	}
}

// FuzzJSONWalkerAgreesWithValid checks that the one-pass walker accepts exactly what
// json.Valid accepts, so dropping the separate json.Valid pass changed no answer.
func FuzzJSONWalkerAgreesWithValid(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":[1,{"b":"c"}],"d":-1.5e3}`, `{"a":"\ud83d\ude00"}`, `[1]`, `{"a":01}`, `{"a":"` + "\xff" + `"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		reason, err, _ := walk(line)
		valid := json.Valid(line)
		isObject := bytes.HasPrefix(bytes.TrimLeft(line, " \t\r\n"), []byte("{"))
		switch {
		case valid && isObject && err != nil:
			t.Fatalf("valid object refused (%s): %q", reason, line)
		case valid && !isObject && reason != reasonNotObject:
			t.Fatalf("valid non-object: reason %q, want %q: %q", reason, reasonNotObject, line)
		case !valid && reason != reasonBadJSON:
			t.Fatalf("invalid JSON: reason %q, want %q: %q", reason, reasonBadJSON, line)
		}
	})
}

// benchLogLine is a ~300-byte line like bench/logs' generator sends.
const benchLogLine = `{"timestamp":"2026-11-27T10:00:00.123456Z","level":"info","service":"checkout","message":"GET /api/v1/cart/8812 completed in 12.4ms status=200 upstream=payment-service:8080","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","http":{"method":"GET","status":200},"user_id":"u-8812","duration_ms":12.4}`

// BenchmarkJSONWalker is the per-line cost of parsing and flattening; json.Valid alone is
// what the walker's single pass saves (it used to run first on every line).
func BenchmarkJSONWalker(b *testing.B) {
	line := []byte(benchLogLine)
	b.Run("walk", func(b *testing.B) {
		var rb recordBuilder
		b.SetBytes(int64(len(line)))
		for b.Loop() {
			rb.reset(true)
			if _, err := parseJSONObject(line, &rb); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json.Valid", func(b *testing.B) {
		b.SetBytes(int64(len(line)))
		for b.Loop() {
			if !json.Valid(line) {
				b.Fatal("invalid")
			}
		}
	})
}
