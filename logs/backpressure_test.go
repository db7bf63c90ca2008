package logs

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestWriteLogsWaitsForIndexing: while indexing is stalled and more than 2×FlushBytes wait
// for it, a writer is held back (ErrBusy once its context ends, nothing stored); once indexing
// catches up, writes go through again.
func TestWriteLogsWaitsForIndexing(t *testing.T) {
	o := testOptions()
	o.FlushBytes = 4 << 10
	s := openTestStore(t, t.TempDir(), o)
	recs := fixtureRecords()
	ctx := context.Background()

	s.flushMu.Lock() // stall indexing
	stalled := true
	defer func() {
		if stalled {
			s.flushMu.Unlock()
		}
	}()
	for i := 0; ; i++ {
		s.mu.RLock()
		backlog := s.buffered + s.flushingBytes
		s.mu.RUnlock()
		if backlog >= 2*o.FlushBytes {
			break
		}
		if i > 10_000 {
			t.Fatalf("backlog stuck at %d bytes", backlog)
		}
		if err := s.WriteLogs(ctx, recs); err != nil {
			t.Fatal(err)
		}
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	before := s.m.linesWritten.Get()
	if err := s.WriteLogs(short, recs); !errors.Is(err, ErrBusy) {
		t.Fatalf("write over the backlog limit = %v, want ErrBusy", err)
	}
	if after := s.m.linesWritten.Get(); after != before {
		t.Fatalf("a refused write stored %d lines", after-before)
	}

	s.flushMu.Unlock() // indexing resumes: the waiting flush drains the backlog
	stalled = false
	done := make(chan error, 1)
	go func() { done <- s.WriteLogs(ctx, recs) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("write still held back 10s after indexing resumed")
	}
}
