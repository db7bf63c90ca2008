package ingest

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/vigilhq/vigil/traces"
)

// pdata refuses a whole request when one trace or span id has the wrong length (ids are
// fixed-size arrays there). OTLP asks for the rest of the request to be stored and the bad
// spans reported, so when decoding fails the request is decoded again without the spans
// whose ids have the wrong length, each rejected on its own (spanCheck.rejectBadID). Valid
// requests never pay for this: it runs only after pdata failed.

// tracesRequest decodes an ExportTraceServiceRequest, tolerating spans with ids of the
// wrong length. It is the otlpRequest of the OTLP/HTTP path, and (through its
// UnmarshalProto, which pdata's gRPC codec calls) the request message of the gRPC path.
type tracesRequest struct {
	req   ptraceotlp.ExportRequest
	check *spanCheck
	// spans is set, and req left empty, when the fast decoder took the request
	// (traces_otlp_decode.go); else req holds it.
	spans []traces.Span
	fast  bool
	// err is why the request does not decode even without its bad spans (gRPC path; the
	// HTTP path gets it as the Unmarshal error).
	err error
}

func newTracesRequest(c *spanCheck) *tracesRequest {
	return &tracesRequest{req: ptraceotlp.NewExportRequest(), check: c}
}

// UnmarshalProto decodes a protobuf request: with decodeOTLPSpans if it can, else with
// pdata.
func (r *tracesRequest) UnmarshalProto(b []byte) error {
	c := &spanCheck{now: r.check.now, skew: r.check.skew, limits: r.check.limits}
	if spans, err := decodeOTLPSpans(b, c); err == nil {
		*r.check, r.spans, r.fast = *c, spans, true
		return nil
	}
	err := r.req.UnmarshalProto(b)
	if err == nil {
		return nil
	}
	fixed, n, ferr := dropBadIDSpansProto(b, r.check)
	if ferr != nil || n == 0 {
		return err
	}
	r.req = ptraceotlp.NewExportRequest()
	return r.req.UnmarshalProto(fixed)
}

// UnmarshalJSON decodes a JSON request.
func (r *tracesRequest) UnmarshalJSON(b []byte) error {
	err := r.req.UnmarshalJSON(b)
	if err == nil {
		return nil
	}
	fixed, n, ferr := dropBadIDSpansJSON(b, r.check)
	if ferr != nil || n == 0 {
		return err
	}
	r.req = ptraceotlp.NewExportRequest()
	return r.req.UnmarshalJSON(fixed)
}

// Field numbers of the OTLP trace messages that lead to ids.
const (
	fieldResourceSpans = 1 // ExportTraceServiceRequest.resource_spans
	fieldScopeSpans    = 2 // ResourceSpans.scope_spans
	fieldSpans         = 2 // ScopeSpans.spans
	fieldTraceID       = 1 // Span.trace_id, Link.trace_id
	fieldSpanID        = 2 // Span.span_id, Link.span_id
	fieldParentSpanID  = 4 // Span.parent_span_id
	fieldLinks         = 13
)

// dropBadIDSpansProto rewrites a protobuf ExportTraceServiceRequest without the spans that
// have an id of the wrong length, rejecting each in c. It returns how many it dropped.
func dropBadIDSpansProto(b []byte, c *spanCheck) ([]byte, int, error) {
	dropped := 0
	var scopeSpans, resourceSpans func([]byte) ([]byte, error)
	scopeSpans = func(m []byte) ([]byte, error) {
		return rewriteMessage(m, fieldSpans, func(span []byte) ([]byte, bool, error) {
			if reason, msg := badSpanIDs(span); reason != "" {
				dropped++
				c.rejectBadID(reason, msg)
				return nil, false, nil
			}
			return span, true, nil
		})
	}
	resourceSpans = func(m []byte) ([]byte, error) {
		return rewriteMessage(m, fieldScopeSpans, func(ss []byte) ([]byte, bool, error) {
			out, err := scopeSpans(ss)
			return out, true, err
		})
	}
	out, err := rewriteMessage(b, fieldResourceSpans, func(rs []byte) ([]byte, bool, error) {
		out, err := resourceSpans(rs)
		return out, true, err
	})
	return out, dropped, err
}

// rewriteMessage copies the fields of message m, passing every length-delimited field
// number f through fn, which returns the new contents and whether to keep the field.
func rewriteMessage(m []byte, f protowire.Number, fn func([]byte) ([]byte, bool, error)) ([]byte, error) {
	out := make([]byte, 0, len(m))
	for len(m) > 0 {
		num, typ, n := protowire.ConsumeTag(m)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		fieldLen := protowire.ConsumeFieldValue(num, typ, m[n:])
		if fieldLen < 0 {
			return nil, protowire.ParseError(fieldLen)
		}
		field := m[:n+fieldLen]
		m = m[n+fieldLen:]
		if num != f || typ != protowire.BytesType {
			out = append(out, field...)
			continue
		}
		v, _ := protowire.ConsumeBytes(field[n:])
		nv, keep, err := fn(v)
		if err != nil {
			return nil, err
		}
		if keep {
			out = protowire.AppendTag(out, num, typ)
			out = protowire.AppendBytes(out, nv)
		}
	}
	return out, nil
}

// badSpanIDs checks the ids of an encoded Span and of its links; it returns the reason and
// a message for the first bad one, or "".
func badSpanIDs(span []byte) (rejectReason, string) {
	var reason rejectReason
	var msg string
	check := func(what string, r rejectReason, want int, v []byte) {
		if reason == "" && len(v) != 0 && len(v) != want {
			reason, msg = r, fmt.Sprintf("%s has %d bytes, want %d", what, len(v), want)
		}
	}
	walkBytesFields(span, func(num protowire.Number, v []byte) {
		switch num {
		case fieldTraceID:
			check("trace id", reasonBadTraceID, 16, v)
		case fieldSpanID:
			check("span id", reasonBadSpanID, 8, v)
		case fieldParentSpanID:
			check("parent span id", reasonBadParentID, 8, v)
		case fieldLinks:
			walkBytesFields(v, func(num protowire.Number, v []byte) {
				switch num {
				case fieldTraceID:
					check("link trace id", reasonBadLinkID, 16, v)
				case fieldSpanID:
					check("link span id", reasonBadLinkID, 8, v)
				}
			})
		}
	})
	return reason, msg
}

// walkBytesFields calls fn with each length-delimited field of m; it stops at malformed
// input (pdata reports that).
func walkBytesFields(m []byte, fn func(protowire.Number, []byte)) {
	for len(m) > 0 {
		num, typ, n := protowire.ConsumeTag(m)
		if n < 0 {
			return
		}
		m = m[n:]
		if typ == protowire.BytesType {
			v, n := protowire.ConsumeBytes(m)
			if n < 0 {
				return
			}
			fn(num, v)
			m = m[n:]
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, m)
		if n < 0 {
			return
		}
		m = m[n:]
	}
}

// dropBadIDSpansJSON does what dropBadIDSpansProto does for OTLP JSON (ids in hex;
// lowerCamelCase or snake_case field names, as pdata accepts).
func dropBadIDSpansJSON(b []byte, c *spanCheck) ([]byte, int, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // keep 64-bit integers exact
	var req map[string]any
	if err := dec.Decode(&req); err != nil {
		return nil, 0, err
	}
	dropped := 0
	for _, rs := range jsonList(req, "resourceSpans", "resource_spans") {
		for _, ss := range jsonList(rs, "scopeSpans", "scope_spans") {
			spans := jsonList(ss, "spans")
			kept := make([]any, 0, len(spans))
			for _, s := range spans {
				if reason, msg := badJSONSpanIDs(s); reason != "" {
					dropped++
					c.rejectBadID(reason, msg)
					continue
				}
				kept = append(kept, s)
			}
			if m, ok := ss.(map[string]any); ok {
				m["spans"] = kept
			}
		}
	}
	if dropped == 0 {
		return nil, 0, errors.New("no span with a bad id")
	}
	out, err := json.Marshal(req)
	return out, dropped, err
}

// jsonList returns the array under the first of keys that m (a JSON object) has.
func jsonList(m any, keys ...string) []any {
	obj, ok := m.(map[string]any)
	if !ok {
		return nil
	}
	for _, k := range keys {
		if l, ok := obj[k].([]any); ok {
			return l
		}
	}
	return nil
}

func badJSONSpanIDs(s any) (rejectReason, string) {
	obj, ok := s.(map[string]any)
	if !ok {
		return "", ""
	}
	var reason rejectReason
	var msg string
	check := func(m map[string]any, what string, r rejectReason, want int, keys ...string) {
		for _, k := range keys {
			v, ok := m[k]
			if !ok || reason != "" {
				continue
			}
			str, isStr := v.(string)
			if !isStr {
				reason, msg = r, fmt.Sprintf("%s is not a string", what)
				continue
			}
			if str == "" {
				continue // missing: spanCheck decides
			}
			if b, err := hex.DecodeString(str); err != nil || len(b) != want {
				reason, msg = r, fmt.Sprintf("%s %q is not %d hex digits", what, str, 2*want)
			}
		}
	}
	check(obj, "trace id", reasonBadTraceID, 16, "traceId", "trace_id")
	check(obj, "span id", reasonBadSpanID, 8, "spanId", "span_id")
	check(obj, "parent span id", reasonBadParentID, 8, "parentSpanId", "parent_span_id")
	for _, l := range jsonList(obj, "links") {
		if lm, ok := l.(map[string]any); ok {
			check(lm, "link trace id", reasonBadLinkID, 16, "traceId", "trace_id")
			check(lm, "link span id", reasonBadLinkID, 8, "spanId", "span_id")
		}
	}
	return reason, msg
}
