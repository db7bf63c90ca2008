package forward

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A reader slower than its writers, on a small drop_oldest queue: every item is either sent
// or counted dropped, never both, and none is read twice or out of order. (A segment dropped
// while the reader was reading it used to be both counted and sent.)
func TestQueueDropOldestCountsEachItemOnce(t *testing.T) {
	for round := range 5 {
		var dropped atomic.Int64
		q := openTestQueue(t, t.TempDir(), QueueOptions{MaxBytes: 64 << 10, SegmentBytes: 4 << 10,
			Dropped: func(_ Signal, _ string, n int) { dropped.Add(int64(n)) }})
		const writers, per = 4, 2000
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for i := range per {
					p := fmt.Appendf(nil, "w%d-%06d-%s", w, i, payload(i, 40+i%700))
					if err := q.Append(SignalLogs, 1, p, time.Now()); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() { wg.Wait(); cancel() }()
		last := map[int]int{}
		sent := 0
		for {
			b, err := q.Next(ctx, 8<<10)
			if errors.Is(err, context.Canceled) {
				if q.Bytes() == 0 {
					break
				}
				ctx = context.Background() // writers done: read what is left
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range b.Payloads {
				var w, i int
				if _, err := fmt.Sscanf(string(p[:10]), "w%d-%06d", &w, &i); err != nil {
					t.Fatalf("payload %.20q: %v", p, err)
				}
				if prev, ok := last[w]; ok && i <= prev {
					t.Fatalf("round %d: w%d-%d read after w%d-%d", round, w, i, w, prev)
				}
				last[w] = i
			}
			sent += b.Items
			if ctx.Err() == nil {
				time.Sleep(2 * time.Millisecond) // slower than the writers, so the queue fills
			}
			if err := q.Ack(b); err != nil {
				t.Fatal(err)
			}
		}
		if got := sent + int(dropped.Load()); got != writers*per {
			t.Fatalf("round %d: sent %d + dropped %d = %d, want the %d appended", round, sent, dropped.Load(), got, writers*per)
		}
	}
}
