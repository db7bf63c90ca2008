package ingest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/gogo/protobuf/proto"
	"github.com/golang/snappy"
	remoteapi "github.com/prometheus/client_golang/exp/api/remote"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/storage/remote"
	"github.com/prometheus/prometheus/tsdb"
	"google.golang.org/protobuf/encoding/protowire"
)

// rwV1Raw marshals a 1.0 request as sent, labels in the given order.
func rwV1Raw(t testing.TB, ts ...prompb.TimeSeries) []byte {
	t.Helper()
	raw, err := proto.Marshal(&prompb.WriteRequest{Timeseries: ts})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// pl is a prompb label list in wire order: name, value, name, value...
func pl(nv ...string) []prompb.Label {
	var out []prompb.Label
	for i := 0; i+1 < len(nv); i += 2 {
		out = append(out, prompb.Label{Name: nv[i], Value: nv[i+1]})
	}
	return out
}

func floatSeries(t int64, v float64, nv ...string) prompb.TimeSeries {
	return prompb.TimeSeries{Labels: pl(nv...), Samples: []prompb.Sample{{Timestamp: t, Value: v}}}
}

// interleavedSeries hand-encodes a TimeSeries whose label fields are
// interleaved with samples and an unknown field, which gogo accepts.
func interleavedSeries(t int64) []byte {
	label := func(n, v string) []byte {
		var b []byte
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendString(b, n)
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		return protowire.AppendString(b, v)
	}
	sample := func(t int64, v float64) []byte {
		var b []byte
		b = protowire.AppendTag(b, 1, protowire.Fixed64Type)
		b = protowire.AppendFixed64(b, math.Float64bits(v))
		b = protowire.AppendTag(b, 2, protowire.VarintType)
		return protowire.AppendVarint(b, uint64(t))
	}
	var ts []byte
	ts = protowire.AppendTag(ts, 1, protowire.BytesType)
	ts = protowire.AppendBytes(ts, label("__name__", "interleaved"))
	ts = protowire.AppendTag(ts, 2, protowire.BytesType)
	ts = protowire.AppendBytes(ts, sample(t, 1))
	ts = protowire.AppendTag(ts, 9, protowire.VarintType) // unknown
	ts = protowire.AppendVarint(ts, 7)
	ts = protowire.AppendTag(ts, 1, protowire.BytesType)
	ts = protowire.AppendBytes(ts, label("job", "x"))
	ts = protowire.AppendTag(ts, 2, protowire.BytesType)
	ts = protowire.AppendBytes(ts, sample(t+1000, 2))
	var req []byte
	req = protowire.AppendTag(req, 1, protowire.BytesType)
	req = protowire.AppendBytes(req, ts)
	req = protowire.AppendTag(req, 2, protowire.BytesType) // reserved field 2
	req = protowire.AppendString(req, "cortex")
	return req
}

// rwTarget is one receiver under comparison, over its own fresh TSDB.
type rwTarget struct {
	name string
	db   *tsdb.DB
	h    http.Handler
	set  *metrics.Set
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// openRWV1TestDB is openMetricsTestDB with exemplar storage on.
func openRWV1TestDB(t testing.TB) *tsdb.DB {
	t.Helper()
	opts := tsdb.DefaultOptions()
	opts.EnableExemplarStorage = true
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

func newRWTargets(t *testing.T, opts MetricsIngestOptions) (prom, legacy, fast rwTarget) {
	accepted := remoteapi.MessageTypes{remoteapi.WriteV1MessageType, remoteapi.WriteV2MessageType}
	prom = rwTarget{name: "prometheus", db: openRWV1TestDB(t)}
	prom.h = remote.NewWriteHandler(discardLogger(), nil, prom.db, accepted, false, false)

	legacy = rwTarget{name: "vigil-legacy", db: openRWV1TestDB(t), set: metrics.NewSet()}
	lh := NewRemoteWriteHandler(legacy.db, opts, legacy.set, nil).(*remoteWriteHandler)
	lh.cache = nil // 1.0 through the wire scan and Prometheus's receiver
	legacy.h = lh

	fast = rwTarget{name: "vigil-fast", db: openRWV1TestDB(t), set: metrics.NewSet()}
	fast.h = NewRemoteWriteHandler(fast.db, opts, fast.set, nil)
	return prom, legacy, fast
}

func postRemoteWriteV1(h http.Handler, raw []byte) (int, string) {
	req := httptest.NewRequest(http.MethodPost, "/api/v1/write", bytes.NewReader(snappy.Encode(nil, raw)))
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Content-Encoding", "snappy")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body, _ := io.ReadAll(rec.Body)
	return rec.Code, string(body)
}

// storedDump renders everything stored, samples and exemplars, with float
// bits so that NaNs compare.
func storedDump(t *testing.T, db *tsdb.DB) string {
	t.Helper()
	got := readSeries(t, db)
	keys := keysOf(got)
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s:", k)
		for _, s := range got[k] {
			if s.H != nil {
				fmt.Fprintf(&b, " %d:%s", s.T, s.H)
			} else {
				fmt.Fprintf(&b, " %d:%x", s.T, math.Float64bits(s.V))
			}
		}
		b.WriteString("\n")
	}
	eq, err := db.ExemplarQuerier(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	res, err := eq.Select(math.MinInt64, math.MaxInt64, []*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, labels.MetricName, ".+")})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(res, func(i, j int) bool { return labels.Compare(res[i].SeriesLabels, res[j].SeriesLabels) < 0 })
	for _, r := range res {
		fmt.Fprintf(&b, "exemplars %s: %v\n", r.SeriesLabels, r.Exemplars)
	}
	return b.String()
}

// counterDump renders a handler's self-metrics.
func counterDump(set *metrics.Set) string {
	var b bytes.Buffer
	set.WritePrometheus(&b)
	return b.String()
}

// TestRemoteWriteV1Differential sends the same 1.0 requests to Prometheus's
// own receiver, to Vigil's previous path (wire checks in front of
// Prometheus's receiver) and to the fast path, each over a fresh TSDB. The
// fast path must answer and store exactly as the previous path, and store
// what Prometheus stores except where Vigil's limits refuse a request.
func TestRemoteWriteV1Differential(t *testing.T) {
	now := time.Now().UnixMilli()
	limits := DefaultMetricsIngestOptions()
	limits.MaxSeriesPerRequest = 4
	limits.MaxLabelValueLength = 16
	hist := testNativeHistogram()
	badHist := testNativeHistogram()
	badHist.Count = 1 // fewer than the buckets hold
	expSeries := floatSeries(now, 5, "__name__", "exemplified", "job", "a")
	expSeries.Exemplars = []prompb.Exemplar{
		{Labels: pl("trace_id", "b"), Value: 2, Timestamp: now - 10},
		{Labels: pl("trace_id", "a"), Value: 1, Timestamp: now - 20}, // out of order: sorted by the receiver
		{Labels: pl("trace_id", "future"), Value: 3, Timestamp: now + int64(time.Hour/time.Millisecond)},
	}

	type want struct {
		code int // of Vigil's handlers (both)
		// promDiffers: Prometheus answers 2xx and stores everything where
		// Vigil refuses the whole request (its limits).
		promDiffers bool
	}
	for _, tc := range []struct {
		name string
		reqs [][]byte // sent in order; all but the last must succeed
		want want
	}{
		{"good, twice (cache hits)", [][]byte{
			rwV1Raw(t, floatSeries(now, 1, "__name__", "up", "job", "a"), floatSeries(now, 2, "__name__", "up", "job", "b")),
			rwV1Raw(t, floatSeries(now+1000, 3, "__name__", "up", "job", "a"), floatSeries(now+1000, 4, "__name__", "up", "job", "b")),
		}, want{code: 204}},
		{"unsorted labels, two orders of one series", [][]byte{
			rwV1Raw(t, floatSeries(now, 1, "zz", "1", "__name__", "m", "aa", "2")),
			rwV1Raw(t, floatSeries(now+1000, 2, "zz", "1", "__name__", "m", "aa", "2")),
			rwV1Raw(t, floatSeries(now+2000, 3, "aa", "2", "zz", "1", "__name__", "m")),
		}, want{code: 204}},
		{"duplicate label names", [][]byte{
			rwV1Raw(t, floatSeries(now, 1, "__name__", "dup", "a", "1", "a", "2"), floatSeries(now, 2, "__name__", "ok")),
		}, want{code: 400}},
		{"empty label value", [][]byte{
			rwV1Raw(t, floatSeries(now, 1, "__name__", "m", "empty", "", "job", "a")),
			rwV1Raw(t, floatSeries(now+1000, 2, "__name__", "m", "empty", "", "job", "a")),
		}, want{code: 204}},
		{"empty metric name", [][]byte{
			rwV1Raw(t, floatSeries(now, 1, "__name__", "", "job", "a"), floatSeries(now, 2, "__name__", "ok")),
		}, want{code: 400}},
		{"missing __name__", [][]byte{
			rwV1Raw(t, floatSeries(now, 1, "job", "a"), floatSeries(now, 2, "__name__", "ok")),
		}, want{code: 400}},
		{"empty label name", [][]byte{
			rwV1Raw(t, floatSeries(now, 1, "__name__", "m", "", "x"), floatSeries(now, 2, "__name__", "ok")),
		}, want{code: 400}},
		{"invalid UTF-8 name and value", [][]byte{
			rwV1Raw(t, floatSeries(now, 1, "__name__", "m", "\xff", "x"), floatSeries(now, 1, "__name__", "m", "v", "\xfe"),
				floatSeries(now, 1, "__name__", "\xc3"), floatSeries(now, 2, "__name__", "ok")),
		}, want{code: 400}},
		{"UTF-8 names", [][]byte{
			rwV1Raw(t, floatSeries(now, 1, "__name__", "http.requests", "service.name", "ä")),
		}, want{code: 204}},
		{"out of order mixed with good", [][]byte{
			rwV1Raw(t, floatSeries(now, 1, "__name__", "ooo", "job", "a"), floatSeries(now, 1, "__name__", "good", "job", "a")),
			rwV1Raw(t, floatSeries(now+1000, 2, "__name__", "good", "job", "a"), floatSeries(now-60_000, 2, "__name__", "ooo", "job", "a"),
				floatSeries(now, 3, "__name__", "new")),
		}, want{code: 400}},
		{"duplicate timestamp, other value", [][]byte{
			rwV1Raw(t, floatSeries(now, 1, "__name__", "d")),
			rwV1Raw(t, floatSeries(now, 2, "__name__", "d")),
		}, want{code: 400}},
		{"too many series", [][]byte{
			rwV1Raw(t, floatSeries(now, 1, "__name__", "a"), floatSeries(now, 1, "__name__", "b"),
				floatSeries(now, 1, "__name__", "c"), floatSeries(now, 1, "__name__", "d"), floatSeries(now, 1, "__name__", "e")),
		}, want{code: 413, promDiffers: true}},
		{"over-long label value", [][]byte{
			rwV1Raw(t, floatSeries(now, 1, "__name__", "a"), floatSeries(now, 1, "__name__", "b", "v", strings.Repeat("x", 17))),
		}, want{code: 400, promDiffers: true}},
		{"native histograms", [][]byte{
			rwV1Raw(t, prompb.TimeSeries{Labels: pl("__name__", "h", "job", "a"), Histograms: []prompb.Histogram{
				prompb.FromIntHistogram(now, hist), prompb.FromFloatHistogram(now+1000, hist.ToFloat(nil))}}),
			rwV1Raw(t, prompb.TimeSeries{Labels: pl("__name__", "h", "job", "a"), Histograms: []prompb.Histogram{prompb.FromIntHistogram(now+2000, hist)}}),
		}, want{code: 204}},
		{"invalid native histogram", [][]byte{
			rwV1Raw(t, floatSeries(now, 1, "__name__", "ok"),
				prompb.TimeSeries{Labels: pl("__name__", "h"), Histograms: []prompb.Histogram{prompb.FromIntHistogram(now, badHist)}}),
		}, want{code: 400}},
		{"exemplars", [][]byte{rwV1Raw(t, expSeries)}, want{code: 204}},
		{"stale NaN", [][]byte{
			rwV1Raw(t, floatSeries(now, 1, "__name__", "s")),
			rwV1Raw(t, floatSeries(now+1000, math.Float64frombits(value.StaleNaN), "__name__", "s")),
		}, want{code: 204}},
		{"huge timestamp", [][]byte{
			rwV1Raw(t, floatSeries(now, 1, "__name__", "ok"), floatSeries(math.MaxInt64, 1, "__name__", "future")),
		}, want{code: 400}},
		{"timestamp an hour ahead", [][]byte{
			rwV1Raw(t, floatSeries(now+int64(time.Hour/time.Millisecond), 1, "__name__", "future")),
		}, want{code: 400}},
		{"negative timestamp", [][]byte{
			rwV1Raw(t, floatSeries(-1000, 1, "__name__", "past")),
		}, want{code: 204}},
		{"invalid series and out of order", [][]byte{
			rwV1Raw(t, floatSeries(now, 1, "__name__", "o")),
			rwV1Raw(t, floatSeries(now, 1, "job", "no name"), floatSeries(now-1000, 1, "__name__", "o")),
		}, want{code: 400}},
		{"labels only, no samples", [][]byte{
			rwV1Raw(t, prompb.TimeSeries{Labels: pl("__name__", "empty")}),
		}, want{code: 204}},
		{"empty request", [][]byte{rwV1Raw(t)}, want{code: 204}},
		{"interleaved labels, unknown and reserved fields", [][]byte{
			interleavedSeries(now), interleavedSeries(now + 5000),
		}, want{code: 204}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prom, legacy, fast := newRWTargets(t, limits)
			type result struct {
				code int
				body string
			}
			send := func(tg rwTarget) result {
				var r result
				for i, raw := range tc.reqs {
					r.code, r.body = postRemoteWriteV1(tg.h, raw)
					if i < len(tc.reqs)-1 && r.code/100 != 2 {
						t.Fatalf("%s: setup request %d: %d %s", tg.name, i, r.code, r.body)
					}
				}
				return r
			}
			pr, lr, fr := send(prom), send(legacy), send(fast)
			t.Logf("prometheus %d %q; legacy %d %q; fast %d %q", pr.code, pr.body, lr.code, lr.body, fr.code, fr.body)
			if fr.code != tc.want.code || lr.code != tc.want.code {
				t.Errorf("status legacy %d, fast %d, want %d", lr.code, fr.code, tc.want.code)
			}
			if fr.body != lr.body {
				t.Errorf("body fast %q, legacy %q", fr.body, lr.body)
			}
			ps, ls, fs := storedDump(t, prom.db), storedDump(t, legacy.db), storedDump(t, fast.db)
			t.Logf("stored:\n%s", fs)
			if fs != ls {
				t.Errorf("stored, fast:\n%s\nlegacy:\n%s", fs, ls)
			}
			if lc, fc := counterDump(legacy.set), counterDump(fast.set); lc != fc {
				t.Errorf("self-metrics, fast:\n%s\nlegacy:\n%s", fc, lc)
			}
			if tc.want.promDiffers {
				if pr.code/100 != 2 || len(tc.reqs) != 1 || fs != "" {
					t.Errorf("prometheus %d, fast stored %q: want Prometheus to accept and Vigil to store nothing", pr.code, fs)
				}
				return
			}
			if fs != ps {
				t.Errorf("stored, fast:\n%s\nprometheus:\n%s", fs, ps)
			}
			if pc, fc := pr.code/100, fr.code/100; pc != fc && !(pc == 2 && strings.Contains(fr.body, "dropped for invalid labels")) {
				t.Errorf("status class prometheus %dxx, fast %dxx", pc, fc)
			}
		})
	}
}

// refRecorder records the refs the handler passes to Append.
type refRecorder struct {
	storage.AppendableV2
	mu   sync.Mutex
	refs []storage.SeriesRef
}

func (r *refRecorder) AppenderV2(ctx context.Context) storage.AppenderV2 {
	app := r.AppendableV2.AppenderV2(ctx)
	return &refRecordingAppender{AppenderV2: app, ExemplarAppenderV2: app.(storage.ExemplarAppenderV2), r: r}
}

type refRecordingAppender struct {
	storage.AppenderV2
	storage.ExemplarAppenderV2
	r *refRecorder
}

func (a *refRecordingAppender) Append(ref storage.SeriesRef, ls labels.Labels, st, t int64, v float64, h *histogram.Histogram, fh *histogram.FloatHistogram, opts storage.AOptions) (storage.SeriesRef, error) {
	a.r.mu.Lock()
	a.r.refs = append(a.r.refs, ref)
	a.r.mu.Unlock()
	return a.AppenderV2.Append(ref, ls, st, t, v, h, fh, opts)
}

func (a *refRecordingAppender) Commit() error   { return a.AppenderV2.Commit() }
func (a *refRecordingAppender) Rollback() error { return a.AppenderV2.Rollback() }

func (r *refRecorder) take() []storage.SeriesRef {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.refs
	r.refs = nil
	return out
}

// TestRemoteWriteV1StaleRef checks the cache end to end: known series are
// appended by ref, and a ref the head has garbage-collected falls back to
// the labels and is renewed.
func TestRemoteWriteV1StaleRef(t *testing.T) {
	db := openMetricsTestDB(t)
	rec := &refRecorder{AppendableV2: db}
	h := NewRemoteWriteHandler(rec, DefaultMetricsIngestOptions(), metrics.NewSet(), nil).(*remoteWriteHandler)
	now := time.Now().UnixMilli()
	send := func(ts int64) {
		t.Helper()
		raw := rwV1Raw(t, floatSeries(ts, 1, "__name__", "a", "job", "x"), floatSeries(ts, 2, "__name__", "b", "job", "x"))
		if code, body := postRemoteWriteV1(h, raw); code != http.StatusNoContent {
			t.Fatalf("status %d: %s", code, body)
		}
	}

	send(now)
	if refs := rec.take(); len(refs) != 2 || refs[0] != 0 || refs[1] != 0 {
		t.Fatalf("first request appended with refs %v, want 0, 0", refs)
	}
	if n := h.cache.len(); n != 2 {
		t.Fatalf("cache holds %d series, want 2", n)
	}
	send(now + 1000)
	first := rec.take()
	if len(first) != 2 || first[0] == 0 || first[1] == 0 {
		t.Fatalf("second request appended with refs %v, want the cached ones", first)
	}

	// Drop every series from the head, as head truncation after compaction
	// does for series without recent samples.
	if err := db.Head().Truncate(now + 2000); err != nil {
		t.Fatalf("truncate head: %v", err)
	}
	if n := db.Head().NumSeries(); n != 0 {
		t.Fatalf("head still holds %d series after truncation", n)
	}
	send(now + 3000)
	if refs := rec.take(); len(refs) != 2 || refs[0] != first[0] || refs[1] != first[1] {
		t.Fatalf("third request appended with refs %v, want the stale %v", refs, first)
	}
	if n := db.Head().NumSeries(); n != 2 {
		t.Errorf("head holds %d series, want 2 recreated from labels", n)
	}
	send(now + 4000)
	renewed := rec.take()
	if len(renewed) != 2 || renewed[0] == first[0] || renewed[0] == 0 || renewed[1] == first[1] || renewed[1] == 0 {
		t.Errorf("fourth request appended with refs %v, want new refs (stale were %v)", renewed, first)
	}
	got := readSeries(t, db)
	for _, k := range []string{`{__name__="a", job="x"}`, `{__name__="b", job="x"}`} {
		if s := got[k]; len(s) != 2 || s[0].T != now+3000 || s[1].T != now+4000 {
			t.Errorf("%s = %+v, want the samples at +3s and +4s", k, s)
		}
	}
}

func TestSeriesRefCacheGenerations(t *testing.T) {
	c := newSeriesRefCache(2)
	put := func(keys ...string) {
		var u []seriesRefUpdate
		for i, k := range keys {
			u = append(u, seriesRefUpdate{key: k, cachedSeries: cachedSeries{ref: storage.SeriesRef(i + 1), ls: labels.FromStrings("k", k)}})
		}
		c.store(u)
	}
	has := func(key string) bool {
		r := &rwV1Request{decoded: []byte(key), series: []rwV1Series{{keyLen: len(key)}}}
		c.lookup(r)
		if r.series[0].hit {
			c.store(r.updates)
		}
		return r.series[0].hit
	}
	put("a", "b") // a full generation: a and b become old
	put("c")
	if !has("a") || !has("c") {
		t.Fatal("lost a recent entry")
	}
	// has("a") moved a forward: cur is {c, a}, which filled and turned old.
	put("d", "e")
	if has("b") {
		t.Error("b survived two generations without use")
	}
	if n := c.len(); n > 4 {
		t.Errorf("cache holds %d entries, bound is 4", n)
	}
	c.store([]seriesRefUpdate{{key: "zero"}}) // ref 0: the storage says not to cache it
	if has("zero") {
		t.Error("a ref of 0 was cached")
	}
}

// TestRemoteWriteV1Concurrent writes overlapping series from several
// goroutines (run it with -race).
func TestRemoteWriteV1Concurrent(t *testing.T) {
	db := openMetricsTestDB(t)
	set := metrics.NewSet()
	h := NewRemoteWriteHandler(db, DefaultMetricsIngestOptions(), set, nil)
	now := time.Now().UnixMilli()
	const workers, rounds, seriesN = 4, 20, 50
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				var ts []prompb.TimeSeries
				for s := range seriesN {
					ts = append(ts, floatSeries(now+int64(r*1000), float64(r), "__name__", "c", "s", fmt.Sprint(s), "w", fmt.Sprint(w)))
				}
				if code, body := postRemoteWriteV1(h, rwV1Raw(t, ts...)); code != http.StatusNoContent {
					t.Errorf("worker %d round %d: %d %s", w, r, code, body)
					return
				}
			}
		})
	}
	wg.Wait()
	got := readSeries(t, db)
	if len(got) != workers*seriesN {
		t.Fatalf("stored %d series, want %d", len(got), workers*seriesN)
	}
	for k, s := range got {
		if len(s) != rounds {
			t.Errorf("%s has %d samples, want %d", k, len(s), rounds)
		}
	}
	if n := counterValue(set, itemsName(protoRemoteWrite)); n != workers*rounds*seriesN {
		t.Errorf("items_total = %d, want %d", n, workers*rounds*seriesN)
	}
}

// TestRemoteWriteV1Allocs bounds the allocations of a request of known
// series: none may grow with the number of samples.
func TestRemoteWriteV1Allocs(t *testing.T) {
	db := openMetricsTestDB(t)
	h := NewRemoteWriteHandler(db, DefaultMetricsIngestOptions(), metrics.NewSet(), nil)
	now := time.Now().UnixMilli()
	allocs := func(n int) float64 {
		mk := func(ts int64) []byte {
			var series []prompb.TimeSeries
			for i := range n {
				series = append(series, floatSeries(ts, 1, "__name__", "alloc", "n", fmt.Sprint(n), "i", fmt.Sprint(i)))
			}
			return snappy.Encode(nil, rwV1Raw(t, series...))
		}
		ts := now
		send := func() {
			ts++
			req := httptest.NewRequest(http.MethodPost, "/api/v1/write", bytes.NewReader(mk(ts)))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusNoContent {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
		send() // creates the series, fills the cache
		bodies := make([][]byte, 0, 12)
		for range 12 {
			ts++
			bodies = append(bodies, mk(ts))
		}
		i := 0
		return testing.AllocsPerRun(10, func() {
			req, _ := http.NewRequest(http.MethodPost, "/api/v1/write", bytes.NewReader(bodies[i]))
			i++
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
		})
	}
	small, large := allocs(10), allocs(1000)
	t.Logf("allocs per request: 10 series %.0f, 1000 series %.0f", small, large)
	if large > small+20 {
		t.Errorf("1000-series requests allocate %.0f times, 10-series ones %.0f: allocations grow with samples", large, small)
	}
}
