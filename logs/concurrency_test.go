package logs

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestConcurrentWriters writes from several goroutines while flushing and querying; every
// acknowledged line must be found once, and writers share fsyncs.
func TestConcurrentWriters(t *testing.T) {
	s := openTestStore(t, t.TempDir(), testOptions())
	const writers, batches = 4, 25
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range batches {
				recs := benchRecords(10, t0.Add(time.Duration(w*batches+i)*time.Second))
				if err := s.WriteLogs(context.Background(), recs); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for range 5 {
			if err := s.Flush(context.Background()); err != nil {
				t.Error(err)
			}
			if _, err := s.Query(context.Background(), Query{Q: "level:error", Start: t0, End: t0.Add(time.Hour)}); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Wait()
	res, err := s.Query(context.Background(), Query{Start: t0, End: t0.Add(time.Hour), Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != writers*batches*10 {
		t.Fatalf("total %d, want %d", res.Total, writers*batches*10)
	}
	if f, w := s.m.walFsyncs.Get(), uint64(writers*batches); f > w+10 {
		t.Errorf("%d fsyncs for %d writes", f, w)
	}
}
