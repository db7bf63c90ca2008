package logs

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/blevesearch/bleve/v2/search/query"
)

// A query is evaluated in three steps, each never narrower than the next:
//
//  1. blocks: which blocks of a partition may hold a match — a term is looked up in bleve
//     (terms found in 2+ lines of a block) and, for the other blocks, in their bloom filters
//     (terms found in one line);
//  2. lines: which lines of a candidate block may match, from its dictionary, and whether
//     that set is exact (terms, keyword values, and AND/OR/NOT of exact sets) or must be
//     verified (phrases, numeric and date ranges, a term the bloom filter holds);
//  3. verification: the matcher (query_match.go) checks the decoded lines of inexact sets.
//
// An exact set is counted without decoding anything, and only the lines a query returns
// are decoded.

// evalNode is one clause of a query compiled for steps 1 and 2.
type evalNode interface {
	// lines returns the lines of the block that may match and whether the set is exact.
	lines(h *blockHead) (lineBits, bool)
	// blocks returns the candidate blocks among those in sel.universe.
	blocks(sel *blockSelector) (lineBits, error)
}

// evalAll matches every line: exactly (match all) or as a superset to verify.
type evalAll struct{ exact bool }

func (n evalAll) lines(h *blockHead) (lineBits, bool)           { return allLines(h.lines()), n.exact }
func (evalAll) blocks(sel *blockSelector) (lineBits, error)     { return sel.all(), nil }
func (evalNone) lines(h *blockHead) (lineBits, bool)            { return newLineBits(h.lines()), true }
func (evalNone) blocks(sel *blockSelector) (lineBits, error)    { return sel.none(), nil }
func (n evalTerm) blocks(sel *blockSelector) (lineBits, error)  { return sel.term(n.field, n.term) }
func (n evalRange) blocks(sel *blockSelector) (lineBits, error) { return sel.bleve(n.block) }

type evalNone struct{}

// evalTerm is one term of a field (message tokens under "message").
type evalTerm struct{ field, term string }

func (n evalTerm) lines(h *blockHead) (lineBits, bool) {
	b := newLineBits(h.lines())
	f, fd := h.dict.field(n.field)
	if fd == nil {
		return b, true
	}
	if p := h.dict.lookup(f, n.term); p != nil {
		if orPostings(b, p, h.lines()) != nil {
			return allLines(h.lines()), false
		}
		return b, true
	}
	if fd.singletons > 0 && h.mayHold(termHash(n.field, n.term)) {
		return allLines(h.lines()), false
	}
	return b, true
}

// evalScan matches the terms of a field that pred accepts (prefix, wildcard, regexp, fuzzy,
// numeric range). Terms in the bloom filter cannot be listed, so a block holding any is
// verified whole; exact tells whether pred decides the line (a range must check the kind).
type evalScan struct {
	field string
	pred  func(string) bool
	exact bool
	// block selects the blocks whose values may be accepted; nil: every block. Only
	// numeric ranges have one: a block's range covers all its values, bloom ones included,
	// whereas bleve cannot list the terms of bloom filters for a prefix or a pattern.
	block query.Query
}

func (n evalScan) lines(h *blockHead) (lineBits, bool) {
	b := newLineBits(h.lines())
	f, fd := h.dict.field(n.field)
	if fd == nil {
		return b, true
	}
	if fd.singletons > 0 {
		return allLines(h.lines()), false
	}
	lo, hi := h.dict.fieldRange(f)
	for i := lo; i < hi; i++ {
		_, t, p := h.dict.entry(i)
		if n.pred(bytesString(t)) {
			p = h.dict.postings(p)
			if orPostings(b, p, h.lines()) != nil {
				return allLines(h.lines()), false
			}
		}
	}
	return b, n.exact
}

func (n evalScan) blocks(sel *blockSelector) (lineBits, error) {
	if n.block == nil {
		return sel.all(), nil
	}
	return sel.bleve(n.block)
}

// evalRange is a clause only the matcher decides, with a bleve query selecting blocks.
type evalRange struct{ block query.Query }

func (evalRange) lines(h *blockHead) (lineBits, bool) { return allLines(h.lines()), false }

type evalAnd struct{ kids []evalNode }

func (n evalAnd) lines(h *blockHead) (lineBits, bool) {
	b, exact := allLines(h.lines()), true
	for _, k := range n.kids {
		kb, ke := k.lines(h)
		b.and(kb)
		exact = exact && ke
		if b.empty() {
			return b, true
		}
	}
	return b, exact
}

func (n evalAnd) blocks(sel *blockSelector) (lineBits, error) {
	b := sel.all()
	for _, k := range n.kids {
		kb, err := k.blocks(sel)
		if err != nil {
			return nil, err
		}
		b.and(kb)
		if b.empty() {
			break
		}
	}
	return b, nil
}

// evalOr needs min of its kids (min <= 1: any); min > 1 is verified.
type evalOr struct {
	kids []evalNode
	min  int
}

func (n evalOr) lines(h *blockHead) (lineBits, bool) {
	b, exact := newLineBits(h.lines()), n.min <= 1
	for _, k := range n.kids {
		kb, ke := k.lines(h)
		b.or(kb)
		exact = exact && ke
	}
	return b, exact
}

func (n evalOr) blocks(sel *blockSelector) (lineBits, error) {
	b := sel.none()
	for _, k := range n.kids {
		kb, err := k.blocks(sel)
		if err != nil {
			return nil, err
		}
		b.or(kb)
	}
	return b, nil
}

// evalNot matches the lines its kid does not; an inexact kid makes every line a candidate.
type evalNot struct{ kid evalNode }

func (n evalNot) lines(h *blockHead) (lineBits, bool) {
	kb, ke := n.kid.lines(h)
	if !ke {
		return allLines(h.lines()), false
	}
	b := allLines(h.lines())
	b.andNot(kb)
	return b, true
}

func (evalNot) blocks(sel *blockSelector) (lineBits, error) { return sel.all(), nil }

// compileEval compiles a query tree (as parseQuery returns it) for steps 1 and 2. It
// mirrors compileMatcher clause by clause: every set it yields holds every line the matcher
// accepts, and an exact set holds no other.
func compileEval(q query.Query) evalNode {
	switch q := q.(type) {
	case *query.MatchAllQuery:
		return evalAll{exact: true}
	case *query.MatchNoneQuery:
		return evalNone{}
	case *query.ConjunctionQuery:
		kids := make([]evalNode, len(q.Conjuncts))
		for i, c := range q.Conjuncts {
			kids[i] = compileEval(c)
		}
		return evalAnd{kids}
	case *query.DisjunctionQuery:
		kids := make([]evalNode, len(q.Disjuncts))
		for i, c := range q.Disjuncts {
			kids[i] = compileEval(c)
		}
		return evalOr{kids, int(q.Min)}
	case *query.BooleanQuery:
		var kids []evalNode
		for _, sub := range []query.Query{q.Must, q.Filter} {
			if sub != nil {
				kids = append(kids, compileEval(sub))
			}
		}
		if q.Should != nil {
			if d, ok := q.Should.(*query.DisjunctionQuery); len(kids) == 0 || ok && d.Min > 0 {
				kids = append(kids, compileEval(q.Should))
			}
		}
		if q.MustNot != nil {
			kids = append(kids, evalNot{compileEval(q.MustNot)})
		}
		return evalAnd{kids}
	case *query.MatchQuery:
		return evalMatch(canonicalField(q.FieldVal), q.Match, q.Fuzziness, q.Operator == query.MatchQueryOperatorAnd, false)
	case *query.FuzzyQuery:
		return evalMatch(canonicalField(q.FieldVal), q.Term, q.Fuzziness, true, false)
	case *query.MatchPhraseQuery:
		return evalMatch(canonicalField(q.FieldVal), q.MatchPhrase, 0, true, true)
	case *query.TermQuery:
		f := canonicalField(q.FieldVal)
		if f == fieldTime {
			return evalNone{}
		}
		return evalTerm{f, q.Term}
	case *query.PrefixQuery:
		f, prefix := canonicalField(q.FieldVal), q.Prefix
		if f == fieldMessage {
			prefix = lower(prefix)
		}
		return scanOrNone(f, func(s string) bool { return strings.HasPrefix(s, prefix) })
	case *query.WildcardQuery:
		f, pattern := canonicalField(q.FieldVal), q.Wildcard
		if f == fieldMessage {
			pattern = lower(pattern)
		}
		re, err := regexp.Compile("^(?:" + wildcardRegexp(pattern) + ")$")
		if err != nil {
			return evalAll{}
		}
		return scanOrNone(f, re.MatchString)
	case *query.RegexpQuery:
		re, err := regexp.Compile("^(?:" + q.Regexp + ")$")
		if err != nil {
			return evalAll{}
		}
		return scanOrNone(canonicalField(q.FieldVal), re.MatchString)
	case *query.NumericRangeQuery:
		f := canonicalField(q.FieldVal)
		if f == fieldMessage || f == fieldTime {
			return evalNone{}
		}
		in := numericRange(q)
		pred := func(s string) bool {
			x, err := strconv.ParseFloat(s, 64)
			return err == nil && in(x)
		}
		return evalScan{field: f, pred: pred, exact: false, block: blockQuery(q)}
	case *query.DateRangeStringQuery, *query.DateRangeQuery:
		if b := blockQuery(q); b != nil {
			if _, none := b.(*query.MatchNoneQuery); none {
				return evalNone{}
			}
			return evalRange{b}
		}
		return evalAll{}
	}
	return evalAll{}
}

func scanOrNone(f string, pred func(string) bool) evalNode {
	if f == fieldTime {
		return evalNone{}
	}
	return evalScan{field: f, pred: pred, exact: true}
}

// evalMatch mirrors compileMatch and compilePhrase.
func evalMatch(f, text string, fuzziness int, and, phrase bool) evalNode {
	var terms []string
	switch f {
	case fieldTime:
		return evalNone{}
	case fieldMessage:
		terms = tokens(text)
	default:
		terms = []string{normalizeKeyword(f, text)}
	}
	if len(terms) == 0 {
		return evalNone{}
	}
	kids := make([]evalNode, len(terms))
	for i, t := range terms {
		if fuzziness > 0 {
			kids[i] = evalScan{field: f, pred: func(s string) bool { return levenshteinWithin(s, t, fuzziness) }, exact: true}
		} else {
			kids[i] = evalTerm{f, t}
		}
	}
	if len(kids) == 1 {
		return kids[0]
	}
	if phrase && f == fieldMessage {
		return evalPhrase{evalAnd{kids}}
	}
	if and {
		return evalAnd{kids}
	}
	return evalOr{kids: kids, min: 1}
}

// evalPhrase is a phrase of several tokens: the lines holding all of them, to verify.
type evalPhrase struct{ all evalAnd }

func (n evalPhrase) lines(h *blockHead) (lineBits, bool) {
	b, _ := n.all.lines(h)
	return b, b.empty()
}

func (n evalPhrase) blocks(sel *blockSelector) (lineBits, error) { return n.all.blocks(sel) }
