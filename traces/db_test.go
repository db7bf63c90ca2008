package traces

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// TestChunkRoundTrip: every field of every span comes back as written, and every
// truncation of a stored chunk fails cleanly.
func TestChunkRoundTrip(t *testing.T) {
	db := openTestDB(t, t.TempDir(), DefaultOptions())
	want := fixtureTrace(1, base)
	want[2].TraceState, want[2].Flags = "k=v", 0x301
	want[2].Attributes = append(want[2].Attributes, Attribute{Key: "raw", Value: BytesValue([]byte{0, 1, 2})},
		Attribute{Key: "neg", Value: IntValue(-7)}, Attribute{Key: "long", Value: StringValue(strings.Repeat("x", 300))})
	want[3].Links = append(want[3].Links, Link{TraceID: tid(1), SpanID: sid(1), TraceState: "a=b",
		Attributes: []Attribute{{Key: "why", Value: StringValue("retry")}}})
	want[4].ParentSpanID = sid(77) // a parent outside the chunk
	want[4].Events = []Event{{Time: want[4].Start.Add(-time.Millisecond), Name: "early"}}
	mustWrite(t, db, want)
	got, err := db.TraceSpans(context.Background(), tid(1))
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(want, func(a, b Span) int { return slices.Compare(a.SpanID[:], b.SpanID[:]) })
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
	}

	lo, hi := traceRange(bucketOf(base), tid(1))
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	if !it.First() {
		t.Fatal("no chunk stored")
	}
	rec := slices.Clone(it.Value())
	resolve := func(uint64) ([]Attribute, error) { return nil, nil }
	if _, err := decodeChunk(tid(1), rec, resolve); err != nil {
		t.Fatalf("whole chunk: %v", err)
	}
	for n := range len(rec) {
		if _, err := decodeChunk(tid(1), rec[:n], resolve); err == nil {
			t.Fatalf("decoding %d of %d bytes: no error", n, len(rec))
		}
	}
}

func spanIDs(spans []Span) []SpanID {
	var ids []SpanID
	for _, s := range spans {
		ids = append(ids, s.SpanID)
	}
	slices.SortFunc(ids, func(a, b SpanID) int { return slices.Compare(a[:], b[:]) })
	return ids
}

// TestTraceInManyBatches: spans of one trace written minutes apart, in two hours' buckets,
// read back as one trace; after a reopen too.
func TestTraceInManyBatches(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, DefaultOptions(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	at := base.Add(59 * time.Minute) // the trace crosses into the next hour
	spans := fixtureTrace(1, at)
	spans[5].Start, spans[5].End = at.Add(2*time.Minute), at.Add(3*time.Minute)
	mustWrite(t, db, spans[:3])
	mustWrite(t, db, fixtureTrace(2, at)) // another trace in between
	mustWrite(t, db, spans[3:])
	mustWrite(t, db, spans[3:4]) // a retried batch replaces, not duplicates
	check := func(db *DB) {
		t.Helper()
		got, err := db.TraceSpans(context.Background(), tid(1))
		if err != nil {
			t.Fatal(err)
		}
		if want := spanIDs(spans); !reflect.DeepEqual(spanIDs(got), want) {
			t.Fatalf("got spans %v, want %v", spanIDs(got), want)
		}
	}
	check(db)
	if _, err := db.TraceSpans(context.Background(), tid(7)); !errors.Is(err, ErrTraceNotFound) {
		t.Fatalf("unknown trace: got %v, want ErrTraceNotFound", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openTestDB(t, dir, DefaultOptions())
	check(db)
	svcs, _ := db.Services(context.Background())
	if want := []string{"cart", "frontend", "payment"}; !reflect.DeepEqual(svcs, want) {
		t.Errorf("services after reopen: got %v, want %v", svcs, want)
	}
	ops, _ := db.Operations(context.Background(), "frontend", SpanKindClient)
	if want := []Operation{{"frontend", SpanKindClient, "GET /cart"}, {"frontend", SpanKindClient, "POST /pay"}}; !reflect.DeepEqual(ops, want) {
		t.Errorf("frontend client operations: got %v, want %v", ops, want)
	}
}

func TestFindTraces(t *testing.T) {
	db := openTestDB(t, t.TempDir(), DefaultOptions())
	// Trace i starts at base + i minutes; even traces are 10x slower.
	for i := byte(1); i <= 6; i++ {
		spans := fixtureTrace(i, base.Add(time.Duration(i)*time.Minute))
		if i%2 == 0 {
			for j := range spans {
				spans[j].End = spans[j].Start.Add(10 * spans[j].Duration())
			}
		}
		mustWrite(t, db, spans)
	}
	all := []TraceID{tid(6), tid(5), tid(4), tid(3), tid(2), tid(1)}
	cases := []struct {
		name string
		q    Query
		want []TraceID
	}{
		{"service, newest first", Query{Service: "cart"}, all},
		{"limit", Query{Service: "cart", Limit: 2}, all[:2]},
		{"operation", Query{Service: "payment", Operation: "SELECT"}, all},
		{"unknown operation", Query{Service: "payment", Operation: "GET /checkout"}, nil},
		{"tag", Query{Service: "payment", Tags: map[string]string{"db.system": "postgres"}}, all},
		{"int tag as text", Query{Service: "frontend", Tags: map[string]string{"http.status_code": "200"}}, all},
		{"resource tag", Query{Service: "cart", Tags: map[string]string{"host.name": "cart-1"}}, all},
		{"error tag", Query{Service: "payment", Tags: map[string]string{"error": "true"}}, all},
		{"tag of another service", Query{Service: "cart", Tags: map[string]string{"db.system": "postgres"}}, nil},
		{"tag and operation on different spans", Query{Service: "payment", Operation: "POST /pay", Tags: map[string]string{"db.system": "postgres"}}, nil},
		{"min duration", Query{Service: "frontend", Operation: "GET /checkout", MinDuration: 500 * time.Millisecond}, []TraceID{tid(6), tid(4), tid(2)}},
		{"max duration", Query{Service: "frontend", Operation: "GET /checkout", MaxDuration: 100 * time.Millisecond}, []TraceID{tid(5), tid(3), tid(1)}},
		{"window", Query{Service: "cart", Start: base.Add(2 * time.Minute), End: base.Add(4*time.Minute + time.Second)}, []TraceID{tid(4), tid(3), tid(2)}},
		{"unknown service", Query{Service: "nope"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := db.FindTraceIDs(context.Background(), tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("search limit", func(t *testing.T) {
		opts := DefaultOptions()
		opts.MaxSearchSpans = 3
		db := openTestDB(t, t.TempDir(), opts)
		for i := byte(1); i <= 6; i++ {
			mustWrite(t, db, fixtureTrace(i, base.Add(time.Duration(i)*time.Minute)))
		}
		got, err := db.FindTraceIDs(context.Background(), Query{Service: "cart"})
		if !errors.Is(err, ErrSearchLimit) || len(got) != 3 {
			t.Errorf("got %v, %v; want 3 traces and ErrSearchLimit", got, err)
		}
	})
}

func TestRetention(t *testing.T) {
	t.Run("age", func(t *testing.T) {
		db := openTestDB(t, t.TempDir(), DefaultOptions())
		old := base.Add(-8 * 24 * time.Hour)
		mustWrite(t, db, fixtureTrace(1, old))
		mustWrite(t, db, fixtureTrace(2, base))
		if err := db.applyRetention(base.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, err := db.TraceSpans(context.Background(), tid(1)); !errors.Is(err, ErrTraceNotFound) {
			t.Errorf("old trace: got %v, want ErrTraceNotFound", err)
		}
		if _, err := db.TraceSpans(context.Background(), tid(2)); err != nil {
			t.Errorf("recent trace: %v", err)
		}
		// The index went too: a search over all time finds only the recent trace.
		got, err := db.FindTraceIDs(context.Background(), Query{Service: "cart"})
		if err != nil || !reflect.DeepEqual(got, []TraceID{tid(2)}) {
			t.Errorf("search after retention: got %v, %v", got, err)
		}
		// Nothing is left of the dropped hour, not even after a reopen of the catalog.
		it, err := db.pdb.NewIter(nil)
		if err != nil {
			t.Fatal(err)
		}
		defer it.Close()
		for valid := it.First(); valid; valid = it.Next() {
			if b := it.Key()[1:5]; string(b) == string(chunkKey(nil, bucketOf(old), TraceID{}, chunkID{})[1:5]) {
				t.Fatalf("key %x of the dropped hour is still there", it.Key())
			}
		}
	})
	t.Run("size", func(t *testing.T) {
		opts := DefaultOptions()
		opts.Retention = 0
		opts.MaxBytes = 1 // everything is over: all but the newest hour go
		db := openTestDB(t, t.TempDir(), opts)
		for h := range 3 {
			mustWrite(t, db, fixtureTrace(byte(h+1), base.Add(time.Duration(h)*time.Hour)))
		}
		if err := db.applyRetention(base); err != nil {
			t.Fatal(err)
		}
		for h, want := range []bool{false, false, true} {
			_, err := db.TraceSpans(context.Background(), tid(byte(h+1)))
			if got := err == nil; got != want {
				t.Errorf("trace of hour %d kept=%v, want %v (err %v)", h, got, want, err)
			}
		}
	})
}

func TestOptionsValidate(t *testing.T) {
	f := func(mod func(*Options), ok bool) {
		t.Helper()
		o := DefaultOptions()
		mod(&o)
		if err := o.Validate(); (err == nil) != ok {
			t.Errorf("Validate() = %v, want ok=%v", err, ok)
		}
	}
	f(func(*Options) {}, true)
	f(func(o *Options) { o.Retention = 0 }, true)
	f(func(o *Options) { o.Retention = time.Minute }, false)
	f(func(o *Options) { o.MaxBytes = -1 }, false)
	f(func(o *Options) { o.RetentionInterval = 0 }, false)
}

func TestClosed(t *testing.T) {
	db, err := Open(t.TempDir(), DefaultOptions(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.WriteSpans(context.Background(), fixtureTrace(1, base)); !errors.Is(err, ErrClosed) {
		t.Errorf("write after close: got %v, want ErrClosed", err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
}

// TestOpenRefusesOtherFormat: a directory of format 1 (keys but no format key) or of an
// unknown format is refused with ErrFormat, and left as it was.
func TestOpenRefusesOtherFormat(t *testing.T) {
	for name, tc := range map[string]struct {
		comparer *pebble.Comparer
		keys     [][2]string
	}{
		"format 1":       {pebble.DefaultComparer, [][2]string{{"s\x00\x00\x00\x01span", "record"}}},
		"unknown format": {&keyComparer, [][2]string{{string(formatKey), "vigil-traces-99"}}},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			pdb, err := pebble.Open(dir, &pebble.Options{Comparer: tc.comparer})
			if err != nil {
				t.Fatal(err)
			}
			for _, kv := range tc.keys {
				if err := pdb.Set([]byte(kv[0]), []byte(kv[1]), pebble.Sync); err != nil {
					t.Fatal(err)
				}
			}
			if err := pdb.Close(); err != nil {
				t.Fatal(err)
			}
			db, err := Open(dir, DefaultOptions(), nil, nil)
			if err == nil {
				db.Close()
				t.Fatal("opened a store of another format")
			}
			if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "delete it") {
				t.Errorf("got %v, want ErrFormat saying what to do", err)
			}
		})
	}
}

// TestCloseRemovesRecycledWALs: a clean close leaves one empty write-ahead log, and the
// store reopens with everything, and takes new writes after that.
func TestCloseRemovesRecycledWALs(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, DefaultOptions(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := byte(1); i <= 3; i++ {
		mustWrite(t, db, fixtureTrace(i, base))
		if err := db.pdb.Flush(); err != nil { // a new log each time; the old one is kept for reuse
			t.Fatal(err)
		}
	}
	mustWrite(t, db, fixtureTrace(4, base))
	countLogs := func() int {
		logs, err := filepath.Glob(filepath.Join(dir, "*.log"))
		if err != nil {
			t.Fatal(err)
		}
		return len(logs)
	}
	if n := countLogs(); n < 2 {
		t.Fatalf("%d logs before close; the test needs recycled ones", n)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if n := countLogs(); n != 1 {
		t.Errorf("%d logs after close, want 1", n)
	}
	if logs, _ := filepath.Glob(filepath.Join(dir, "*.log")); len(logs) == 1 {
		if info, err := os.Stat(logs[0]); err != nil || info.Size() != 0 {
			t.Errorf("the last log after close: %v, %v; want it empty", info.Size(), err)
		}
	}
	db, err = Open(dir, DefaultOptions(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, db, fixtureTrace(5, base))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openTestDB(t, dir, DefaultOptions())
	for i := byte(1); i <= 5; i++ {
		if spans, err := db.TraceSpans(context.Background(), tid(i)); err != nil || len(spans) != 6 {
			t.Errorf("trace %d after reopen: %d spans, %v", i, len(spans), err)
		}
	}
}

// TestFindTracesAtWindowStart: a trace is found by a span inside the window although the
// first span of the service in that write starts before it, and not found when only spans
// before the window match.
func TestFindTracesAtWindowStart(t *testing.T) {
	db := openTestDB(t, t.TempDir(), DefaultOptions())
	spans := fixtureTrace(1, base)
	spans[5].Start, spans[5].End = base.Add(40*time.Second), base.Add(41*time.Second) // cart's only span
	spans[2].Start = base.Add(40 * time.Second)                                       // payment POST /pay moves into the window
	spans[2].End = spans[2].Start.Add(time.Second)
	mustWrite(t, db, spans) // payment: SELECT at base+20ms (before), POST /pay at base+40s (inside)
	win := func(q Query) Query {
		q.Start, q.End = base.Add(30*time.Second), base.Add(time.Hour)
		return q
	}
	for _, tc := range []struct {
		q    Query
		want int
	}{
		{win(Query{Service: "payment", Operation: "POST /pay"}), 1},
		{win(Query{Service: "payment", Operation: "SELECT"}), 0},
		{win(Query{Service: "cart"}), 1},
	} {
		got, err := db.FindTraceIDs(context.Background(), tc.q)
		if err != nil || len(got) != tc.want {
			t.Errorf("%+v: got %v, %v; want %d traces", tc.q, got, err, tc.want)
		}
	}
}
