package logs

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The benchmarks write lines shaped like bench/logs/loadgen's (see realisticRecords) and
// report load-independent figures next to the timings: CPU time per line (user+system of the
// whole process, so flushes and merges count), bytes on disk per line and allocations.
//
//	go test -run '^$' -bench . -benchtime 200000x ./logs/
//	VIGIL_BENCH_LINES=1000000 go test -run '^$' -bench Query ./logs/

// benchPool is a pool of realistic lines over one hour; writers cycle through it.
var benchPool = sync.OnceValue(func() []Record { return realisticRecords(200_000, t0, time.Hour) })

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func dirBytes(dir string) (total int64, byKind map[string]int64) {
	byKind = map[string]int64{}
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(dir, path)
		kind := filepath.Base(path)
		switch {
		case strings.HasPrefix(rel, "wal"):
			kind = "wal"
		case strings.Contains(rel, string(filepath.Separator)+"index"+string(filepath.Separator)):
			kind = "bleve"
		}
		total += fi.Size()
		byKind[kind] += fi.Size()
		return nil
	})
	return total, byKind
}

func reportDisk(b *testing.B, dir string, lines int) {
	total, byKind := dirBytes(dir)
	b.ReportMetric(float64(total)/float64(lines), "disk-B/line")
	kinds := make([]string, 0, len(byKind))
	for k := range byKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		b.Logf("%-12s %7.1f B/line", k, float64(byKind[k])/float64(lines))
	}
}

// BenchmarkWrite measures WriteLogs plus flushing, per line (b.N lines in batches of 1,000).
func BenchmarkWrite(b *testing.B) {
	dir := b.TempDir()
	s := openTestStore(b, dir, testOptions())
	pool := benchPool()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	cpu0 := cpuTime()
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; {
		n := min(1000, b.N-done)
		off := done % len(pool)
		n = min(n, len(pool)-off)
		if err := s.WriteLogs(context.Background(), pool[off:off+n]); err != nil {
			b.Fatal(err)
		}
		done += n
		if done%20000 == 0 {
			if err := s.Flush(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := s.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	runtime.ReadMemStats(&ms1)
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/line")
	b.ReportMetric(float64(ms1.HeapSys)/(1<<20), "heap-sys-MiB")
	reportDisk(b, dir, b.N)
}

func benchLines() int {
	if n, err := strconv.Atoi(os.Getenv("VIGIL_BENCH_LINES")); err == nil && n > 0 {
		return n
	}
	return 200_000
}

// BenchmarkQuery measures the bench/logs queries (newest 100 lines and the total) over
// benchLines() lines in one hour, flushed.
func BenchmarkQuery(b *testing.B) {
	dir := b.TempDir()
	s := openTestStore(b, dir, testOptions())
	n := benchLines()
	for i := 0; i < n; i += 10_000 {
		batch := make([]Record, 0, 10_000)
		for j := i; j < min(n, i+10_000); j++ {
			batch = append(batch, realisticRecord(int64(j), int64(n), t0, time.Hour))
		}
		if err := s.WriteLogs(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	reportDisk(b, dir, n)
	trace := realisticRecord(int64(n/2), int64(n), t0, time.Hour).TraceID
	// totalLimit is what the HTTP API uses by default; "exact" variants count every match.
	for _, q := range []struct {
		name, q    string
		totalLimit int
	}{
		{"term", "timeout", s.opts.QueryTotalLimit},
		{"phrase", `"connection refused"`, s.opts.QueryTotalLimit},
		{"phrase-exact", `"connection refused"`, 0},
		{"field", "level:error AND service:checkout", s.opts.QueryTotalLimit},
		{"trace", "trace_id:" + trace, s.opts.QueryTotalLimit},
	} {
		b.Run(q.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := cpuTime()
			var total int
			for i := 0; i < b.N; i++ {
				res, err := s.Query(context.Background(), Query{Q: q.q, Start: t0, End: t0.Add(time.Hour), Limit: 100, TotalLimit: q.totalLimit})
				if err != nil {
					b.Fatal(err)
				}
				total = res.Total
			}
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/1e6, "cpu-ms/op")
			b.ReportMetric(float64(total), "hits")
		})
	}
}

// BenchmarkTokenize measures message tokenization, the inner loop of block building.
func BenchmarkTokenize(b *testing.B) {
	pool := benchPool()[:1000]
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for j := range pool {
			tokenize(pool[j].Message, func(string) {})
		}
	}
	_ = fmt.Sprint()
}
