package logs

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2/search/query"
	vregexp "github.com/blevesearch/vellum/regexp"
)

// The index holds one bleve document per block, so a block hit is only a candidate; the
// lines a block's dictionary cannot decide (block_eval.go) are checked with a matcher
// compiled from the same query tree, as are the lines still in memory.
//
// Why a matcher and not an in-memory bleve index of the candidate block: indexing 1,000
// lines into bleve costs about as much as indexing them for real (the issue measured 9k-42k
// lines/s), so a query touching 100 blocks would take seconds; the matcher checks a line in
// well under a microsecond for keyword clauses and a few for text clauses (it tokenizes the
// message once per line, lazily). The price is that the matcher must agree with bleve's
// semantics clause by clause; query_test.go pins that down, and blockQuery (the bleve side)
// is built from the same tree so that it is never narrower than the matcher.

// Field names. Query field "" (a bare clause), "_all" and "msg" mean the message.
const (
	fieldMessage = "message"
	fieldTime    = "time"
	fieldLevel   = "level"
	fieldService = "service"
	fieldTraceID = "trace_id"
	fieldSpanID  = "span_id"
	fieldMin     = "_min" // block documents: first and last line time, Unix milliseconds
	fieldMax     = "_max"
)

func canonicalField(f string) string {
	switch f {
	case "", "_all", "msg":
		return fieldMessage
	}
	return f
}

// reservedField reports whether a Record.Fields key is shadowed by a recognised or internal
// field; such keys are returned with the record but neither indexed nor matched.
func reservedField(key string) bool {
	switch key {
	case fieldMessage, fieldTime, "msg", "_all", "_id", fieldMin, fieldMax, fieldsField:
		return true
	}
	return strings.HasPrefix(key, numRangePrefix)
}

// normalizeKeyword maps query text for a keyword field the way ingest normalises the field:
// level, trace and span ids are lower case.
func normalizeKeyword(field, v string) string {
	switch field {
	case fieldLevel, fieldTraceID, fieldSpanID:
		return lower(v)
	}
	return v
}

// lineView is one line being matched; it tokenizes the message at most once.
type lineView struct {
	r         *Record
	toks      []string
	tokenized bool
}

func (v *lineView) reset(r *Record) {
	v.r, v.toks, v.tokenized = r, v.toks[:0], false
}

func (v *lineView) tokens() []string {
	if !v.tokenized {
		v.tokenized = true
		tokenize(v.r.Message, func(t string) { v.toks = append(v.toks, t) })
	}
	return v.toks
}

// anyValue reports whether fn holds for any value of keyword/number field f.
func (v *lineView) anyValue(f string, fn func(val string, kind FieldKind) bool) bool {
	var rec string
	switch f {
	case fieldLevel:
		rec = v.r.Level
	case fieldService:
		rec = v.r.Service
	case fieldTraceID:
		rec = v.r.TraceID
	case fieldSpanID:
		rec = v.r.SpanID
	}
	if rec != "" && fn(rec, KindString) {
		return true
	}
	for i := range v.r.Fields {
		fl := &v.r.Fields[i]
		if fl.Key == f && !reservedField(f) && fn(fl.Value, fl.Kind) {
			return true
		}
	}
	return false
}

func (v *lineView) anyToken(fn func(tok string) bool) bool {
	return slices.ContainsFunc(v.tokens(), fn)
}

type matcher func(*lineView) bool

func matchAll(*lineView) bool  { return true }
func matchNone(*lineView) bool { return false }

func compileAll(qs []query.Query) ([]matcher, error) {
	ms := make([]matcher, 0, len(qs))
	for _, q := range qs {
		m, err := compileMatcher(q)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	return ms, nil
}

func allOf(ms []matcher) matcher {
	return func(v *lineView) bool {
		for _, m := range ms {
			if !m(v) {
				return false
			}
		}
		return true
	}
}

func atLeast(ms []matcher, min int) matcher {
	if min < 1 {
		min = 1
	}
	return func(v *lineView) bool {
		n := 0
		for _, m := range ms {
			if m(v) {
				if n++; n >= min {
					return true
				}
			}
		}
		return false
	}
}

// compileMatcher turns a query tree into a per-line predicate.
func compileMatcher(q query.Query) (matcher, error) {
	switch q := q.(type) {
	case *query.MatchAllQuery:
		return matchAll, nil
	case *query.MatchNoneQuery:
		return matchNone, nil
	case *query.ConjunctionQuery:
		ms, err := compileAll(q.Conjuncts)
		if err != nil {
			return nil, err
		}
		return allOf(ms), nil
	case *query.DisjunctionQuery:
		ms, err := compileAll(q.Disjuncts)
		if err != nil {
			return nil, err
		}
		return atLeast(ms, int(q.Min)), nil
	case *query.BooleanQuery:
		return compileBoolean(q)
	case *query.MatchQuery:
		return compileMatch(canonicalField(q.FieldVal), q.Match, q.Fuzziness, q.Operator == query.MatchQueryOperatorAnd), nil
	case *query.FuzzyQuery:
		return compileMatch(canonicalField(q.FieldVal), q.Term, q.Fuzziness, true), nil
	case *query.MatchPhraseQuery:
		return compilePhrase(canonicalField(q.FieldVal), q.MatchPhrase), nil
	case *query.TermQuery:
		f, term := canonicalField(q.FieldVal), q.Term
		switch f {
		case fieldMessage:
			return func(v *lineView) bool { return slices.Contains(v.tokens(), term) }, nil
		case fieldTime:
			return matchNone, nil
		}
		return func(v *lineView) bool {
			return v.anyValue(f, func(val string, _ FieldKind) bool { return val == term })
		}, nil
	case *query.PrefixQuery:
		f := canonicalField(q.FieldVal)
		return compileTermPredicate(f, func(s string) bool { return strings.HasPrefix(s, q.Prefix) },
			func(s string) bool { return strings.HasPrefix(s, lower(q.Prefix)) }), nil
	case *query.WildcardQuery:
		f := canonicalField(q.FieldVal)
		pattern := q.Wildcard
		if f == fieldMessage {
			pattern = lower(pattern)
		}
		re, err := regexp.Compile("^(?:" + wildcardRegexp(pattern) + ")$")
		if err != nil {
			return nil, fmt.Errorf("wildcard %q: %w", q.Wildcard, err)
		}
		return compileTermPredicate(f, re.MatchString, re.MatchString), nil
	case *query.RegexpQuery:
		f := canonicalField(q.FieldVal)
		if _, err := vregexp.New(q.Regexp); err != nil {
			return nil, fmt.Errorf("regexp /%s/: %w", q.Regexp, err)
		}
		re, err := regexp.Compile("^(?:" + q.Regexp + ")$")
		if err != nil {
			return nil, fmt.Errorf("regexp /%s/: %w", q.Regexp, err)
		}
		return compileTermPredicate(f, re.MatchString, re.MatchString), nil
	case *query.NumericRangeQuery:
		f := canonicalField(q.FieldVal)
		in := numericRange(q)
		if f == fieldMessage || f == fieldTime {
			return matchNone, nil
		}
		return func(v *lineView) bool {
			return v.anyValue(f, func(val string, kind FieldKind) bool {
				if kind != KindNumber {
					return false
				}
				x, err := strconv.ParseFloat(val, 64)
				return err == nil && in(x)
			})
		}, nil
	case *query.DateRangeStringQuery, *query.DateRangeQuery:
		return compileDateRange(q)
	default:
		return nil, fmt.Errorf("unsupported query clause %T", q)
	}
}

func compileBoolean(q *query.BooleanQuery) (matcher, error) {
	var must, should, mustNot []matcher
	for _, sub := range []query.Query{q.Must, q.Filter} {
		if sub != nil {
			m, err := compileMatcher(sub)
			if err != nil {
				return nil, err
			}
			must = append(must, m)
		}
	}
	if q.Should != nil {
		m, err := compileMatcher(q.Should)
		if err != nil {
			return nil, err
		}
		// Like bleve: next to required clauses, should clauses only score, unless
		// a minimum is set.
		if d, ok := q.Should.(*query.DisjunctionQuery); len(must) == 0 || ok && d.Min > 0 {
			should = append(should, m)
		}
	}
	if q.MustNot != nil {
		m, err := compileMatcher(q.MustNot)
		if err != nil {
			return nil, err
		}
		mustNot = append(mustNot, m)
	}
	return func(v *lineView) bool {
		for _, m := range must {
			if !m(v) {
				return false
			}
		}
		for _, m := range should {
			if !m(v) {
				return false
			}
		}
		for _, m := range mustNot {
			if m(v) {
				return false
			}
		}
		return true
	}, nil
}

// compileTermPredicate applies keyword to every value of a keyword field, or text to every
// message token.
func compileTermPredicate(f string, keyword, text func(string) bool) matcher {
	switch f {
	case fieldMessage:
		return func(v *lineView) bool { return v.anyToken(text) }
	case fieldTime:
		return matchNone
	}
	return func(v *lineView) bool {
		return v.anyValue(f, func(val string, _ FieldKind) bool { return keyword(val) })
	}
}

func compileMatch(f, text string, fuzziness int, and bool) matcher {
	switch f {
	case fieldMessage:
		want := tokens(text)
		if len(want) == 0 {
			return matchNone
		}
		has := func(v *lineView, w string) bool {
			if fuzziness == 0 {
				return slices.Contains(v.tokens(), w)
			}
			return v.anyToken(func(t string) bool { return levenshteinWithin(t, w, fuzziness) })
		}
		return func(v *lineView) bool {
			for _, w := range want {
				if has(v, w) != and {
					return !and
				}
			}
			return and
		}
	case fieldTime:
		return matchNone
	}
	want := normalizeKeyword(f, text)
	return func(v *lineView) bool {
		return v.anyValue(f, func(val string, _ FieldKind) bool {
			if fuzziness == 0 {
				return val == want
			}
			return levenshteinWithin(val, want, fuzziness)
		})
	}
}

func compilePhrase(f, text string) matcher {
	switch f {
	case fieldMessage:
		want := tokens(text)
		if len(want) == 0 {
			return matchNone
		}
		return func(v *lineView) bool {
			toks := v.tokens()
			for i := 0; i+len(want) <= len(toks); i++ {
				if slices.Equal(toks[i:i+len(want)], want) {
					return true
				}
			}
			return false
		}
	case fieldTime:
		return matchNone
	}
	return compileMatch(f, text, 0, true)
}

func numericRange(q *query.NumericRangeQuery) func(float64) bool {
	minIncl := q.InclusiveMin == nil || *q.InclusiveMin
	maxIncl := q.InclusiveMax != nil && *q.InclusiveMax
	return func(x float64) bool {
		if q.Min != nil && (x < *q.Min || x == *q.Min && !minIncl) {
			return false
		}
		if q.Max != nil && (x > *q.Max || x == *q.Max && !maxIncl) {
			return false
		}
		return true
	}
}

var dateLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"}

func parseDate(s string) (time.Time, error) {
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot parse %q as a date (use RFC 3339)", s)
}

// dateBounds returns the field and range of a date range query (bleve's query-string
// parser produces *query.DateRangeQuery; JSON queries *query.DateRangeStringQuery) in Unix
// nanoseconds, both inclusive.
func dateBounds(q query.Query) (field string, lo, hi int64, err error) {
	var start, end time.Time
	var inclStart, inclEnd *bool
	switch q := q.(type) {
	case *query.DateRangeQuery:
		field, start, end, inclStart, inclEnd = q.FieldVal, q.Start.Time, q.End.Time, q.InclusiveStart, q.InclusiveEnd
	case *query.DateRangeStringQuery:
		field, inclStart, inclEnd = q.FieldVal, q.InclusiveStart, q.InclusiveEnd
		if q.Start != "" {
			if start, err = parseDate(q.Start); err != nil {
				return "", 0, 0, err
			}
		}
		if q.End != "" {
			if end, err = parseDate(q.End); err != nil {
				return "", 0, 0, err
			}
		}
	default:
		return "", 0, 0, fmt.Errorf("not a date range: %T", q)
	}
	lo, hi = minInt64, maxInt64
	if !start.IsZero() {
		lo = start.UnixNano()
		if inclStart != nil && !*inclStart {
			lo++
		}
	}
	if !end.IsZero() {
		hi = end.UnixNano()
		if inclEnd == nil || !*inclEnd {
			hi--
		}
	}
	return canonicalField(field), lo, hi, nil
}

const (
	minInt64 = -1 << 63
	maxInt64 = 1<<63 - 1
)

func compileDateRange(q query.Query) (matcher, error) {
	f, lo, hi, err := dateBounds(q)
	if err != nil {
		return nil, err
	}
	in := func(t int64) bool { return t >= lo && t <= hi }
	switch f {
	case fieldTime:
		return func(v *lineView) bool { return in(v.r.Time.UnixNano()) }, nil
	case fieldMessage:
		return matchNone, nil
	}
	return func(v *lineView) bool {
		return v.anyValue(f, func(val string, _ FieldKind) bool {
			t, err := parseDate(val)
			return err == nil && in(t.UnixNano())
		})
	}, nil
}

// wildcardRegexp turns * and ? into a regexp, quoting everything else (as bleve does).
func wildcardRegexp(w string) string {
	var b strings.Builder
	for _, r := range w {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	return b.String()
}

// levenshteinWithin reports whether the edit distance between a and b is at most k.
func levenshteinWithin(a, b string, k int) bool {
	ra, rb := []rune(a), []rune(b)
	if d := len(ra) - len(rb); d > k || -d > k {
		return false
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin > k {
			return false
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)] <= k
}
