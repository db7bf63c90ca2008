package forward

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func openTestQueue(t *testing.T, dir string, opts QueueOptions) *Queue {
	t.Helper()
	q, err := OpenQueue(dir, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = q.Close() })
	return q
}

func payload(i, n int) []byte {
	return bytes.Repeat([]byte(fmt.Sprintf("%08d", i)), n/8+1)[:n]
}

// drain reads every batch until the queue is empty, acknowledging each, and returns the
// payloads in order.
func drain(t *testing.T, q *Queue) [][]byte {
	t.Helper()
	var got [][]byte
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		b, err := q.Next(ctx, 1<<20)
		cancel()
		if err == context.DeadlineExceeded {
			return got
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, b.Payloads...)
		if err := q.Ack(b); err != nil {
			t.Fatal(err)
		}
	}
}

func TestQueueKeepsOrderAcrossSegmentsAndReopen(t *testing.T) {
	dir := t.TempDir()
	opts := QueueOptions{MaxBytes: 1 << 20, SegmentBytes: 4 << 10}
	q := openTestQueue(t, dir, opts)
	var want [][]byte
	for i := range 100 {
		p := payload(i, 100+i*7) // some over the compression threshold
		want = append(want, p)
		if err := q.Append(SignalLogs, 1, p, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	// Take the first 30 entries (batches of at most 2 KiB), then reopen.
	var got [][]byte
	for len(got) < 30 {
		b, err := q.Next(context.Background(), 2<<10)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, b.Payloads...)
		if err := q.Ack(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	q = openTestQueue(t, dir, opts)
	got = append(got, drain(t, q)...)
	if len(got) != len(want) {
		t.Fatalf("got %d entries after reopen, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("entry %d differs", i)
		}
	}
	// Acknowledged segments are gone: one (empty or partly read) segment left.
	segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	if len(segs) != 1 {
		t.Errorf("%d segment files left after draining, want 1: %v", len(segs), segs)
	}
}

func TestQueueCutsTornTail(t *testing.T) {
	for _, cut := range []int{1, 5, 8, 20, 60} {
		t.Run(fmt.Sprint(cut), func(t *testing.T) {
			dir := t.TempDir()
			opts := QueueOptions{MaxBytes: 1 << 20}
			q := openTestQueue(t, dir, opts)
			for i := range 3 {
				if err := q.Append(SignalTraces, 2, payload(i, 100), time.Now()); err != nil {
					t.Fatal(err)
				}
			}
			if err := q.Close(); err != nil {
				t.Fatal(err)
			}
			// A kill -9 in the middle of the third append: its last bytes never landed.
			seg := filepath.Join(dir, segmentName(1))
			fi, err := os.Stat(seg)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(seg, fi.Size()-int64(cut)); err != nil {
				t.Fatal(err)
			}
			q = openTestQueue(t, dir, opts)
			if err := q.Append(SignalTraces, 2, payload(9, 100), time.Now()); err != nil {
				t.Fatal(err)
			}
			got := drain(t, q)
			want := [][]byte{payload(0, 100), payload(1, 100), payload(9, 100)}
			if len(got) != len(want) {
				t.Fatalf("got %d entries, want %d (the two whole ones and the one after reopening)", len(got), len(want))
			}
			for i := range want {
				if !bytes.Equal(got[i], want[i]) {
					t.Fatalf("entry %d: %q, want %q", i, got[i][:8], want[i][:8])
				}
			}
		})
	}
}

func TestQueueFullDropsOldestAndCounts(t *testing.T) {
	var mu sync.Mutex
	dropped := map[Signal]int{}
	opts := QueueOptions{MaxBytes: 8 << 10, SegmentBytes: 1 << 10, Dropped: func(s Signal, reason string, n int) {
		mu.Lock()
		defer mu.Unlock()
		if reason != "queue_full" {
			t.Errorf("reason %q", reason)
		}
		dropped[s] += n
	}}
	q := openTestQueue(t, t.TempDir(), opts)
	const n, size, items = 200, 200, 3
	for i := range n {
		if err := q.Append(SignalLogs, items, payload(i, size), time.Now()); err != nil {
			t.Fatal(err)
		}
		if b := q.Bytes(); b > opts.MaxBytes {
			t.Fatalf("queue holds %d bytes, over its max %d", b, opts.MaxBytes)
		}
	}
	got := drain(t, q)
	if len(got) == 0 || len(got) >= n {
		t.Fatalf("%d entries left of %d in a queue of 8 KiB", len(got), n)
	}
	if !bytes.Equal(got[len(got)-1], payload(n-1, size)) {
		t.Errorf("the newest entry is not the last one kept")
	}
	if dropped[SignalLogs] != (n-len(got))*items {
		t.Errorf("dropped %d items, want %d (every entry not kept)", dropped[SignalLogs], (n-len(got))*items)
	}
}

func TestQueueBackpressureReportsFullAndKeepsEverything(t *testing.T) {
	q := openTestQueue(t, t.TempDir(), QueueOptions{MaxBytes: 4 << 10, OnFull: Backpressure})
	appended := 0
	for !q.Full() {
		if err := q.Append(SignalTraces, 1, payload(appended, 300), time.Now()); err != nil {
			t.Fatal(err)
		}
		appended++
	}
	if appended < 5 {
		t.Fatalf("full after %d entries of 300 bytes in 4 KiB", appended)
	}
	if got := drain(t, q); len(got) != appended {
		t.Fatalf("drained %d entries, want all %d", len(got), appended)
	}
	if q.Full() {
		t.Error("still full after draining")
	}
}

func TestQueueRefusesAnEntryLargerThanItself(t *testing.T) {
	q := openTestQueue(t, t.TempDir(), QueueOptions{MaxBytes: 1 << 10})
	// Random-looking bytes do not compress below the limit.
	big := make([]byte, 4<<10)
	for i := range big {
		big[i] = byte(i*7919 + i>>3)
	}
	if err := q.Append(SignalLogs, 1, big, time.Now()); err == nil {
		t.Fatal("a 4 KiB entry went into a 1 KiB queue")
	}
}

func TestQueueNextWaitsForAppend(t *testing.T) {
	q := openTestQueue(t, t.TempDir(), QueueOptions{MaxBytes: 1 << 20})
	done := make(chan Batch)
	go func() {
		b, err := q.Next(context.Background(), 1<<20)
		if err != nil {
			t.Error(err)
		}
		done <- b
	}()
	if err := q.Append(SignalMetrics, 7, []byte("x"), time.Now()); err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-done:
		if b.Signal != SignalMetrics || b.Items != 7 || string(b.Payloads[0]) != "x" {
			t.Fatalf("batch %+v", b)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Next did not return after an append")
	}
}

func TestQueueSkipsCorruptEntryInTheMiddle(t *testing.T) {
	dir := t.TempDir()
	corrupt := 0
	opts := QueueOptions{MaxBytes: 1 << 20, SegmentBytes: 1 << 10, Dropped: func(_ Signal, reason string, _ int) {
		if reason == "corrupt" {
			corrupt++
		}
	}}
	q := openTestQueue(t, dir, opts)
	for i := range 20 {
		if err := q.Append(SignalLogs, 1, payload(i, 200), time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	// Flip a payload byte of the first entry of the first segment (not the last segment).
	seg := filepath.Join(dir, segmentName(1))
	b, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	b[entryHeaderLen+entryMetaLen+3] ^= 0xff
	if err := os.WriteFile(seg, b, 0o644); err != nil {
		t.Fatal(err)
	}
	q = openTestQueue(t, dir, opts)
	got := drain(t, q)
	if corrupt != 1 || len(got) == 0 || len(got) >= 20 || !bytes.Equal(got[len(got)-1], payload(19, 200)) {
		t.Fatalf("corrupt=%d, %d entries read", corrupt, len(got))
	}
}

// A segment file removed from outside the process (by hand, by a cleanup job) is skipped and
// counted, not retried forever: Next used to spin on it without returning.
func TestQueueSkipsASegmentRemovedFromOutside(t *testing.T) {
	dir := t.TempDir()
	corrupt := 0
	q := openTestQueue(t, dir, QueueOptions{MaxBytes: 1 << 20, SegmentBytes: 1 << 10, Dropped: func(_ Signal, reason string, _ int) {
		if reason == "corrupt" {
			corrupt++
		}
	}})
	for i := range 20 {
		if err := q.Append(SignalLogs, 1, payload(i, 200), time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Remove(filepath.Join(dir, segmentName(1))); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := q.Next(ctx, 1<<20)
	if err != nil {
		t.Fatalf("Next after a segment was removed: %v", err)
	}
	if corrupt != 1 || len(b.Payloads) == 0 || bytes.Equal(b.Payloads[0], payload(0, 200)) {
		t.Fatalf("corrupt=%d, first payload of %d is the removed segment's", corrupt, len(b.Payloads))
	}
}
