package logs

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

// phraseMessages are the messages of TestPhraseQueries' lines, line i having message
// i%len(phraseMessages). With 10-line blocks and 13 messages most messages are in one line
// of a block, so their rare terms are in the block's bloom filter only, and some in two.
var phraseMessages = []string{
	0:  "payment failed: connection refused (payment-service:8080)",
	1:  "Connection REFUSED by upstream",
	2:  "connection-refused is one token",
	3:  "connection/refused splits on the slash",
	4:  "connection, refused.",
	5:  "refused connection",
	6:  "connection connection refused refused",
	7:  "go stop go",
	8:  "go go gadget",
	9:  "xyzzy refused once",
	10: "the connection was refused",
	11: "ending with connection",
	12: "refused at the start",
}

// TestPhraseQueries checks phrases against hand-computed answers, through blocks that
// return lines and blocks that are only counted (a page of 1 or 3 over 52 blocks), both
// directions, with and without total_limit, flushed and in memory.
func TestPhraseQueries(t *testing.T) {
	const n = 13 * 40
	recs := make([]Record, n)
	for i := range recs {
		msg := phraseMessages[i%len(phraseMessages)]
		ts := t0.Add(time.Duration(i) * time.Second)
		// The service and a field end and start with the phrase's words: a phrase never
		// spans fields, nor the message and a field.
		recs[i] = Record{
			Time: ts, Service: "connection", Level: "info", Message: msg,
			Fields: []Field{{"host", "refused", KindString}, {"n", fmt.Sprint(i), KindNumber}},
			Raw:    fmt.Appendf(nil, `{"ts":%q,"service":"connection","msg":%q,"host":"refused","n":%d}`, ts.Format(time.RFC3339Nano), msg, i),
		}
	}
	cases := []struct {
		q    string
		want []int // indexes into phraseMessages
	}{
		{`"connection refused"`, []int{0, 1, 3, 4, 6}},
		{`"Connection Refused"`, []int{0, 1, 3, 4, 6}},   // case
		{`"CONNECTION, refused!"`, []int{0, 1, 3, 4, 6}}, // punctuation in the query
		{`"connection/refused"`, []int{0, 1, 3, 4, 6}},   // '/' splits in the query too
		{`"connection-refused"`, []int{2}},               // a joiner keeps one token
		{`"refused connection"`, []int{5}},               // order
		{`"connection connection refused"`, []int{6}},    // repeated term
		{`"refused refused"`, []int{6}},                  // repeated term
		{`"go go"`, []int{8}},                            // repeated term, not adjacent in 7
		{`"xyzzy refused"`, []int{9}},                    // xyzzy only in bloom filters
		{`"xyzzy connection"`, nil},                      // bloom term, not adjacent
		{`"refused by upstream"`, []int{1}},              // three words
		{`"connection was"`, []int{10}},                  // a filler word
		{`"connection refused" AND xyzzy`, nil},          // phrase AND a bloom term
		{`"connection refused" OR "xyzzy refused"`, []int{0, 1, 3, 4, 6, 9}},
		{`"connection refused" -upstream`, []int{0, 3, 4, 6}},
		{`"with connection refused"`, nil}, // across line 11 and line 12
		{`"refused at"`, []int{12}},
		{`service:connection AND "connection refused"`, []int{0, 1, 3, 4, 6}},
		{`"connection refused" AND host:refused`, []int{0, 1, 3, 4, 6}},
		{`"8080 connection"`, nil},                                             // payment-service:8080 is one token
		{`"refused payment-service:8080"`, []int{0}},                           // a joined token inside a phrase
		{`"payment failed connection refused payment-service:8080"`, []int{0}}, // ':' and '(' split
	}
	check := func(t *testing.T, s *Store, label string) {
		for _, c := range cases {
			var want []int
			for i := range recs {
				if slices.Contains(c.want, i%len(phraseMessages)) {
					want = append(want, i)
				}
			}
			// The matcher agrees with the hand-computed answer.
			cq, err := compileQuery(c.q)
			if err != nil {
				t.Fatalf("%s: %v", c.q, err)
			}
			var byMatcher []int
			var lv lineView
			for i := range recs {
				if lv.reset(&recs[i]); cq.match(&lv) {
					byMatcher = append(byMatcher, i)
				}
			}
			if !slices.Equal(byMatcher, want) {
				t.Errorf("%q: matcher accepts %d lines, want %d", c.q, len(byMatcher), len(want))
			}
			for _, dir := range []Direction{Backward, Forward} {
				page := slices.Clone(want)
				if dir == Backward {
					slices.Reverse(page)
				}
				for _, limit := range []int{1, 3, 1000} {
					exact, err := s.Query(context.Background(), Query{Q: c.q, Start: t0, End: t0.Add(time.Hour), Limit: limit, Direction: dir})
					if err != nil {
						t.Fatal(err)
					}
					if exact.Total != len(want) || exact.TotalLowerBound {
						t.Errorf("%s %q dir %d limit %d: total %d (lower bound %v), want %d", label, c.q, dir, limit, exact.Total, exact.TotalLowerBound, len(want))
					}
					got := make([]int, len(exact.Lines))
					for j, l := range exact.Lines {
						if _, err := fmt.Sscanf(l.Fields[1].Value, "%d", &got[j]); err != nil {
							t.Fatal(err)
						}
						if string(l.Raw) != string(recs[got[j]].Raw) {
							t.Errorf("%s %q: line %d raw %s", label, c.q, got[j], l.Raw)
						}
					}
					if w := page[:min(limit, len(page))]; !slices.Equal(got, w) {
						t.Errorf("%s %q dir %d limit %d: lines %v, want %v", label, c.q, dir, limit, got, w)
					}
					// total_limit changes only the total: a lower bound past it.
					capped, err := s.Query(context.Background(), Query{Q: c.q, Start: t0, End: t0.Add(time.Hour), Limit: limit, Direction: dir, TotalLimit: 5})
					if err != nil {
						t.Fatal(err)
					}
					if !slices.EqualFunc(capped.Lines, exact.Lines, func(a, b Line) bool { return a.ID == b.ID }) {
						t.Errorf("%s %q dir %d limit %d: total_limit changed the page", label, c.q, dir, limit)
					}
					if capped.Total > len(want) || !capped.TotalLowerBound && capped.Total != len(want) || capped.Total < min(5, len(want)) {
						t.Errorf("%s %q dir %d limit %d: capped total %d (lower bound %v) of %d", label, c.q, dir, limit, capped.Total, capped.TotalLowerBound, len(want))
					}
				}
			}
		}
	}
	o := testOptions()
	o.BlockLines = 10
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
