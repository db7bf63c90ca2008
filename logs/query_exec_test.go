package logs

import (
	"context"
	"slices"
	"testing"
	"time"
)

// TestQueryAgreesWithMatcher runs queries over flushed realistic lines (two partitions,
// blocks with dictionaries and bloom filters) and over lines still in memory, and checks
// that the totals and pages equal what the per-line matcher finds in every line: the
// dictionaries, bloom filters and block selection must never lose a line or add one.
func TestQueryAgreesWithMatcher(t *testing.T) {
	const n = 6000
	recs := realisticRecords(n, t0, 2*time.Hour)
	probe := recs[n/3]
	queries := []string{
		"", "timeout", `"connection refused"`, "level:error AND service:checkout", "level:error -service:checkout",
		"NOT level:info", "level:warn OR level:debug", "trace_id:" + probe.TraceID, "span_id:" + probe.SpanID,
		"user_id:" + probe.Fields[3].Value, "host:" + probe.Fields[0].Value, "status:>=500", "status:503",
		"duration_ms:<10", "paym*", "payment-service:8080", `"payment-service:8080"`, "time*", "/ti.*out/",
		"timeut~1", "kafka AND NOT orders", "partition 7", `"eta 3 days"`, "+checkout -cart", "nosuchterm",
		"service:nosuch", `time:>="2026-01-01T10:30:00Z"`, "level:error AND (timeout OR refused)", "dhl",
		"msg:order", "u-" + probe.Fields[3].Value[2:],
	}
	check := func(t *testing.T, s *Store, label string) {
		for _, q := range queries {
			cq, err := compileQuery(q)
			if err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			start, end := t0.Add(10*time.Minute), t0.Add(110*time.Minute)
			var want []int
			var lv lineView
			for i := range recs {
				r := &recs[i]
				if r.Time.Before(start) || !r.Time.Before(end) {
					continue
				}
				lv.reset(r)
				if cq.match(&lv) {
					want = append(want, i)
				}
			}
			for _, dir := range []Direction{Backward, Forward} {
				res, err := s.Query(context.Background(), Query{Q: q, Start: start, End: end, Limit: 50, Direction: dir})
				if err != nil {
					t.Fatalf("%s %q: %v", label, q, err)
				}
				if res.Total != len(want) || res.TotalLowerBound {
					t.Errorf("%s %q: total %d (lower bound %v), want %d", label, q, res.Total, res.TotalLowerBound, len(want))
					continue
				}
				page := slices.Clone(want)
				if dir == Backward {
					slices.Reverse(page)
				}
				page = page[:min(50, len(page))]
				for j, l := range res.Lines {
					w := &recs[page[j]]
					if !l.Time.Equal(w.Time) || string(l.Raw) != string(w.Raw) || l.TraceID != w.TraceID || !slices.Equal(l.Fields, w.Fields) || l.Message != w.Message || l.Level != w.Level || l.Service != w.Service {
						t.Errorf("%s %q dir %d: line %d = %s, want %s", label, q, dir, j, l.Raw, w.Raw)
						break
					}
				}
			}
		}
	}
	o := testOptions()
	o.BlockLines = 100 // many blocks, most of them inside the range
	s := openTestStore(t, t.TempDir(), o)
	if err := s.WriteLogs(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	check(t, s, "memory")
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	check(t, s, "flushed")
}

// TestQueryTotalLimit: past TotalLimit, lines that need verifying are no longer counted and
// the total is flagged as a lower bound; dictionary-decided counts stay exact.
func TestQueryTotalLimit(t *testing.T) {
	recs := realisticRecords(20000, t0, time.Hour)
	s := openTestStore(t, t.TempDir(), testOptions())
	if err := s.WriteLogs(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	q := func(q string, limit int) Result {
		res, err := s.Query(context.Background(), Query{Q: q, Start: t0, End: t0.Add(time.Hour), Limit: 10, TotalLimit: limit})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	exact := q(`"connection refused"`, 0)
	capped := q(`"connection refused"`, 20)
	if exact.TotalLowerBound || !capped.TotalLowerBound || capped.Total < 20 || capped.Total >= exact.Total {
		t.Errorf("phrase: exact %d (lower bound %v), capped %d (lower bound %v)", exact.Total, exact.TotalLowerBound, capped.Total, capped.TotalLowerBound)
	}
	if !slices.EqualFunc(exact.Lines, capped.Lines, func(a, b Line) bool { return a.ID == b.ID }) {
		t.Error("capped total changed the page")
	}
	if term, termCapped := q("timeout", 0), q("timeout", 20); termCapped.TotalLowerBound || term.Total != termCapped.Total {
		t.Errorf("term: %d exact, %d (lower bound %v) with a limit", term.Total, termCapped.Total, termCapped.TotalLowerBound)
	}
}

// TestVolumeAgreesWithMatcher checks Volume, split by fields the dictionaries answer for
// and fields they do not (bloom values, repeated keys, the message), against the matcher
// over every line, in memory and flushed.
func TestVolumeAgreesWithMatcher(t *testing.T) {
	recs := realisticRecords(4000, t0, time.Hour)
	// Lines holding a field twice: the first value counts.
	for i := 0; i < len(recs); i += 7 {
		recs[i].Fields = append(recs[i].Fields, Field{"host", "second-host", KindString}, Field{"level", "shadow", KindString})
	}
	step := 5 * time.Minute
	check := func(t *testing.T, s *Store, label string) {
		for _, q := range []string{"", "timeout", `"connection refused"`, "level:error", "status:>=500", "NOT level:info"} {
			for _, by := range []string{"", "level", "host", "user_id", "status", "message", "trace_id", "nosuch"} {
				cq, err := compileQuery(q)
				if err != nil {
					t.Fatal(err)
				}
				start, end := t0.Add(7*time.Minute), t0.Add(53*time.Minute)
				want := map[string][]int64{}
				var lv lineView
				for i := range recs {
					r := &recs[i]
					if r.Time.Before(start) || !r.Time.Before(end) {
						continue
					}
					lv.reset(r)
					if !cq.match(&lv) {
						continue
					}
					val := ""
					if by != "" {
						lv.anyValue(canonicalField(by), func(x string, _ FieldKind) bool { val = x; return true })
					}
					if want[val] == nil {
						want[val] = make([]int64, 10)
					}
					want[val][r.Time.Sub(start)/step]++
				}
				v, err := s.Volume(context.Background(), q, start, end, step, by)
				if err != nil {
					t.Fatal(err)
				}
				got := map[string][]int64{}
				for _, sr := range v.Series {
					got[sr.Value] = sr.Counts
				}
				if len(got) != len(want) {
					t.Errorf("%s %q by %q: %d series, want %d", label, q, by, len(got), len(want))
					continue
				}
				for val, c := range want {
					if !slices.Equal(got[val], c) {
						t.Errorf("%s %q by %q: %q counts %v, want %v", label, q, by, val, got[val], c)
					}
				}
			}
		}
	}
	o := testOptions()
	o.BlockLines = 100 // many blocks, most of them inside the range
	s := openTestStore(t, t.TempDir(), o)
	if err := s.WriteLogs(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	check(t, s, "memory")
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	check(t, s, "flushed")
}

// TestFieldValuesAgreeWithMatcher checks FieldValues against the matcher over every line,
// for fields the dictionaries answer for and fields they do not.
func TestFieldValuesAgreeWithMatcher(t *testing.T) {
	recs := realisticRecords(4000, t0, time.Hour)
	for i := 0; i < len(recs); i += 7 {
		recs[i].Fields = append(recs[i].Fields, Field{"host", "second-host", KindString}, Field{"host", recs[i].Fields[0].Value, KindString})
	}
	check := func(t *testing.T, s *Store, label string) {
		for _, q := range []string{"", "timeout", `"connection refused"`, "level:error", "status:>=500"} {
			for _, name := range []string{"level", "host", "status", "user_id", "service", "nosuch"} {
				cq, err := compileQuery(q)
				if err != nil {
					t.Fatal(err)
				}
				start, end := t0.Add(7*time.Minute), t0.Add(53*time.Minute)
				want := map[string]int64{}
				wantLines := int64(0)
				var lv lineView
				for i := range recs {
					r := &recs[i]
					if r.Time.Before(start) || !r.Time.Before(end) {
						continue
					}
					lv.reset(r)
					if !cq.match(&lv) {
						continue
					}
					wantLines++
					var seen []string
					lv.anyValue(name, func(x string, _ FieldKind) bool {
						if !slices.Contains(seen, x) {
							want[x]++
							seen = append(seen, x)
						}
						return false
					})
				}
				vals, lines, err := s.FieldValues(context.Background(), name, q, start, end, 100000)
				if err != nil {
					t.Fatal(err)
				}
				got := map[string]int64{}
				for _, v := range vals {
					got[v.Value] = v.Count
				}
				if lines != wantLines || len(got) != len(want) {
					t.Errorf("%s %q values of %s: %d lines, %d values; want %d, %d", label, q, name, lines, len(got), wantLines, len(want))
					continue
				}
				for v, c := range want {
					if got[v] != c {
						t.Errorf("%s %q values of %s: %q counted %d, want %d", label, q, name, v, got[v], c)
					}
				}
			}
		}
	}
	o := testOptions()
	o.BlockLines = 100 // many blocks, most of them inside the range
	s := openTestStore(t, t.TempDir(), o)
	if err := s.WriteLogs(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	check(t, s, "memory")
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	check(t, s, "flushed")
}
