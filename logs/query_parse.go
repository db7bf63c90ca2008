package logs

import (
	"fmt"
	"strings"

	"github.com/blevesearch/bleve/v2/search/query"
)

// parseQuery parses Vigil's log query language into a bleve query tree.
//
// Each clause is bleve query-string syntax and is parsed by bleve: term, field:term,
// "phrase", field:"phrase", wildcards (servi*, ?), /regexp/, term~fuzziness, numeric
// ranges (status:>=500) and date ranges (time:>"2026-01-02T15:04:05Z"). Between clauses,
// Vigil adds what bleve's query-string parser lacks and log search needs: AND, OR, NOT
// (upper case) and parentheses, with NOT binding tighter than AND, AND tighter than OR.
// Clauses written next to each other are ANDed (bleve would OR them, and would make plain
// clauses optional next to +clauses — surprising for a filter); a leading + requires a clause
// (the same as plain) and a leading - negates it. An empty query or * matches every line.
// Errors wrap ErrInvalidQuery and carry bleve's or this parser's message.
func parseQuery(q string) (query.Query, error) {
	q = strings.TrimSpace(q)
	if q == "" || q == "*" {
		return query.NewMatchAllQuery(), nil
	}
	toks, err := lexQuery(q)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidQuery, err)
	}
	p := &queryParser{toks: toks}
	out, err := p.or()
	if err == nil && p.pos < len(p.toks) {
		err = fmt.Errorf("unexpected %q at offset %d", p.toks[p.pos].text, p.toks[p.pos].off)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidQuery, err)
	}
	// Compile once to surface regexp and date errors as invalid queries.
	if _, err := compileMatcher(out); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidQuery, err)
	}
	return out, nil
}

type qtokKind uint8

const (
	qClause qtokKind = iota
	qAnd
	qOr
	qNot
	qLParen
	qRParen
)

type qtok struct {
	kind qtokKind
	text string
	off  int
}

// lexQuery splits q into clauses, operators and parentheses. A clause runs to the next
// space or parenthesis outside quotes and /regexps/; backslash escapes the next byte.
func lexQuery(q string) ([]qtok, error) {
	var out []qtok
	i := 0
	for i < len(q) {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case c == '(':
			out = append(out, qtok{qLParen, "(", i})
			i++
			continue
		case c == ')':
			out = append(out, qtok{qRParen, ")", i})
			i++
			continue
		}
		start := i
		word, err := lexClause(q, start, true)
		if err != nil {
			return nil, err
		}
		i = start + len(word)
		kind := qClause
		switch word {
		case "AND", "&&":
			kind = qAnd
		case "OR", "||":
			kind = qOr
		case "NOT", "!":
			kind = qNot
		}
		out = append(out, qtok{kind, word, start})
	}
	return out, nil
}

// lexClause returns the clause starting at q[start]. With regexps on, a '/' opening a clause
// or a field value starts a /regexp/ that may hold spaces and parentheses; a value such as
// /health with no closing slash is lexed again as a plain word.
func lexClause(q string, start int, regexps bool) (string, error) {
	i := start
	inQuote, inRegexp := false, false
scan:
	for i < len(q) {
		c := q[i]
		switch {
		case c == '\\':
			i += 2
			continue
		case inQuote:
			inQuote = c != '"'
		case inRegexp:
			inRegexp = c != '/'
		case c == '"':
			inQuote = true
		case regexps && c == '/' && (i == start || strings.ContainsRune("+-:", rune(q[i-1]))):
			inRegexp = true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '(' || c == ')':
			break scan
		}
		i++
	}
	if i > len(q) {
		i = len(q)
	}
	if inRegexp {
		return lexClause(q, start, false)
	}
	if inQuote {
		return "", fmt.Errorf("unterminated quote at offset %d", start)
	}
	return q[start:i], nil
}

type queryParser struct {
	toks []qtok
	pos  int
}

func (p *queryParser) peek() (qtok, bool) {
	if p.pos < len(p.toks) {
		return p.toks[p.pos], true
	}
	return qtok{}, false
}

func (p *queryParser) or() (query.Query, error) {
	var parts []query.Query
	for {
		q, err := p.and()
		if err != nil {
			return nil, err
		}
		parts = append(parts, q)
		if t, ok := p.peek(); !ok || t.kind != qOr {
			break
		}
		p.pos++
	}
	if len(parts) == 1 {
		return parts[0], nil
	}
	return query.NewDisjunctionQuery(parts), nil
}

func (p *queryParser) and() (query.Query, error) {
	var parts []query.Query
	for {
		q, err := p.not()
		if err != nil {
			return nil, err
		}
		parts = append(parts, q)
		t, ok := p.peek()
		if !ok || t.kind == qOr || t.kind == qRParen {
			break
		}
		if t.kind == qAnd {
			p.pos++
		}
	}
	if len(parts) == 1 {
		return parts[0], nil
	}
	return query.NewConjunctionQuery(parts), nil
}

func (p *queryParser) not() (query.Query, error) {
	t, ok := p.peek()
	if !ok {
		return nil, fmt.Errorf("query ends where a clause was expected")
	}
	switch t.kind {
	case qNot:
		p.pos++
		q, err := p.not()
		if err != nil {
			return nil, err
		}
		return negate(q), nil
	case qLParen:
		p.pos++
		q, err := p.or()
		if err != nil {
			return nil, err
		}
		if next, ok := p.peek(); !ok || next.kind != qRParen {
			return nil, fmt.Errorf("missing ) for ( at offset %d", t.off)
		}
		p.pos++
		return q, nil
	case qClause:
		p.pos++
		return parseClause(t)
	default:
		return nil, fmt.Errorf("unexpected %q at offset %d", t.text, t.off)
	}
}

func negate(q query.Query) query.Query { return query.NewBooleanQuery(nil, nil, []query.Query{q}) }

// parseClause hands one clause to bleve's query-string parser.
func parseClause(t qtok) (query.Query, error) {
	text, neg := t.text, false
	switch {
	case strings.HasPrefix(text, "-") && len(text) > 1:
		text, neg = text[1:], true
	case strings.HasPrefix(text, "+") && len(text) > 1:
		text = text[1:]
	}
	if text == "*" {
		return maybeNegate(query.NewMatchAllQuery(), neg), nil
	}
	parsed, err := query.NewQueryStringQuery(text).Parse()
	if err != nil {
		return nil, fmt.Errorf("clause %q at offset %d: %v", t.text, t.off, err)
	}
	return maybeNegate(unwrapClause(parsed), neg), nil
}

func maybeNegate(q query.Query, neg bool) query.Query {
	if neg {
		return negate(q)
	}
	return q
}

// unwrapClause takes the single clause out of the boolean query bleve wraps it in.
func unwrapClause(q query.Query) query.Query {
	b, ok := q.(*query.BooleanQuery)
	if !ok {
		return q
	}
	single := func(q query.Query) query.Query {
		switch q := q.(type) {
		case *query.DisjunctionQuery:
			if len(q.Disjuncts) == 1 {
				return q.Disjuncts[0]
			}
		case *query.ConjunctionQuery:
			if len(q.Conjuncts) == 1 {
				return q.Conjuncts[0]
			}
		}
		return nil
	}
	switch {
	case b.Must == nil && b.MustNot == nil && b.Should != nil:
		if s := single(b.Should); s != nil {
			return s
		}
	case b.Should == nil && b.MustNot == nil && b.Must != nil:
		if s := single(b.Must); s != nil {
			return s
		}
	}
	return q
}
