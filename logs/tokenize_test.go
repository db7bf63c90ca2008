package logs

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// referenceTokens is the tokenizer as first written, rune by rune: tokenize's byte-table
// fast path must agree with it on any input.
func referenceTokens(s string) []string {
	var out []string
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !isTokenRune(r) {
			i += n
			continue
		}
		j := i
		for j < len(s) {
			r, n := utf8.DecodeRuneInString(s[j:])
			if !isTokenRune(r) {
				break
			}
			j += n
		}
		if tok := strings.TrimFunc(s[i:j], isJoiner); tok != "" {
			out = append(out, lower(tok))
		}
		i = j
	}
	return out
}

func TestTokenizeAgreesWithReference(t *testing.T) {
	f := func(s string) {
		t.Helper()
		if got, want := tokens(s), referenceTokens(s); !slices.Equal(got, want) {
			t.Errorf("tokens(%q) = %q, want %q", s, got, want)
		}
	}
	f("")
	f("connection refused to payment-service:8080")
	f("-._:@")
	f("café ☕ naïve-Ünïcode:ÄB user@example.com v1.2.3 --x-- ::a::")
	f("\xff\xfe bad utf8 \xc3")
	f("/api/v1/users?id=7&x=\"q\"")
	alphabet := []string{"a", "Z", "9", "-", "_", ".", ":", "@", " ", "/", "é", "☕", "\xff", "Ä", "\t"}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		var b strings.Builder
		for range r.IntN(20) {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		f(b.String())
	}
}
