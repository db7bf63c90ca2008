package logs

import (
	"github.com/blevesearch/bleve/v2/search/query"
)

// blockQuery derives the bleve query run against block documents from a line query. A block
// document holds the union of its lines' terms and values, so the derived query must accept
// every block holding a matching line (it may accept more; the matcher drops those):
// negations and date ranges on other fields become match-all, phrases become the
// conjunction of their terms, time ranges test the block's first/last line times.
// A nil result means "every block".
func blockQuery(q query.Query) query.Query {
	switch q := q.(type) {
	case *query.MatchAllQuery:
		return nil
	case *query.MatchNoneQuery:
		return q
	case *query.ConjunctionQuery:
		var parts []query.Query
		for _, c := range q.Conjuncts {
			b := blockQuery(c)
			if b == nil {
				continue
			}
			if _, none := b.(*query.MatchNoneQuery); none {
				return b
			}
			parts = append(parts, b)
		}
		return conj(parts)
	case *query.DisjunctionQuery:
		if q.Min > 1 {
			return nil
		}
		var parts []query.Query
		for _, d := range q.Disjuncts {
			b := blockQuery(d)
			if b == nil {
				return nil
			}
			if _, none := b.(*query.MatchNoneQuery); none {
				continue
			}
			parts = append(parts, b)
		}
		switch len(parts) {
		case 0:
			return query.NewMatchNoneQuery()
		case 1:
			return parts[0]
		}
		return query.NewDisjunctionQuery(parts)
	case *query.BooleanQuery:
		var parts []query.Query
		for _, sub := range []query.Query{q.Must, q.Filter} {
			if sub != nil {
				parts = append(parts, sub)
			}
		}
		if q.Should != nil {
			if d, ok := q.Should.(*query.DisjunctionQuery); len(parts) == 0 || ok && d.Min > 0 {
				parts = append(parts, q.Should)
			}
		}
		return blockQuery(query.NewConjunctionQuery(parts))
	case *query.MatchQuery:
		return blockMatch(canonicalField(q.FieldVal), q.Match, q.Fuzziness, q.Operator == query.MatchQueryOperatorAnd)
	case *query.FuzzyQuery:
		return blockMatch(canonicalField(q.FieldVal), q.Term, q.Fuzziness, true)
	case *query.MatchPhraseQuery:
		return blockMatch(canonicalField(q.FieldVal), q.MatchPhrase, 0, true)
	case *query.TermQuery:
		f := canonicalField(q.FieldVal)
		if f == fieldTime {
			return query.NewMatchNoneQuery()
		}
		return term(f, q.Term)
	case *query.PrefixQuery:
		f := canonicalField(q.FieldVal)
		p := q.Prefix
		if f == fieldMessage {
			p = lower(p)
		}
		b := query.NewPrefixQuery(p)
		b.SetField(f)
		return b
	case *query.WildcardQuery:
		f := canonicalField(q.FieldVal)
		w := q.Wildcard
		if f == fieldMessage {
			w = lower(w)
		}
		b := query.NewWildcardQuery(w)
		b.SetField(f)
		return b
	case *query.RegexpQuery:
		b := query.NewRegexpQuery(q.Regexp)
		b.SetField(canonicalField(q.FieldVal))
		return b
	case *query.NumericRangeQuery:
		f := canonicalField(q.FieldVal)
		if f == fieldMessage || f == fieldTime {
			return query.NewMatchNoneQuery()
		}
		// Blocks index each numeric field's [min, max] (see blockDocument): keep those whose
		// range meets the query's. Bounds are taken inclusively; the line check is exact.
		incl := true
		var parts []query.Query
		if q.Min != nil {
			b := query.NewNumericRangeInclusiveQuery(q.Min, nil, &incl, nil)
			b.SetField(numMaxField(f))
			parts = append(parts, b)
		}
		if q.Max != nil {
			b := query.NewNumericRangeInclusiveQuery(nil, q.Max, nil, &incl)
			b.SetField(numMinField(f))
			parts = append(parts, b)
		}
		if len(parts) == 0 {
			return nil
		}
		return conj(parts)
	case *query.DateRangeStringQuery, *query.DateRangeQuery:
		f, lo, hi, err := dateBounds(q)
		if err != nil || f != fieldTime {
			return nil
		}
		return blockTimeRange(lo, hi)
	}
	return nil
}

func conj(parts []query.Query) query.Query {
	switch len(parts) {
	case 0:
		return nil
	case 1:
		return parts[0]
	}
	return query.NewConjunctionQuery(parts)
}

func term(field, t string) query.Query {
	q := query.NewTermQuery(t)
	q.SetField(field)
	return q
}

func blockMatch(f, text string, fuzziness int, and bool) query.Query {
	var terms []string
	switch f {
	case fieldMessage:
		terms = tokens(text)
	case fieldTime:
		return query.NewMatchNoneQuery()
	default:
		terms = []string{normalizeKeyword(f, text)}
	}
	if len(terms) == 0 {
		return query.NewMatchNoneQuery()
	}
	parts := make([]query.Query, len(terms))
	for i, t := range terms {
		if fuzziness > 0 {
			fq := query.NewFuzzyQuery(t)
			fq.SetFuzziness(fuzziness)
			fq.SetField(f)
			parts[i] = fq
		} else {
			parts[i] = term(f, t)
		}
	}
	if len(parts) == 1 {
		return parts[0]
	}
	if and {
		return query.NewConjunctionQuery(parts)
	}
	return query.NewDisjunctionQuery(parts)
}

// blockTimeRange accepts blocks whose [first, last] line times meet [lo, hi] (Unix ns,
// inclusive). Block times are indexed in milliseconds, so the bounds are widened to whole
// milliseconds.
func blockTimeRange(lo, hi int64) query.Query {
	var parts []query.Query
	if lo != minInt64 {
		v := float64(floorDiv(lo, 1e6))
		incl := true
		q := query.NewNumericRangeInclusiveQuery(&v, nil, &incl, nil)
		q.SetField(fieldMax)
		parts = append(parts, q)
	}
	if hi != maxInt64 {
		v := float64(floorDiv(hi, 1e6))
		incl := true
		q := query.NewNumericRangeInclusiveQuery(nil, &v, nil, &incl)
		q.SetField(fieldMin)
		parts = append(parts, q)
	}
	return conj(parts)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
