package ingest

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/vigilhq/vigil/traces"
)

// decodeBothWays decodes b with decodeOTLPSpans and with the reference path (pdata, with
// the wrong-length-id retry, then convertOTLPTraces).
func decodeBothWays(b []byte, now time.Time) (fast []traces.Span, fc *spanCheck, fastErr error, slow []traces.Span, sc *spanCheck, slowErr error) {
	skew := time.Hour
	fc = &spanCheck{now: now, skew: skew}
	fast, fastErr = decodeOTLPSpans(b, fc)
	sc = &spanCheck{now: now, skew: skew}
	req := ptraceotlp.NewExportRequest()
	if slowErr = req.UnmarshalProto(b); slowErr != nil {
		fixed, n, err := dropBadIDSpansProto(b, sc)
		if err != nil || n == 0 {
			return
		}
		req = ptraceotlp.NewExportRequest()
		if slowErr = req.UnmarshalProto(fixed); slowErr != nil {
			return
		}
	}
	slow = convertOTLPTraces(req.Traces(), sc)
	return
}

func sameCheck(a, b *spanCheck) bool {
	return a.total == b.total && a.rejected == b.rejected && a.reason == b.reason &&
		reflect.DeepEqual(a.byReason, b.byReason) && a.message() == b.message()
}

// richTraces exercises every field the fast decoder reads.
func richTraces(now time.Time) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "shop")
	rs.Resource().Attributes().PutInt("pid", 42)
	rs.Resource().Attributes().PutEmpty("nothing")
	for si, scopeName := range []string{"a", "b"} {
		ss := rs.ScopeSpans().AppendEmpty()
		ss.Scope().SetName(scopeName)
		ss.Scope().SetVersion("v1")
		ss.Scope().Attributes().PutStr("ignored", "x")
		for i := range 3 {
			s := ss.Spans().AppendEmpty()
			s.SetTraceID(pcommon.TraceID{1, 2, 3, byte(si)})
			s.SetSpanID(pcommon.SpanID{9, byte(si), byte(i + 1)})
			if i > 0 {
				s.SetParentSpanID(pcommon.SpanID{9, byte(si), byte(i)})
			}
			s.TraceState().FromRaw("k=v")
			s.SetFlags(0x101)
			s.SetName("op")
			s.SetKind(ptrace.SpanKind(i + 1))
			s.SetStartTimestamp(pcommon.NewTimestampFromTime(now.Add(-time.Minute)))
			s.SetEndTimestamp(pcommon.NewTimestampFromTime(now.Add(-time.Minute + time.Duration(i+1)*time.Millisecond)))
			s.Status().SetCode(ptrace.StatusCode(i))
			s.Status().SetMessage("status message")
			a := s.Attributes()
			a.PutStr("s", "text")
			a.PutBool("b", true)
			a.PutInt("i", -7)
			a.PutDouble("d", 2.5)
			a.PutEmptyBytes("raw").FromRaw([]byte{0, 1, 2})
			a.PutEmpty("empty")
			e := s.Events().AppendEmpty()
			e.SetName("ev")
			e.SetTimestamp(pcommon.NewTimestampFromTime(now.Add(-time.Minute)))
			e.Attributes().PutInt("n", 1)
			s.Events().AppendEmpty() // an event with nothing set
			l := s.Links().AppendEmpty()
			l.SetTraceID(pcommon.TraceID{7})
			l.SetSpanID(pcommon.SpanID{8})
			l.TraceState().FromRaw("l=1")
			l.Attributes().PutStr("why", "retry")
			l.SetFlags(1)
		}
	}
	// A resource without service.name, and a span without attributes.
	rs2 := td.ResourceSpans().AppendEmpty()
	s := rs2.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	s.SetTraceID(pcommon.TraceID{5})
	s.SetSpanID(pcommon.SpanID{5})
	s.SetStartTimestamp(pcommon.NewTimestampFromTime(now.Add(-time.Second)))
	s.SetEndTimestamp(pcommon.NewTimestampFromTime(now))
	return td
}

func marshalTraces(t testing.TB, td ptrace.Traces) []byte {
	t.Helper()
	b, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDecodeOTLPSpansMatchesPdata: the fast decoder gives exactly what pdata and
// convertOTLPTraces give, rejections included, or hands the request to them.
func TestDecodeOTLPSpansMatchesPdata(t *testing.T) {
	now := time.Now()
	arrays := richTraces(now)
	arrays.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().PutEmptySlice("list").AppendEmpty().SetStr("x")
	deprecated := []byte{0x0a, 0x03, 0xc2, 0x3e, 0x00} // resource_spans { instrumentation_library_spans (1000) {} }
	cases := []struct {
		name     string
		body     []byte
		slowPath bool
	}{
		{"rich", marshalTraces(t, richTraces(now)), false},
		{"bench load", benchTraceRequest(rand.New(rand.NewPCG(3, 4)), now.Add(-time.Hour)), false},
		{"bad spans", marshalTraces(t, badSpans(now)), false},
		{"wrong-length ids", badIDRequest(now), false},
		{"empty", nil, false},
		{"array value", marshalTraces(t, arrays), true},
		{"deprecated scope spans", deprecated, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fast, fc, fastErr, slow, sc, slowErr := decodeBothWays(tc.body, now)
			if tc.slowPath {
				if !errors.Is(fastErr, errSlowPath) {
					t.Fatalf("fast decoder: %v, want errSlowPath", fastErr)
				}
				return
			}
			if fastErr != nil || slowErr != nil {
				t.Fatalf("fast: %v, pdata: %v", fastErr, slowErr)
			}
			if !reflect.DeepEqual(fast, slow) {
				t.Errorf("spans differ:\nfast %+v\npdata %+v", fast, slow)
			}
			if !sameCheck(fc, sc) {
				t.Errorf("checks differ: fast %+v, pdata %+v", fc, sc)
			}
			if tc.name == "rich" && len(fast) != 7 {
				t.Errorf("rich: %d spans, want 7", len(fast))
			}
		})
	}
}

// FuzzDecodeOTLPSpans: whenever both decoders take a request they agree; the fast one
// never panics.
func FuzzDecodeOTLPSpans(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	f.Add(marshalTraces(f, richTraces(now)))
	f.Add(marshalTraces(f, badSpans(now)))
	f.Add(badIDRequest(now))
	f.Add(benchTraceRequest(rand.New(rand.NewPCG(1, 1)), now.Add(-time.Hour))[:2000])
	f.Fuzz(func(t *testing.T, b []byte) {
		fast, fc, fastErr, slow, sc, slowErr := decodeBothWays(b, now)
		if fastErr != nil || slowErr != nil {
			return // the fast decoder hands over, or is laxer about fields it skips
		}
		if !reflect.DeepEqual(fast, slow) || !sameCheck(fc, sc) {
			t.Errorf("decoders differ:\nfast %+v %+v\npdata %+v %+v", fast, fc, slow, sc)
		}
	})
}
