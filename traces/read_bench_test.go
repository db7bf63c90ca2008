package traces

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"
)

// BenchmarkReads writes 200,000 spans (READS_BATCHES x 512) of bench/traces' load (one
// hour) and times the
// reads bench/traces times: a trace by id, the search of checkout's /api/checkout spans
// over 100 ms, and a search for a tag no span has (the worst case: every checkout entry of
// the hour is read and none passes its Bloom filter).
//
//	go test -run '^$' -bench Reads ./traces/
//	READS_BATCHES=10000 go test -run '^$' -bench Reads -timeout 30m ./traces/   # 5M spans
func BenchmarkReads(b *testing.B) {
	batches := 400
	if n, err := strconv.Atoi(os.Getenv("READS_BATCHES")); err == nil {
		batches = n
	}
	db := openTestDB(b, b.TempDir(), DefaultOptions())
	gen := newRealisticGen(7, batches*512)
	pool := make([][]Span, min(batches, 64))
	for i := range pool {
		pool[i] = gen.batch(512)
	}
	step := time.Hour / time.Duration(batches)
	var ids []TraceID
	for i := range batches {
		spans := pool[i%len(pool)]
		if i >= len(pool) {
			restamp(spans, uint64(i), step*time.Duration(len(pool)))
		}
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
