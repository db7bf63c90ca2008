package ingest

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

// openMetricsTestDB opens a real Prometheus TSDB in a temporary directory.
func openMetricsTestDB(t testing.TB) *tsdb.DB {
	t.Helper()
	opts := tsdb.DefaultOptions()
	opts.MaxExemplars = 1000
	db, err := tsdb.Open(t.TempDir(), nil, nil, opts, nil)
	if err != nil {
		t.Fatalf("open tsdb: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close tsdb: %v", err)
		}
	})
	return db
}

// storedSample is one sample read back from the TSDB.
type storedSample struct {
	T int64
	V float64
	H *histogram.FloatHistogram // set for native histogram samples
}

// readSeries returns every series matching ms, keyed by labels.String().
func readSeries(t testing.TB, db *tsdb.DB, ms ...*labels.Matcher) map[string][]storedSample {
	t.Helper()
	if len(ms) == 0 {
		ms = []*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, labels.MetricName, ".+")}
	}
	q, err := db.Querier(math.MinInt64, math.MaxInt64)
	if err != nil {
		t.Fatalf("querier: %v", err)
	}
	defer q.Close()
	out := map[string][]storedSample{}
	ss := q.Select(context.Background(), true, nil, ms...)
	for ss.Next() {
		s := ss.At()
		var got []storedSample
		it := s.Iterator(nil)
		for typ := it.Next(); typ != chunkenc.ValNone; typ = it.Next() {
			switch typ {
			case chunkenc.ValFloat:
				ts, v := it.At()
				got = append(got, storedSample{T: ts, V: v})
			case chunkenc.ValHistogram, chunkenc.ValFloatHistogram:
				ts, fh := it.AtFloatHistogram(nil)
				got = append(got, storedSample{T: ts, H: fh})
			}
		}
		if err := it.Err(); err != nil {
			t.Fatalf("iterate %s: %v", s.Labels(), err)
		}
		out[s.Labels().String()] = got
	}
	if err := ss.Err(); err != nil {
		t.Fatalf("select: %v", err)
	}
	return out
}

func counterValue(set *metrics.Set, name string) uint64 {
	return set.GetOrCreateCounter(name).Get()
}

func itemsName(protocol string) string {
	return fmt.Sprintf(`vigil_ingest_items_total{signal="metrics",protocol=%q}`, protocol)
}

func rejectedName(protocol string, reason rejectReason) string {
	return fmt.Sprintf(`vigil_ingest_rejected_total{signal="metrics",protocol=%q,reason=%q}`, protocol, reason)
}

func requestsName(protocol, code string) string {
	return fmt.Sprintf(`vigil_ingest_requests_total{signal="metrics",protocol=%q,code=%q}`, protocol, code)
}

func pmetricTimestamp(t time.Time) pcommon.Timestamp { return pcommon.NewTimestampFromTime(t) }
