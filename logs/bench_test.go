package logs

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"
)

func benchRecords(n int, base time.Time) []Record {
	services := []string{"checkout", "payments", "gateway", "search"}
	levels := []string{"info", "info", "info", "warn", "error", "debug"}
	recs := make([]Record, n)
	for i := range recs {
		ts := base.Add(time.Duration(i) * time.Millisecond)
		svc, lvl := services[i%len(services)], levels[i%len(levels)]
		msg := fmt.Sprintf("request %d to payment-service:8080 finished with status %d after %dms", i, 200+i%5*100, i%997)
		trace := fmt.Sprintf("%032x", i*7919)
		recs[i] = Record{
			Time: ts, Service: svc, Level: lvl, Message: msg, TraceID: trace,
			Fields: []Field{{"status", strconv.Itoa(200 + i%5*100), KindNumber}, {"user", "u" + strconv.Itoa(i%1000), KindString}},
			Raw: []byte(fmt.Sprintf(`{"ts":%q,"service":%q,"level":%q,"msg":%q,"trace_id":%q,"status":%d,"user":"u%d"}`,
				ts.Format(time.RFC3339Nano), svc, lvl, msg, trace, 200+i%5*100, i%1000)),
		}
	}
	return recs
}

// BenchmarkWrite measures WriteLogs plus flushing, in batches of 1,000 lines.
func BenchmarkWrite(b *testing.B) {
	s := openTestStore(b, b.TempDir(), testOptions())
	recs := benchRecords(1000, t0)
	b.SetBytes(int64(len(recs[0].Raw)) * int64(len(recs)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.WriteLogs(context.Background(), recs); err != nil {
			b.Fatal(err)
		}
		if i%20 == 19 {
			if err := s.Flush(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := s.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkQuery measures a term, a phrase and a field query over 100k flushed lines.
func BenchmarkQuery(b *testing.B) {
	s := openTestStore(b, b.TempDir(), testOptions())
	for i := 0; i < 100; i++ {
		if err := s.WriteLogs(context.Background(), benchRecords(1000, t0.Add(time.Duration(i)*time.Second))); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	for _, q := range []string{"u17", `"status 500"`, "level:error service:checkout", "trace_id:" + fmt.Sprintf("%032x", 500*7919)} {
		b.Run(q, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := s.Query(context.Background(), Query{Q: q, Start: t0, End: t0.Add(time.Hour)}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
