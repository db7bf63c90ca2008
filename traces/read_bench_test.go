package traces

import (
	"context"
	"testing"
	"time"
)

// BenchmarkReads writes 200,000 spans of bench/traces' load (one hour) and times the
// reads bench/traces times: a trace by id, the search of checkout's /api/checkout spans
// over 100 ms, and a search for a tag no span has (the worst case: every checkout entry of
// the hour is read and none passes its Bloom filter).
//
//	go test -run '^$' -bench Reads ./traces/
func BenchmarkReads(b *testing.B) {
	const batches = 400
	db := openTestDB(b, b.TempDir(), DefaultOptions())
	gen := newRealisticGen(7, batches*512)
	var ids []TraceID
	for i := range batches {
		spans := gen.batch(512)
		if i%4 == 0 {
			ids = append(ids, spans[0].TraceID)
		}
		mustWrite(b, db, spans)
	}
	if err := db.pdb.Flush(); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	window := func(q Query) Query {
		q.Start, q.End = base.Add(-time.Minute), base.Add(2*time.Hour)
		return q
	}
	b.Run("trace by id", func(b *testing.B) {
		i := 0
		for b.Loop() {
			spans, err := db.TraceSpans(ctx, ids[i%len(ids)])
			if err != nil || len(spans) < 5 {
				b.Fatalf("%d spans, %v", len(spans), err)
			}
			i++
		}
	})
	b.Run("search service tag min duration", func(b *testing.B) {
		q := window(Query{Service: "checkout", Tags: map[string]string{"http.route": "/api/checkout"}, MinDuration: 100 * time.Millisecond, Limit: 20})
		for b.Loop() {
			var n int
			for spans, err := range db.FindTraces(ctx, q) {
				if err != nil {
					b.Fatal(err)
				}
				n += len(spans)
			}
			if n == 0 {
				b.Fatal("nothing found")
			}
		}
	})
	b.Run("search absent tag", func(b *testing.B) {
		q := window(Query{Service: "checkout", Tags: map[string]string{"user.id": "nobody"}, Limit: 20})
		for b.Loop() {
			ids, err := db.FindTraceIDs(ctx, q)
			if err != nil || len(ids) != 0 {
				b.Fatalf("%v, %v", ids, err)
			}
		}
	})
}
