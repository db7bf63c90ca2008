package logs

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

// TestQuerySemantics runs each query against the fixture while it is in memory, after it
// is flushed into blocks (bleve candidates + line matcher), and after a reopen.
func TestQuerySemantics(t *testing.T) {
	cases := []struct {
		q    string
		want []int // fixture indices, ascending
	}{
		{"", []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
		{"*", []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
		{"refused", []int{1, 7}},
		{"REFUSED", []int{1, 7}},
		{`"connection refused"`, []int{1, 7}},
		{`"refused connection"`, nil},
		{`message:"connection refused"`, []int{1, 7}},
		{"connection", []int{1, 4, 7}},
		{"level:error", []int{1, 4, 7, 10}},
		{"level:ERROR", []int{1, 4, 7, 10}},
		{"level:error AND service:checkout", []int{1, 7}},
		{"level:error service:checkout", []int{1, 7}},
		{"level:error && service:checkout", []int{1, 7}},
		{"level:error OR level:warn", []int{1, 2, 4, 7, 10, 11}},
		{"service:payments -level:info", []int{4, 5}},
		{"NOT service:gateway AND level:info", []int{0, 3, 6, 8}},
		{"+service:gateway -level:error", []int{9, 11}},
		{"(level:error OR level:warn) AND service:gateway", []int{10, 11}},
		{"level:error OR level:warn AND service:gateway", []int{1, 4, 7, 10, 11}},
		{"NOT (service:checkout OR service:payments)", []int{9, 10, 11}},
		{`"payment-service:8080"`, []int{1, 2, 7}},
		{"service:pay*", []int{3, 4, 5, 8}},
		{"service:?ateway", []int{9, 10, 11}},
		{"paym*", []int{1, 2, 7}},
		{"status:>=500", []int{1, 4, 7, 10}},
		{"status:>=500 AND status:<504", []int{1, 4, 7}},
		{"status:503", []int{1, 7}},
		{"status:>200 -status:>=500", []int{6}},
		{"http.method:GET", []int{9}},
		{"trace_id:" + fixtureTrace, []int{1, 7}},
		{"trace_id:4BF92F3577B34DA6A3CE929D0E0E4736", []int{1, 7}},
		{`time:>="2026-01-01T11:00:00Z"`, []int{6, 7, 8, 9, 10, 11}},
		{`time:<"2026-01-01T10:03:00Z" level:error`, []int{1}},
		{"/ord.r/", []int{0, 6}},
		{"service:/pay.*s/", []int{3, 4, 5, 8}},
		{"refuzed~1", []int{1, 7}},
		{"retry:true", []int{1}},
		{"café", []int{5}},
		{"user:17", nil}, // bleve reads it as field "user"
		{`"user:17"`, []int{5}},
		{"missingfield:x", nil},
		{"nosuchword", nil},
		{"n:3 OR n:7", []int{3, 7}},
	}
	s := openTestStore(t, t.TempDir(), testOptions())
	writeFixture(t, s)
	run := func(t *testing.T, s *Store) {
		for _, tc := range cases {
			t.Run(tc.q, func(t *testing.T) {
				res, err := s.Query(context.Background(), Query{Q: tc.q, Start: t0, End: t0.Add(2 * time.Hour), Limit: 100, Direction: Forward})
				if err != nil {
					t.Fatal(err)
				}
				got := ns(t, res.Lines)
				if !slices.Equal(got, tc.want) || res.Total != len(tc.want) {
					t.Errorf("got %v (total %d), want %v", got, res.Total, tc.want)
				}
			})
		}
	}
	t.Run("memory", func(t *testing.T) { run(t, s) })
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Run("flushed", func(t *testing.T) { run(t, s) })
	dir := s.dir
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	t.Run("reopened", func(t *testing.T) { run(t, openTestStore(t, dir, testOptions())) })
}

func TestQueryRangeLimitDirection(t *testing.T) {
	s := openTestStore(t, t.TempDir(), testOptions())
	writeFixture(t, s)
	if err := s.WriteLogs(context.Background(), fixtureRecords()[:3]); err != nil { // unflushed duplicates of 0..2
		t.Fatal(err)
	}
	recs := fixtureRecords()
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteLogs(context.Background(), recs[9:]); err != nil { // 9..11 again, in memory
		t.Fatal(err)
	}
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	cases := []struct {
		name      string
		q         Query
		want      []int
		wantTotal int
	}{
		{"range end exclusive", Query{Start: at(65 * time.Minute), End: at(68 * time.Minute), Direction: Forward}, []int{6, 7, 8}, 3},
		{"range start inclusive", Query{Start: at(6 * time.Minute), End: at(65*time.Minute + 1), Direction: Forward}, []int{5, 6}, 2},
		{"forward limit", Query{Start: t0, End: at(2 * time.Hour), Limit: 4, Direction: Forward}, []int{0, 0, 1, 1}, 18},
		{"backward limit", Query{Start: t0, End: at(2 * time.Hour), Limit: 4}, []int{11, 11, 10, 10}, 18},
		{"backward across partitions", Query{Q: "level:error", Start: t0, End: at(2 * time.Hour), Limit: 3}, []int{10, 10, 7}, 6},
		{"forward filter", Query{Q: "service:checkout", Start: t0, End: at(2 * time.Hour), Limit: 100, Direction: Forward}, []int{0, 0, 1, 1, 2, 2, 6, 7}, 8},
		{"empty range", Query{Start: at(3 * time.Hour), End: at(4 * time.Hour)}, []int{}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := s.Query(context.Background(), tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := ns(t, res.Lines); !slices.Equal(got, tc.want) || res.Total != tc.wantTotal {
				t.Errorf("got %v total %d, want %v total %d", got, res.Total, tc.want, tc.wantTotal)
			}
			for i := 1; i < len(res.Lines); i++ {
				a, b := res.Lines[i-1], res.Lines[i]
				if tc.q.Direction == Forward && a.Time.After(b.Time) || tc.q.Direction == Backward && a.Time.Before(b.Time) {
					t.Errorf("lines %d and %d out of order: %s, %s", i-1, i, a.Time, b.Time)
				}
			}
		})
	}
}

func TestInvalidQuery(t *testing.T) {
	s := openTestStore(t, t.TempDir(), testOptions())
	for _, q := range []string{
		`"unterminated`,
		"(level:error",
		"level:error)",
		"level:error AND",
		"OR level:error",
		"status:>=abc",
		`time:>"yesterday"`,
		"/[a-/",
		"field:",
	} {
		t.Run(q, func(t *testing.T) {
			_, err := s.Query(context.Background(), Query{Q: q})
			if !errors.Is(err, ErrInvalidQuery) {
				t.Fatalf("err = %v, want ErrInvalidQuery", err)
			}
			if _, err := s.Tail(context.Background(), q); !errors.Is(err, ErrInvalidQuery) {
				t.Fatalf("tail err = %v, want ErrInvalidQuery", err)
			}
		})
	}
}

func TestTokenize(t *testing.T) {
	f := func(in string, want ...string) {
		t.Helper()
		if got := tokens(in); !slices.Equal(got, want) {
			t.Errorf("tokens(%q) = %q, want %q", in, got, want)
		}
	}
	f("connection refused to payment-service:8080.", "connection", "refused", "to", "payment-service:8080")
	f("trace=4BF92F3577B34DA6 err:", "trace", "4bf92f3577b34da6", "err")
	f("GET /api/v1/users?id=7", "get", "api", "v1", "users", "id", "7")
	f("v1.2.3 user@example.com __init__", "v1.2.3", "user@example.com", "init")
	f("Ünïcode café ☕ 日本語", "ünïcode", "café", "日本語")
	f("", []string(nil)...)
}
