package traces

import (
	"context"
	"encoding/binary"
	"io/fs"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkWriteSpans writes realistic 512-span batches (bench/traces' load, without gRPC)
// and reports what does not depend on the machine's load: bytes on disk per span once the
// memtable is flushed (sstables only, and the whole directory with its write-ahead logs)
// and once the store is closed, and CPU time per span of the whole process (the memtable
// flush included). Run with a fixed count, e.g.
//
//	go test -run '^$' -bench WriteSpans -benchtime 400x ./traces/
func BenchmarkWriteSpans(b *testing.B) {
	const batch = 512
	dir := b.TempDir()
	db := openTestDB(b, dir, DefaultOptions())
	// 64 generated batches, reused with new trace ids and times (as loadgen does), so a
	// long run does not hold every span in memory.
	gen := newRealisticGen(1, b.N*batch)
	batches := make([][]Span, min(b.N, 64))
	for i := range batches {
		batches[i] = gen.batch(batch)
	}
	step := time.Hour / time.Duration(b.N)
	cpu0 := cpuTime()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		spans := batches[i%len(batches)]
		if i >= len(batches) {
			restamp(spans, uint64(i), step*time.Duration(len(batches)))
		}
		if err := db.WriteSpans(context.Background(), spans); err != nil {
			b.Fatal(err)
		}
	}
	if err := db.pdb.Flush(); err != nil { // the memtable's compression is part of the cost
		b.Fatal(err)
	}
	b.StopTimer()
	spans := float64(b.N * batch)
	b.ReportMetric(float64(cpuTime()-cpu0)/spans, "cpu-ns/span")
	sst, all := dirBytes(b, dir)
	b.ReportMetric(float64(sst)/spans, "flushed-sst-B/span")
	b.ReportMetric(float64(all)/spans, "flushed-dir-B/span")
	logKeyBytes(b, db)
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	_, all = dirBytes(b, dir)
	b.ReportMetric(float64(all)/spans, "closed-dir-B/span")

}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// dirBytes sums the sizes of the sstables and of every file under dir.
func dirBytes(tb testing.TB, dir string) (sst, all int64) {
	tb.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		all += info.Size()
		if strings.HasSuffix(p, ".sst") {
			sst += info.Size()
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return sst, all
}

// logKeyBytes logs the uncompressed key and value bytes by key prefix (and index kind).
func logKeyBytes(tb testing.TB, db *DB) {
	it, err := db.pdb.NewIter(nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer it.Close()
	type tally struct{ n, k, v int }
	by := map[string]*tally{}
	for valid := it.First(); valid; valid = it.Next() {
		k := it.Key()
		name := string(k[:1])
		if k[0] == prefixIndex && len(k) > 5 {
			name += string(k[5:6])
		}
		t := by[name]
		if t == nil {
			t = &tally{}
			by[name] = t
		}
		t.n++
		t.k += len(k)
		t.v += len(it.Value())
	}
	for name, t := range by {
		tb.Logf("prefix %q: %d keys, %d key bytes, %d value bytes (uncompressed)", name, t.n, t.k, t.v)
	}
}

// restamp gives a reused batch new trace ids (the first 8 bytes, from seq) and moves it
// later by shift.
func restamp(spans []Span, seq uint64, shift time.Duration) {
	for i := range spans {
		s := &spans[i]
		binary.BigEndian.PutUint64(s.TraceID[:8], binary.BigEndian.Uint64(s.TraceID[:8])^(seq*0x9e3779b97f4a7c15))
		s.Start, s.End = s.Start.Add(shift), s.End.Add(shift)
		for j := range s.Events {
			s.Events[j].Time = s.Events[j].Time.Add(shift)
		}
	}
}
