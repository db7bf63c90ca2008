package tsdb

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
)

func TestOutOfOrder(t *testing.T) {
	cases := []struct {
		name    string
		window  time.Duration
		behind  time.Duration // how far behind the newest sample the late one is
		wantErr error         // nil: accepted and queryable
	}{
		{"inside window", 10 * time.Minute, 5 * time.Minute, nil},
		{"at window edge", 10 * time.Minute, 10 * time.Minute, nil},
		{"outside window", 10 * time.Minute, 20 * time.Minute, storage.ErrTooOldSample},
		{"no window", 0, time.Second, storage.ErrOutOfOrderSample},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := DefaultOptions()
			opts.OutOfOrderWindow = tc.window
			db := openTestDB(t, t.TempDir(), opts)
			ls := labels.FromStrings("__name__", "late")
			newest := t0.Add(time.Hour)
			late := newest.Add(-tc.behind)

			app := db.Appender(context.Background())
			if _, err := app.Append(0, ls, newest.UnixMilli(), 1); err != nil {
				t.Fatal(err)
			}
			if err := app.Commit(); err != nil {
				t.Fatal(err)
			}

			app = db.Appender(context.Background())
			_, err := app.Append(0, ls, late.UnixMilli(), 2)
			if err == nil {
				err = app.Commit()
			} else if rbErr := app.Rollback(); rbErr != nil {
				t.Fatal(rbErr)
			}
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("append %s behind: err = %v, want %v", tc.behind, err, tc.wantErr)
			}

			if got, want := countSamples(t, db, ls), map[bool]int{true: 2, false: 1}[tc.wantErr == nil]; got != want {
				t.Fatalf("stored %d samples, want %d", got, want)
			}
		})
	}
}

func countSamples(t *testing.T, db *DB, ls labels.Labels) int {
	t.Helper()
	q, err := db.Querier(0, t0.Add(24*time.Hour).UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	var ms []*labels.Matcher
	ls.Range(func(l labels.Label) { ms = append(ms, labels.MustNewMatcher(labels.MatchEqual, l.Name, l.Value)) })
	ss := q.Select(context.Background(), false, nil, ms...)
	n := 0
	for ss.Next() {
		it := ss.At().Iterator(nil)
		for it.Next() != 0 {
			n++
		}
	}
	if err := ss.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}
