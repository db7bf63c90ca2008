package logs

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
)

// Message text is split into tokens on everything except letters, digits and the joiners
// - _ . : @, which identifiers, host:port pairs, ids, versions, e-mail addresses and hex keep
// ("payment-service:8080", "4bf92f3577b34da6", "v1.2.3"). Joiners at either end of a token
// are trimmed ("failed:" -> "failed"), and tokens are lower-cased. Slashes, quotes, '=' and
// brackets separate, so "/api/v1/users?id=7" gives "api", "v1", "users", "id", "7".
// The same function tokenizes the lines at index time and query text at search time.

func isJoiner(r rune) bool { return r == '-' || r == '_' || r == '.' || r == ':' || r == '@' }

func isTokenRune(r rune) bool {
	return r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') ||
		isJoiner(r) || r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

// asciiToken marks the ASCII bytes that belong to tokens: 1 letters and digits, 2 joiners.
var asciiToken = func() (t [utf8.RuneSelf]uint8) {
	for c := 0; c < utf8.RuneSelf; c++ {
		switch {
		case isJoiner(rune(c)):
			t[c] = 2
		case isTokenRune(rune(c)):
			t[c] = 1
		}
	}
	return t
}()

// tokenize calls fn with each token of s, lower-cased. ASCII is classified by table, the
// rest rune by rune: it runs once per line at flush and per candidate line at query time.
func tokenize(s string, fn func(tok string)) {
	i := 0
	for i < len(s) {
		// Skip separators.
		if c := s[i]; c < utf8.RuneSelf {
			if asciiToken[c] == 0 {
				i++
				continue
			}
		} else if r, n := utf8.DecodeRuneInString(s[i:]); !isTokenRune(r) {
			i += n
			continue
		}
		j := i
		for j < len(s) {
			if c := s[j]; c < utf8.RuneSelf {
				if asciiToken[c] == 0 {
					break
				}
				j++
				continue
			}
			r, n := utf8.DecodeRuneInString(s[j:])
			if !isTokenRune(r) {
				break
			}
			j += n
		}
		// Joiners are ASCII: trim them bytewise.
		a, b := i, j
		for a < b && asciiToken[s[a]&0x7f] == 2 && s[a] < utf8.RuneSelf {
			a++
		}
		for b > a && s[b-1] < utf8.RuneSelf && asciiToken[s[b-1]] == 2 {
			b--
		}
		if a < b {
			fn(lower(s[a:b]))
		}
		i = j
	}
}

// tokens returns tokenize's output as a slice.
func tokens(s string) []string {
	var out []string
	tokenize(s, func(t string) { out = append(out, t) })
	return out
}

// lower is strings.ToLower without an allocation for already lower-case ASCII.
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || c >= 'A' && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

// newlineAnalyzer splits a block document's pre-tokenized, newline-joined message terms.
// Bleve analyzes block documents with it; query text never goes through it.
type newlineAnalyzer struct{}

func (newlineAnalyzer) Analyze(b []byte) analysis.TokenStream {
	var ts analysis.TokenStream
	start, pos := 0, 1
	for i := 0; i <= len(b); i++ {
		if i < len(b) && b[i] != '\n' {
			continue
		}
		if i > start {
			ts = append(ts, &analysis.Token{Start: start, End: i, Term: b[start:i], Position: pos, Type: analysis.AlphaNumeric})
			pos++
		}
		start = i + 1
	}
	return ts
}
