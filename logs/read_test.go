package logs

import (
	"context"
	"slices"
	"testing"
	"time"
)

func flushedFixture(t *testing.T) *Store {
	t.Helper()
	s := openTestStore(t, t.TempDir(), testOptions())
	writeFixture(t, s)
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestBlockIndexPrunes checks that bleve, not the matcher alone, selects the blocks.
func TestBlockIndexPrunes(t *testing.T) {
	s := flushedFixture(t)
	cases := []struct {
		q        string
		services []string // services of the candidate blocks, sorted
	}{
		{"service:gateway", []string{"gateway"}},
		{`"connection refused"`, []string{"checkout", "checkout"}},
		{"status:>=504", []string{"gateway"}},
		// Negations do not prune: a block may hold both kinds of lines.
		{"level:error -service:checkout", []string{"checkout", "checkout", "gateway", "payments"}},
		{`time:>="2026-01-01T11:00:00Z"`, []string{"checkout", "gateway", "payments"}},
	}
	for _, tc := range cases {
		t.Run(tc.q, func(t *testing.T) {
			cq, err := compileQuery(tc.q)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range s.parts {
				cands, err := s.candidates(p, p.entries, cq, t0.UnixNano(), t0.Add(2*time.Hour).UnixNano(), scanAny)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range cands {
					lines, err := p.readBlock(e, s.dec)
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, lines[0].Service)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.services) {
				t.Errorf("candidate blocks of %v, want %v", got, tc.services)
			}
		})
	}
}

func TestVolume(t *testing.T) {
	s := flushedFixture(t)
	v, err := s.Volume(context.Background(), "", t0, t0.Add(2*time.Hour), 30*time.Minute, "level")
	if err != nil {
		t.Fatal(err)
	}
	want := []VolumeSeries{
		{"debug", []int64{1, 0, 0, 0}},
		{"error", []int64{2, 0, 2, 0}},
		{"info", []int64{2, 0, 3, 0}},
		{"warn", []int64{1, 0, 1, 0}},
	}
	if v.Total != 12 || len(v.Series) != len(want) {
		t.Fatalf("volume = %+v", v)
	}
	for i, sr := range v.Series {
		if sr.Value != want[i].Value || !slices.Equal(sr.Counts, want[i].Counts) {
			t.Errorf("series %d = %+v, want %+v", i, sr, want[i])
		}
	}
	v, err = s.Volume(context.Background(), "service:gateway", t0, t0.Add(2*time.Hour), time.Hour, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Series) != 1 || !slices.Equal(v.Series[0].Counts, []int64{0, 3}) {
		t.Errorf("gateway volume = %+v", v.Series)
	}
	if _, err := s.Volume(context.Background(), "", t0, t0.Add(2*time.Hour), time.Millisecond, ""); err == nil {
		t.Error("too many buckets accepted")
	}
}

func TestFieldsAndValues(t *testing.T) {
	s := openTestStore(t, t.TempDir(), testOptions())
	recs := fixtureRecords()
	if err := s.WriteLogs(context.Background(), recs[:6]); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteLogs(context.Background(), recs[6:]); err != nil { // in memory
		t.Fatal(err)
	}
	fields, err := s.Fields(context.Background(), t0, t0.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	wantFields := []string{"http.method", "level", "message", "n", "retry", "service", "status", "time", "trace_id"}
	if !slices.Equal(fields, wantFields) {
		t.Errorf("fields = %q, want %q", fields, wantFields)
	}
	vals, lines, err := s.FieldValues(context.Background(), "status", "", t0, t0.Add(2*time.Hour), 3)
	if err != nil {
		t.Fatal(err)
	}
	wantVals := []FieldValue{{"200", 5}, {"503", 2}, {"201", 1}}
	if !slices.Equal(vals, wantVals) || lines != 12 {
		t.Errorf("status values = %v (%d lines), want %v (12 lines)", vals, lines, wantVals)
	}
	vals, lines, err = s.FieldValues(context.Background(), "service", "level:error", t0, t0.Add(2*time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	wantVals = []FieldValue{{"checkout", 2}, {"gateway", 1}, {"payments", 1}}
	if !slices.Equal(vals, wantVals) || lines != 4 {
		t.Errorf("service values = %v (%d lines), want %v (4 lines)", vals, lines, wantVals)
	}
}

func TestContext(t *testing.T) {
	s := flushedFixture(t)
	if err := s.WriteLogs(context.Background(), []Record{{Time: t0.Add(71 * time.Minute), Service: "checkout", Message: "late", Raw: []byte(`{"n":99}`), Fields: []Field{{"n", "99", KindNumber}}}}); err != nil {
		t.Fatal(err)
	}
	hit, err := s.Query(context.Background(), Query{Q: "n:6", Start: t0, End: t0.Add(2 * time.Hour)})
	if err != nil || len(hit.Lines) != 1 {
		t.Fatalf("find n:6: %v %v", hit, err)
	}
	res, err := s.Context(context.Background(), hit.Lines[0].ID, 2, 5)
	if err != nil {
		t.Fatal(err)
	}
	// checkout lines: 0,1,2 (10:0x), 6, 7 (11:0x) and 99 (memory).
	if got := ns(t, res.Before); !slices.Equal(got, []int{1, 2}) {
		t.Errorf("before = %v, want [1 2]", got)
	}
	if got := ns(t, []Line{res.Line}); !slices.Equal(got, []int{6}) {
		t.Errorf("line = %v, want [6]", got)
	}
	if got := ns(t, res.After); !slices.Equal(got, []int{7, 99}) {
		t.Errorf("after = %v, want [7 99]", got)
	}
	if _, err := s.Context(context.Background(), "1-2-3", 1, 1); err == nil {
		t.Error("unknown id found")
	}
}

func TestTail(t *testing.T) {
	s := openTestStore(t, t.TempDir(), testOptions())
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := s.Tail(ctx, "level:error")
	if err != nil {
		t.Fatal(err)
	}
	writeFixture(t, s)
	var got []Line
	for len(got) < 4 {
		select {
		case l := <-ch:
			got = append(got, l)
		case <-time.After(10 * time.Second):
			t.Fatalf("tail got %d lines, want 4", len(got))
		}
	}
	if n := ns(t, got); !slices.Equal(n, []int{1, 4, 7, 10}) {
		t.Errorf("tail = %v, want [1 4 7 10]", n)
	}
	// The tail's ids are the ones queries return.
	res, err := s.Query(context.Background(), Query{Q: "n:10", Start: t0, End: t0.Add(2 * time.Hour)})
	if err != nil || len(res.Lines) != 1 || res.Lines[0].ID != got[3].ID {
		t.Errorf("query id %v, tail id %s (%v)", res.Lines, got[3].ID, err)
	}
	cancel()
	for range ch { // closed after cancel
	}
}

func TestRetention(t *testing.T) {
	now := t0.Add(3 * time.Hour)
	o := testOptions()
	o.Now = func() time.Time { return now }
	o.Retention = 2 * time.Hour
	s := openTestStore(t, t.TempDir(), o)
	writeFixture(t, s)
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		t.Helper()
		res, err := s.Query(context.Background(), Query{Start: t0, End: t0.Add(2 * time.Hour), Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		return res.Total
	}
	if err := s.applyRetention(); err != nil { // 10:00-11:00 ended exactly 2h ago
		t.Fatal(err)
	}
	if n, parts := count(), len(s.parts); n != 6 || parts != 1 {
		t.Fatalf("after age retention: %d lines in %d partitions, want 6 in 1", n, parts)
	}
	// Size: a new partition at 12:00 makes the 11:00 one the oldest over the limit.
	if err := s.WriteLogs(context.Background(), []Record{{Time: t0.Add(2*time.Hour + time.Minute), Raw: []byte("{}")}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.opts.MaxTotalBytes = 1
	if err := s.applyRetention(); err != nil {
		t.Fatal(err)
	}
	if n, parts := count(), len(s.parts); n != 0 || parts != 1 {
		t.Fatalf("after size retention: %d lines in %d partitions, want 0 in 1 (the newest is kept)", n, parts)
	}
	dirs, err := filepathGlob(s.dir)
	if err != nil || len(dirs) != 1 {
		t.Fatalf("partition dirs left: %v %v", dirs, err)
	}
}
