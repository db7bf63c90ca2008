package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Token is a bearer token. Secret is the token itself, already read from wherever it is kept.
type Token struct {
	Name   string
	Secret string
	Scopes Scope
}

// BasicUser is an HTTP basic-auth user, for clients that only speak basic auth (Prometheus's
// remote_write basic_auth, many log shippers). Its identity's name is the username.
type BasicUser struct {
	Username string
	Password string
	Scopes   Scope
}

// Identity is who a request was authenticated as.
type Identity struct {
	Name   string // the token's name or the basic-auth username; never a secret
	Scopes Scope
	Via    string // "bearer", "basic" or "session"
}

type digest [sha256.Size]byte

type tokenEntry struct {
	name   string
	secret digest
	scopes Scope
}

type userEntry struct {
	user, pass digest
	name       string
	scopes     Scope
}

// credentials is one immutable generation of what Set installed.
type credentials struct {
	tokens []tokenEntry
	users  []userEntry
}

func (c *credentials) empty() bool { return c == nil || len(c.tokens)+len(c.users) == 0 }

func newCredentials(tokens []Token, users []BasicUser) (*credentials, error) {
	c := &credentials{}
	var errs []error
	names := map[string]bool{}
	secrets := map[digest]string{}
	for i, t := range tokens {
		switch {
		case t.Name == "":
			errs = append(errs, fmt.Errorf("token %d has no name", i))
		case names[t.Name]:
			errs = append(errs, fmt.Errorf("token name %q is used twice", t.Name))
		case t.Secret == "":
			errs = append(errs, fmt.Errorf("token %q is empty", t.Name))
		case t.Scopes == 0:
			errs = append(errs, fmt.Errorf("token %q has no scopes", t.Name))
		}
		d := sha256.Sum256([]byte(t.Secret))
		if other, dup := secrets[d]; dup && t.Secret != "" {
			errs = append(errs, fmt.Errorf("tokens %q and %q have the same secret", other, t.Name))
		}
		secrets[d] = t.Name
		names[t.Name] = true
		c.tokens = append(c.tokens, tokenEntry{name: t.Name, secret: d, scopes: t.Scopes})
	}
	for i, u := range users {
		switch {
		case u.Username == "":
			errs = append(errs, fmt.Errorf("basic-auth user %d has no username", i))
		case names[u.Username]:
			errs = append(errs, fmt.Errorf("name %q is used twice (token names and usernames share one namespace)", u.Username))
		case u.Password == "":
			errs = append(errs, fmt.Errorf("basic-auth user %q has an empty password", u.Username))
		case u.Scopes == 0:
			errs = append(errs, fmt.Errorf("basic-auth user %q has no scopes", u.Username))
		}
		names[u.Username] = true
		c.users = append(c.users, userEntry{
			user: sha256.Sum256([]byte(u.Username)), pass: sha256.Sum256([]byte(u.Password)),
			name: u.Username, scopes: u.Scopes,
		})
	}
	return c, errors.Join(errs...)
}

// token finds the token whose secret is s. Every entry is compared, in constant time, so the
// time taken does not tell how close a guess came or which entry matched.
func (c *credentials) token(s string) (Identity, bool) {
	d := sha256.Sum256([]byte(s))
	found := -1
	for i := range c.tokens {
		if subtle.ConstantTimeCompare(d[:], c.tokens[i].secret[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return Identity{}, false
	}
	return Identity{Name: c.tokens[found].name, Scopes: c.tokens[found].scopes, Via: "bearer"}, true
}

func (c *credentials) basic(user, pass string) (Identity, bool) {
	du, dp := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(pass))
	found := -1
	for i := range c.users {
		if subtle.ConstantTimeCompare(du[:], c.users[i].user[:])&subtle.ConstantTimeCompare(dp[:], c.users[i].pass[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return Identity{}, false
	}
	return Identity{Name: c.users[found].name, Scopes: c.users[found].scopes, Via: "basic"}, true
}

// authorization checks an Authorization header value ("Bearer x" or "Basic base64(u:p)").
func (c *credentials) authorization(h string) (Identity, bool) {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	rest = strings.TrimSpace(rest)
	switch strings.ToLower(scheme) {
	case "bearer":
		return c.token(rest)
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return Identity{}, false
		}
		user, pass, ok := strings.Cut(string(raw), ":")
		if !ok {
			return Identity{}, false
		}
		return c.basic(user, pass)
	}
	return Identity{}, false
}

// changedTokens names the tokens of c whose secret or scopes differ in next, or that next lacks.
func (c *credentials) changedTokens(next *credentials) map[string]bool {
	if c == nil {
		return nil
	}
	keep := map[string]tokenEntry{}
	for _, t := range next.tokens {
		keep[t.name] = t
	}
	changed := map[string]bool{}
	for _, t := range c.tokens {
		if n, ok := keep[t.name]; !ok || n != t {
			changed[t.name] = true
		}
	}
	return changed
}
