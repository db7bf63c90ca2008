package tsdb

import (
	"context"
	"strconv"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
)

// BenchmarkAppend measures float samples/s through the Appender when the
// caller reuses series refs, as the remote-write path does.
func BenchmarkAppend(b *testing.B) {
	const (
		numSeries = 1000
		batch     = 10_000
	)
	db := openTestDB(b, b.TempDir(), DefaultOptions())
	series := make([]labels.Labels, numSeries)
	refs := make([]storage.SeriesRef, numSeries)
	for i := range series {
		series[i] = labels.FromStrings("__name__", "bench_metric", "job", "bench", "instance", strconv.Itoa(i))
	}

	ctx := context.Background()
	app := db.Appender(ctx)
	ts := t0.UnixMilli()
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		i := n % numSeries
		if i == 0 {
			ts += 1000
		}
		ref, err := app.Append(refs[i], series[i], ts, float64(n))
		if err != nil {
			b.Fatal(err)
		}
		refs[i] = ref
		n++
		if n%batch == 0 {
			if err := app.Commit(); err != nil {
				b.Fatal(err)
			}
			app = db.Appender(ctx)
		}
	}
	if err := app.Commit(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "samples/s")
}
