package traces

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestTreeAPIGolden(t *testing.T) {
	db := openTestDB(t, t.TempDir(), DefaultOptions())
	mustWrite(t, db, fixtureTrace(1, base))
	h := db.JaegerHandler()
	tr := "/api/v1/traces/" + tid(1).String()
	cases := []struct{ name, url string }{
		{"tree_roots.json", tr + "/tree"},                                         // depth 3 leaves out SELECT
		{"tree_parent.json", tr + "/tree?parent=" + sid(2).String() + "&depth=1"}, // payment's server span only
		{"tree_limit.json", tr + "/tree?depth=10&limit=2"},                        // the root and its first child
		{"tree_all.json", tr + "/tree?parent=&depth=10"},                          // everything
		{"span.json", tr + "/spans/" + sid(1).String()},
		{"span_link.json", tr + "/spans/" + sid(4).String()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, body := get(t, h, tc.url)
			if code != http.StatusOK {
				t.Fatalf("GET %s: %d %s", tc.url, code, body)
			}
			checkGolden(t, tc.name, body)
		})
	}
}

func TestTreeAPIErrors(t *testing.T) {
	db := openTestDB(t, t.TempDir(), DefaultOptions())
	mustWrite(t, db, fixtureTrace(1, base))
	h := db.JaegerHandler()
	tr := "/api/v1/traces/" + tid(1).String()
	cases := []struct {
		url  string
		code int
		msg  string
	}{
		{"/api/v1/traces/" + tid(2).String() + "/tree", 404, "trace not found"},
		{"/api/v1/traces/nothex/tree", 400, "trace id"},
		{tr + "/tree?parent=" + sid(9).String(), 404, "span not found"},
		{tr + "/tree?parent=123", 400, "parent"},
		{tr + "/tree?depth=0", 400, "depth"},
		{tr + "/tree?limit=many", 400, "limit"},
		{tr + "/tree?limit=100001", 400, "limit"},
		{tr + "/spans/" + sid(9).String(), 404, "span not found"},
		{"/api/v1/traces/" + tid(2).String() + "/spans/" + sid(1).String(), 404, "trace not found"},
		{tr + "/spans/xyz", 400, "span id"},
	}
	for _, tc := range cases {
		code, body := get(t, h, tc.url)
		var resp jaegerResponse
		if err := json.Unmarshal(body, &resp); err != nil {
			t.Errorf("%s: not JSON: %v", tc.url, err)
			continue
		}
		if code != tc.code || len(resp.Errors) != 1 || !strings.Contains(resp.Errors[0].Msg, tc.msg) {
			t.Errorf("GET %s: %d %s; want %d mentioning %q", tc.url, code, body, tc.code, tc.msg)
		}
	}
}

func getTree(t *testing.T, h http.Handler, url string) treeResponse {
	t.Helper()
	code, body := get(t, h, url)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, code, body)
	}
	var resp treeResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestTreeOrphansAndCycles: a span whose parent is missing and the spans of a parent cycle
// are roots, so every span is in the tree exactly once.
func TestTreeOrphansAndCycles(t *testing.T) {
	db := openTestDB(t, t.TempDir(), DefaultOptions())
	at := func(ms int) time.Time { return base.Add(time.Duration(ms) * time.Millisecond) }
	span := func(id, parent byte, start int) Span {
		s := Span{TraceID: tid(1), SpanID: sid(id), Service: "svc", Name: fmt.Sprint("op", id), Start: at(start), End: at(start + 10)}
		if parent != 0 {
			s.ParentSpanID = sid(parent)
		}
		return s
	}
	mustWrite(t, db, []Span{span(1, 0, 0), span(2, 1, 1), span(3, 99, 2), span(4, 5, 3), span(5, 4, 4), span(6, 4, 5)})
	mustWrite(t, db, []Span{span(2, 1, 1)}) // a retry in another batch: read once
	resp := getTree(t, db.JaegerHandler(), "/api/v1/traces/"+tid(1).String()+"/tree?depth=100")
	seen := map[string]int{}
	roots := 0
	for _, s := range resp.Spans {
		seen[s.SpanID]++
		if s.ParentSpanID == "" || s.ParentSpanID == sid(99).String() || s.SpanID == sid(4).String() || s.SpanID == sid(5).String() {
			roots++
		}
	}
	if resp.SpanCount != 6 || len(seen) != 6 || len(resp.Spans) != 6 || resp.Omitted != 0 {
		t.Fatalf("got %d spans (%d distinct) of %d, omitted %d: %+v", len(resp.Spans), len(seen), resp.SpanCount, resp.Omitted, resp.Spans)
	}
	if roots < 3 { // 1, the orphan 3 and one of the 4<->5 cycle
		t.Errorf("want the orphan and a cycle member as roots: %+v", resp.Spans)
	}
}

// TestTreeLargeTrace: a 100,000-span trace (written in 512-span batches) answers within
// the limit, with exact counts for what it left out.
func TestTreeLargeTrace(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 100,000 spans")
	}
	db := openTestDB(t, t.TempDir(), DefaultOptions())
	writeLargeTrace(t, db)
	id := largeTraceSpanID
	const n = largeTraceSpans
	h := db.JaegerHandler()
	resp := getTree(t, h, "/api/v1/traces/"+tid(1).String()+"/tree")
	// Depth 3: the root, its 10 children and their 100.
	if resp.SpanCount != n || len(resp.Spans) != 111 || resp.Omitted != n-111 || !strings.HasPrefix(resp.Reason, "depth") {
		t.Fatalf("default tree: %d spans of %d, omitted %d, reason %q", len(resp.Spans), resp.SpanCount, resp.Omitted, resp.Reason)
	}
	if r := resp.Spans[0]; r.ParentSpanID != "" || r.ChildCount != 10 || r.DescendantCount != n-1 {
		t.Errorf("root: %+v", r)
	}
	if len(resp.Services) != 7 {
		t.Errorf("services: %v", resp.Services)
	}
	resp = getTree(t, h, "/api/v1/traces/"+tid(1).String()+"/tree?depth=100")
	if len(resp.Spans) != defaultTreeLimit || resp.Omitted != n-defaultTreeLimit || !strings.HasPrefix(resp.Reason, "limit") {
		t.Fatalf("deep tree: %d spans, omitted %d, reason %q", len(resp.Spans), resp.Omitted, resp.Reason)
	}
	// Below span 1 (children 11..20, each with 10 children, ...): 1 + 10 + 100 + 1000 + ... in the subtree.
	sub := getTree(t, h, "/api/v1/traces/"+tid(1).String()+"/tree?parent="+id(1).String()+"&depth=2")
	if len(sub.Spans) != 110 || sub.Spans[0].SpanID != id(11).String() || sub.Spans[0].ParentSpanID != id(1).String() {
		t.Fatalf("subtree: %d spans, first %+v", len(sub.Spans), sub.Spans[0])
	}
	if want := resp.Spans[1].DescendantCount - 110; sub.Omitted != want {
		t.Errorf("subtree omitted %d, want %d", sub.Omitted, want)
	}
	s, err := db.TraceSpan(context.Background(), tid(1), id(n-1))
	if err != nil || s.ParentSpanID != id((n-2)/10) {
		t.Errorf("last span: %+v, %v", s, err)
	}
}

const largeTraceSpans = 100_000

func largeTraceSpanID(i int) SpanID {
	var s SpanID
	binary.BigEndian.PutUint64(s[:], uint64(i)+1)
	return s
}

// writeLargeTrace writes trace tid(1) of 100,000 spans in 512-span batches: span i's parent
// is span (i-1)/10, a 10-ary tree of depth 5.
func writeLargeTrace(tb testing.TB, db *DB) {
	var batch []Span
	for i := range largeTraceSpans {
		s := Span{TraceID: tid(1), SpanID: largeTraceSpanID(i), Service: fmt.Sprint("svc", i%7), Name: "op", Start: base.Add(time.Duration(i) * time.Microsecond),
			Attributes: []Attribute{{Key: "i", Value: IntValue(int64(i))}, {Key: "http.route", Value: StringValue("/api/things")}}}
		s.End = s.Start.Add(time.Millisecond)
		if i > 0 {
			s.ParentSpanID = largeTraceSpanID((i - 1) / 10)
		}
		if batch = append(batch, s); len(batch) == 512 || i == largeTraceSpans-1 {
			mustWrite(tb, db, batch)
			batch = batch[:0]
		}
	}
}

// BenchmarkTreeLargeTrace: GET /tree (defaults) of a 100,000-span trace.
func BenchmarkTreeLargeTrace(b *testing.B) {
	db := openTestDB(b, b.TempDir(), DefaultOptions())
	writeLargeTrace(b, db)
	h := db.JaegerHandler()
	url := "/api/v1/traces/" + tid(1).String() + "/tree"
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, url, nil))
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}
