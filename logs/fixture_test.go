package logs

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

// t0 is the fixture's reference time; the test clock stands at t0+3h.
var t0 = time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)

const fixtureTrace = "4bf92f3577b34da6a3ce929d0e0e4736"

type fixtureLine struct {
	at      time.Duration
	service string
	level   string
	msg     string
	trace   string
	fields  []Field
}

// fixture spans two hourly partitions and three services.
var fixture = []fixtureLine{
	{1 * time.Minute, "checkout", "info", "order placed id=42", "", []Field{{"status", "200", KindNumber}, {"http.method", "POST", KindString}}},
	{2 * time.Minute, "checkout", "error", "connection refused to payment-service:8080", fixtureTrace, []Field{{"status", "503", KindNumber}, {"retry", "true", KindBool}}},
	{3 * time.Minute, "checkout", "warn", "slow response from payment-service:8080", "", []Field{{"status", "200", KindNumber}}},
	{4 * time.Minute, "payments", "info", "charge ok card=visa", "", []Field{{"status", "200", KindNumber}}},
	{5 * time.Minute, "payments", "error", "Connection reset by peer", "", []Field{{"status", "500", KindNumber}}},
	{6 * time.Minute, "payments", "debug", "cache miss key=user:17 café ☕", "", nil},
	{65 * time.Minute, "checkout", "info", "order placed id=43", "", []Field{{"status", "201", KindNumber}}},
	{66 * time.Minute, "checkout", "error", "connection refused to payment-service:8080", fixtureTrace, []Field{{"status", "503", KindNumber}}},
	{67 * time.Minute, "payments", "info", "charge ok card=amex", "", []Field{{"status", "200", KindNumber}}},
	{68 * time.Minute, "gateway", "info", "GET /api/v1/users 200", "", []Field{{"status", "200", KindNumber}, {"http.method", "GET", KindString}}},
	{69 * time.Minute, "gateway", "error", "upstream timeout after 30s", "", []Field{{"status", "504", KindNumber}}},
	{70 * time.Minute, "gateway", "warn", "deprecated header X-Foo", "", nil},
}

// fixtureRecords builds the records; every one carries its index as the number field "n",
// and a Raw line with irregular spacing so that any re-encoding would show.
func fixtureRecords() []Record {
	recs := make([]Record, len(fixture))
	for i, f := range fixture {
		ts := t0.Add(f.at)
		raw := fmt.Sprintf(`{"ts":%q,  "service":%q, "level":%q,"msg":%q, "n":%d }`, ts.Format(time.RFC3339Nano), f.service, f.level, f.msg, i)
		recs[i] = Record{
			Time: ts, Service: f.service, Level: f.level, Message: f.msg, TraceID: f.trace,
			Fields: append([]Field{{"n", strconv.Itoa(i), KindNumber}}, f.fields...),
			Raw:    []byte(raw),
		}
	}
	return recs
}

func testOptions() Options {
	o := DefaultOptions()
	o.Now = func() time.Time { return t0.Add(3 * time.Hour) }
	o.FlushInterval = time.Hour // tests flush explicitly
	o.RetentionCheckInterval = time.Hour
	return o
}

func openTestStore(t testing.TB, dir string, o Options) *Store {
	t.Helper()
	s, err := Open(dir, o, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func writeFixture(t testing.TB, s *Store) {
	t.Helper()
	if err := s.WriteLogs(context.Background(), fixtureRecords()); err != nil {
		t.Fatal(err)
	}
}

// ns returns the "n" field of each line.
func ns(t testing.TB, lines []Line) []int {
	t.Helper()
	out := make([]int, 0, len(lines))
	for _, l := range lines {
		i := slices.IndexFunc(l.Fields, func(f Field) bool { return f.Key == "n" })
		if i < 0 {
			t.Fatalf("line %s has no n field", l.ID)
		}
		n, err := strconv.Atoi(l.Fields[i].Value)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

// checkFixture checks that every fixture line is stored exactly as written.
func checkFixture(t testing.TB, s *Store) {
	t.Helper()
	res, err := s.Query(context.Background(), Query{Start: t0, End: t0.Add(2 * time.Hour), Limit: 100, Direction: Forward})
	if err != nil {
		t.Fatal(err)
	}
	want := fixtureRecords()
	if res.Total != len(want) || len(res.Lines) != len(want) {
		t.Fatalf("total %d, %d lines; want %d", res.Total, len(res.Lines), len(want))
	}
	for i, l := range res.Lines {
		w := want[i]
		if !l.Time.Equal(w.Time) || l.Service != w.Service || l.Level != w.Level || l.Message != w.Message ||
			l.TraceID != w.TraceID || !slices.Equal(l.Fields, w.Fields) || string(l.Raw) != string(w.Raw) {
			t.Errorf("line %d = %+v\nwant %+v", i, l.Record, w)
		}
	}
}

func filepathGlob(dir string) ([]string, error) { return filepath.Glob(filepath.Join(dir, "2*Z-*s")) }
