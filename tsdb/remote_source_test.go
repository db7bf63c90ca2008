package tsdb

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// Sources here are real Prometheus HTTP APIs (another store's APIHandler on loopback), or
// a server that refuses every request. The tests against VictoriaMetrics live in cmd/vigil.

var remoteBase = time.UnixMilli(1_700_000_000_000)

func appendMinutes(t *testing.T, db *DB, ls labels.Labels, from, to int) {
	t.Helper()
	app := db.Appender(context.Background())
	for i := from; i <= to; i++ {
		if _, err := app.Append(0, ls, remoteBase.Add(time.Duration(i)*time.Minute).UnixMilli(), float64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
}

// remoteAPI serves a store holding m{job="x"} at minutes 0..9 and only_remote{job="r"} at 0..2.
func remoteAPI(t *testing.T) *httptest.Server {
	db := openTestDB(t, t.TempDir(), DefaultOptions())
	appendMinutes(t, db, labels.FromStrings("__name__", "m", "job", "x"), 0, 9)
	appendMinutes(t, db, labels.FromStrings("__name__", "only_remote", "job", "r"), 0, 2)
	return newAPIServer(t, db, APIOptions{})
}

func downAPI(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func source(t *testing.T, name, url string, readRecent bool) *RemoteSource {
	s, err := NewRemoteSource(RemoteSourceOptions{Name: name, URL: url, Timeout: 5 * time.Second, ReadRecent: readRecent})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMergedDeduplicatesAndSurvivesAFailingSource(t *testing.T) {
	remote := remoteAPI(t)
	down := downAPI(t)
	for _, readRecent := range []bool{true, false} {
		t.Run(map[bool]string{true: "read_recent", false: "older_only"}[readRecent], func(t *testing.T) {
			local := openTestDB(t, t.TempDir(), DefaultOptions())
			// Minutes 5..12 locally: 5..9 are in both, as when Vigil remote-wrote them.
			appendMinutes(t, local, labels.FromStrings("__name__", "m", "job", "x"), 5, 12)
			m := NewMerged(local)
			m.SetSources([]*RemoteSource{source(t, "remote", remote.URL, readRecent)})
			at := remoteBase.Add(12 * time.Minute)

			eval := func(q string) (promql.Vector, []string) {
				t.Helper()
				qry, err := local.Engine().NewInstantQuery(context.Background(), m, nil, q, at)
				if err != nil {
					t.Fatal(err)
				}
				defer qry.Close()
				res := qry.Exec(context.Background())
				if res.Err != nil {
					t.Fatalf("%s: %v", q, res.Err)
				}
				v, err := res.Vector()
				if err != nil {
					t.Fatal(err)
				}
				warns, _ := res.Warnings.AsStrings(q, 0, 0)
				return v, warns
			}
			// 13 distinct minutes (0..12), not 18: the overlap counts once.
			v, warns := eval(`count_over_time(m[1h])`)
			if len(v) != 1 || v[0].F != 13 || len(warns) != 0 {
				t.Fatalf("count_over_time = %v (warnings %v), want 13 and none", v, warns)
			}
			v, _ = eval(`sum_over_time(m[1h])`)
			if want := float64(12 * 13 / 2); len(v) != 1 || v[0].F != want {
				t.Fatalf("sum_over_time = %v, want %v", v, want)
			}

			// A source that fails is a warning; the answer still holds the local data.
			m.SetSources([]*RemoteSource{source(t, "down", down.URL, readRecent)})
			v, warns = eval(`count_over_time(m[1h])`)
			if len(v) != 1 || v[0].F != 8 {
				t.Fatalf("with the source down, count_over_time = %v, want the 8 local samples", v)
			}
			if len(warns) != 1 || !strings.Contains(warns[0], "metrics source down") || !strings.Contains(warns[0], "503") {
				t.Fatalf("warnings = %q, want one naming source down and its 503", warns)
			}
		})
	}
}

// ReadRecent off: a query wholly inside the local store's range does not ask the source.
func TestMergedSkipsTheSourceForRecentRanges(t *testing.T) {
	local := openTestDB(t, t.TempDir(), DefaultOptions())
	appendMinutes(t, local, labels.FromStrings("__name__", "m", "job", "x"), 5, 12)
	m := NewMerged(local)
	m.SetSources([]*RemoteSource{source(t, "down", downAPI(t).URL, false)})
	q, err := m.Querier(remoteBase.Add(6*time.Minute).UnixMilli(), remoteBase.Add(12*time.Minute).UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	set := q.Select(context.Background(), true, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "m"))
	n := 0
	for set.Next() {
		n++
	}
	if set.Err() != nil || n != 1 || len(set.Warnings()) != 0 {
		t.Fatalf("series %d, err %v, warnings %v: want the local series and no request to the source", n, set.Err(), set.Warnings())
	}
}

func TestMergedLabels(t *testing.T) {
	local := openTestDB(t, t.TempDir(), DefaultOptions())
	appendMinutes(t, local, labels.FromStrings("__name__", "m", "job", "local_only"), 5, 12)
	m := NewMerged(local)
	m.SetSources([]*RemoteSource{source(t, "remote", remoteAPI(t).URL, true)})
	q, err := m.Querier(remoteBase.UnixMilli(), remoteBase.Add(12*time.Minute).UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	vals, ws, err := q.LabelValues(context.Background(), "job", nil)
	if err != nil || strings.Join(vals, ",") != "local_only,r,x" || len(ws) != 0 {
		t.Fatalf("job values = %v (%v, %v), want local_only,r,x", vals, err, ws)
	}
	vals, _, err = q.LabelValues(context.Background(), "job", nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "only_remote"))
	if err != nil || strings.Join(vals, ",") != "r" {
		t.Fatalf("job values of only_remote = %v (%v), want r", vals, err)
	}
	names, _, err := q.LabelNames(context.Background(), nil)
	if err != nil || strings.Join(names, ",") != "__name__,job" {
		t.Fatalf("label names = %v (%v)", names, err)
	}
}

// The API reports which sources a query read in X-Vigil-Sources.
func TestReportSourcesHeader(t *testing.T) {
	local := openTestDB(t, t.TempDir(), DefaultOptions())
	appendMinutes(t, local, labels.FromStrings("__name__", "m", "job", "x"), 5, 12)
	m := NewMerged(local)
	m.SetSources([]*RemoteSource{source(t, "remote", remoteAPI(t).URL, true), source(t, "down", downAPI(t).URL, true)})
	srv := httptest.NewServer(ReportSources(local.APIHandler(APIOptions{Queryable: m})))
	t.Cleanup(srv.Close)
	resp, err := http.PostForm(srv.URL+"/api/v1/query", url.Values{
		"query": {"count_over_time(m[1h])"},
		"time":  {remoteBase.Add(12 * time.Minute).Format(time.RFC3339)},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if got, want := resp.Header.Get(SourcesHeader), "local=ok, down=error, remote=ok"; got != want {
		t.Fatalf("%s = %q, want %q", SourcesHeader, got, want)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("status %d, want 200 (a failing source is a warning)", resp.StatusCode)
	}
}

func TestSelector(t *testing.T) {
	f := func(want string, ms ...*labels.Matcher) {
		t.Helper()
		if got := selector(ms); got != want {
			t.Errorf("selector = %s, want %s", got, want)
		}
	}
	f(`{__name__="up",job=~"a|b"}`, labels.MustNewMatcher(labels.MatchEqual, "__name__", "up"), labels.MustNewMatcher(labels.MatchRegexp, "job", "a|b"))
	// Every matcher matches "": PromQL would refuse the selector alone.
	f(`{job!="x",__name__=~".+"}`, labels.MustNewMatcher(labels.MatchNotEqual, "job", "x"))
	f(`{__name__=~".+"}`)
}

var _ storage.Queryable = (*Merged)(nil)

// Some readers select again after reading a result (Prometheus's rule manager restoring
// ALERTS_FOR_STATE, the SLO API): each Select still reads the source.
func TestMergedSelectAfterReading(t *testing.T) {
	local := openTestDB(t, t.TempDir(), DefaultOptions())
	appendMinutes(t, local, labels.FromStrings("__name__", "m", "job", "x"), 5, 12)
	m := NewMerged(local)
	m.SetSources([]*RemoteSource{source(t, "remote", remoteAPI(t).URL, true)})
	q, err := m.Querier(remoteBase.UnixMilli(), remoteBase.Add(12*time.Minute).UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	for _, name := range []string{"m", "only_remote", "m"} {
		set := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", name))
		n := 0
		for set.Next() {
			it := set.At().Iterator(nil)
			for it.Next() != chunkenc.ValNone {
				n++
			}
		}
		if want := map[string]int{"m": 13, "only_remote": 3}[name]; set.Err() != nil || n != want {
			t.Fatalf("%s: %d samples (%v), want %d", name, n, set.Err(), want)
		}
	}
}

// Native histograms read from a source give the same PromQL answers as on the store that
// holds them: exponential schemas, negative and zero buckets, gaps.
func TestMergedReadsNativeHistograms(t *testing.T) {
	remote := openTestDB(t, t.TempDir(), DefaultOptions())
	hs := map[string]*histogram.FloatHistogram{
		"fixture": fixtureHistogram(3).ToFloat(nil),
		"wide": {
			Schema: -2, Count: 21, Sum: -3.5, ZeroThreshold: 0.0001, ZeroCount: 1,
			PositiveSpans: []histogram.Span{{Offset: -2, Length: 2}, {Offset: 3, Length: 1}}, PositiveBuckets: []float64{2, 3, 5},
			NegativeSpans: []histogram.Span{{Offset: 1, Length: 2}}, NegativeBuckets: []float64{4, 6},
		},
		// The zero bucket overlaps the lowest buckets, which the API then shows from 0.01.
		"overlap": {
			Schema: -2, Count: 11, Sum: 2, ZeroThreshold: 0.01, ZeroCount: 1,
			PositiveSpans: []histogram.Span{{Offset: -2, Length: 2}, {Offset: 3, Length: 1}}, PositiveBuckets: []float64{2, 3, 5},
		},
		// The same with an empty zero bucket, which the API leaves out: the threshold the
		// lowest buckets are shown from is then not given.
		"overlap_empty_zero": {
			Schema: -2, Count: 10, Sum: 2, ZeroThreshold: 0.01,
			PositiveSpans: []histogram.Span{{Offset: -2, Length: 2}, {Offset: 3, Length: 1}}, PositiveBuckets: []float64{2, 3, 5},
			NegativeSpans: []histogram.Span{{Offset: -1, Length: 1}}, NegativeBuckets: []float64{4},
		},
		"fine": {
			Schema: 3, Count: 7.5, Sum: 12,
			PositiveSpans: []histogram.Span{{Offset: 5, Length: 1}, {Offset: 10, Length: 2}}, PositiveBuckets: []float64{1.5, 2, 4},
		},
	}
	app := remote.Appender(context.Background())
	for name, fh := range hs {
		for i := range 3 {
			ts := remoteBase.Add(time.Duration(i) * time.Minute).UnixMilli()
			if _, err := app.AppendHistogram(0, labels.FromStrings("__name__", "h", "k", name), ts, nil, fh); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	local := openTestDB(t, t.TempDir(), DefaultOptions())
	m := NewMerged(local)
	m.SetSources([]*RemoteSource{source(t, "remote", newAPIServer(t, remote, APIOptions{}).URL, true)})
	at := remoteBase.Add(2 * time.Minute)
	eval := func(q storage.Queryable, expr string) string {
		t.Helper()
		qry, err := local.Engine().NewInstantQuery(context.Background(), q, nil, expr, at)
		if err != nil {
			t.Fatal(err)
		}
		defer qry.Close()
		res := qry.Exec(context.Background())
		if res.Err != nil {
			t.Fatalf("%s: %v", expr, res.Err)
		}
		if len(res.Warnings) > 0 {
			t.Errorf("%s: warnings %v", expr, res.Warnings)
		}
		lines := strings.Split(res.String(), "\n")
		slices.Sort(lines)
		return strings.Join(lines, "\n")
	}
	for _, expr := range []string{
		`histogram_count(h)`, `histogram_sum(h)`, `histogram_quantile(0.9, h)`, `histogram_quantile(0.2, h)`,
		`histogram_fraction(-1, 2, h)`, `count_over_time(h[5m])`, `h`,
	} {
		got, want := eval(m, expr), eval(remote, expr)
		if got != want || !strings.Contains(want, "fixture") {
			t.Errorf("%s through the source:\n%s\nwant (on the store itself)\n%s", expr, got, want)
		}
	}
}
