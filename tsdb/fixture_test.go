package tsdb

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// t0 is the fixed start of the fixture data (2023-11-14T22:13:20Z), so API
// responses are byte-stable for the golden files.
var t0 = time.UnixMilli(1_700_000_000_000).UTC()

const (
	fixtureStep    = 15 * time.Second
	fixtureSamples = 5
)

var (
	seriesA   = labels.FromStrings("__name__", "vigil_requests_total", "job", "api", "instance", "a")
	seriesB   = labels.FromStrings("__name__", "vigil_requests_total", "job", "api", "instance", "b")
	seriesH   = labels.FromStrings("__name__", "vigil_latency_seconds", "job", "api")
	exemplarA = exemplar.Exemplar{Labels: labels.FromStrings("trace_id", "4bf92f3577b34da6"), Value: 1, Ts: t0.UnixMilli(), HasTs: true}
)

// fixtureHistogram is a small integer native histogram: 1 zero-bucket
// observation and 2+2 in the first two positive buckets.
func fixtureHistogram(i int) *histogram.Histogram {
	return &histogram.Histogram{
		Count:           uint64(5 * (i + 1)),
		ZeroCount:       uint64(i + 1),
		ZeroThreshold:   0.001,
		Sum:             12.5 * float64(i+1),
		Schema:          0,
		PositiveSpans:   []histogram.Span{{Offset: 0, Length: 2}},
		PositiveBuckets: []int64{int64(2 * (i + 1)), 0},
	}
}

// appendFixture writes fixtureSamples points of seriesA (1..5), seriesB
// (10..50) and seriesH, plus exemplarA on seriesA, in one committed batch.
func appendFixture(t testing.TB, a storage.Appendable) {
	t.Helper()
	if err := writeFixture(a); err != nil {
		t.Fatal(err)
	}
}

func writeFixture(a storage.Appendable) error {
	app := a.Appender(context.Background())
	for i := range fixtureSamples {
		ts := t0.Add(time.Duration(i) * fixtureStep).UnixMilli()
		ref, err := app.Append(0, seriesA, ts, float64(i+1))
		if err != nil {
			return errors.Join(err, app.Rollback())
		}
		if i == 0 {
			if _, err := app.AppendExemplar(ref, seriesA, exemplarA); err != nil {
				return errors.Join(err, app.Rollback())
			}
		}
		if _, err := app.Append(0, seriesB, ts, float64(10*(i+1))); err != nil {
			return errors.Join(err, app.Rollback())
		}
		if _, err := app.AppendHistogram(0, seriesH, ts, fixtureHistogram(i), nil); err != nil {
			return errors.Join(err, app.Rollback())
		}
	}
	return app.Commit()
}

// checkFixture fails t unless every fixture sample and the exemplar are stored.
func checkFixture(t *testing.T, db *DB) {
	t.Helper()
	mint, maxt := t0.UnixMilli(), t0.Add(time.Hour).UnixMilli()
	q, err := db.Querier(mint, maxt)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()

	got := map[string][]float64{}
	var hists []*histogram.Histogram
	ss := q.Select(context.Background(), true, nil, labels.MustNewMatcher(labels.MatchEqual, "job", "api"))
	for ss.Next() {
		s := ss.At()
		it := s.Iterator(nil)
		for typ := it.Next(); typ != chunkenc.ValNone; typ = it.Next() {
			switch typ {
			case chunkenc.ValFloat:
				_, v := it.At()
				got[s.Labels().String()] = append(got[s.Labels().String()], v)
			case chunkenc.ValHistogram:
				_, h := it.AtHistogram(nil)
				hists = append(hists, h)
			default:
				t.Errorf("%s: unexpected value type %s", s.Labels(), typ)
			}
		}
		if err := it.Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := ss.Err(); err != nil {
		t.Fatal(err)
	}

	wantFloats := func(l labels.Labels, scale float64) {
		vs := got[l.String()]
		if len(vs) != fixtureSamples {
			t.Fatalf("%s: got %d samples %v, want %d", l, len(vs), vs, fixtureSamples)
		}
		for i, v := range vs {
			if want := scale * float64(i+1); v != want {
				t.Errorf("%s sample %d = %g, want %g", l, i, v, want)
			}
		}
	}
	wantFloats(seriesA, 1)
	wantFloats(seriesB, 10)
	if len(hists) != fixtureSamples {
		t.Fatalf("got %d histogram samples, want %d", len(hists), fixtureSamples)
	}
	for i, h := range hists {
		if want := fixtureHistogram(i); h.Count != want.Count || math.Abs(h.Sum-want.Sum) > 1e-9 {
			t.Errorf("histogram %d: count %d sum %g, want %d %g", i, h.Count, h.Sum, want.Count, want.Sum)
		}
	}

	eq, err := db.ExemplarQuerier(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	res, err := eq.Select(mint, maxt, []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "instance", "a")})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || len(res[0].Exemplars) != 1 || !res[0].Exemplars[0].Equals(exemplarA) {
		t.Fatalf("exemplars = %+v, want one %v on %s", res, exemplarA, seriesA)
	}
}

// openTestDB opens a store in dir with a private registry and closes it at cleanup.
func openTestDB(t testing.TB, dir string, opts Options) *DB {
	t.Helper()
	db, err := Open(dir, opts, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}
