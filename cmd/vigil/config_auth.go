package main

import (
	"fmt"
	"net"
	"path/filepath"
	"time"

	"github.com/prometheus/common/model"

	"github.com/vigilhq/vigil/internal/auth"
)

// AuthConfig is who may use Vigil's listeners. With no tokens and no basic users, anyone who
// reaches a listener may use all of it: then every listener must be on a loopback address
// (or mutual TLS be on), unless Vigil is started with --insecure-no-auth.
type AuthConfig struct {
	// Tokens are bearer tokens (Authorization: Bearer <token>, gRPC metadata authorization);
	// the UI's login takes them too.
	Tokens []TokenConfig `yaml:"tokens"`
	// BasicUsers are HTTP basic-auth users, for clients that speak only that (Prometheus
	// remote_write's basic_auth, log shippers).
	BasicUsers []BasicUserConfig `yaml:"basic_users"`
	// SessionTTL is how long a UI login lasts.
	SessionTTL model.Duration `yaml:"session_ttl"`
}

// TokenConfig is one bearer token: given inline or, better, read from a file (at start and on
// every reload).
type TokenConfig struct {
	Name      string   `yaml:"name"`
	Token     secret   `yaml:"token"`
	TokenFile string   `yaml:"token_file"`
	Scopes    []string `yaml:"scopes"`
}

// BasicUserConfig is one basic-auth user.
type BasicUserConfig struct {
	Username     string   `yaml:"username"`
	Password     secret   `yaml:"password"`
	PasswordFile string   `yaml:"password_file"`
	Scopes       []string `yaml:"scopes"`
}

// TLSConfig is the TLS identity of every listener (main HTTP, OTLP gRPC, OTLP HTTP); empty
// serves plain text. The files are re-read when they change.
type TLSConfig struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ClientCAFile turns on mutual TLS: clients must present a certificate from these CAs.
	ClientCAFile string `yaml:"client_ca_file"`
}

// secret is a configuration value that vigil --print-config does not print back.
type secret string

func (s secret) MarshalYAML() (any, error) {
	if s == "" {
		return "", nil
	}
	return "<secret>", nil
}

// DefaultAuthConfig holds the documented defaults: no credentials.
func DefaultAuthConfig() AuthConfig {
	return AuthConfig{SessionTTL: model.Duration(12 * time.Hour)}
}

// configured reports whether any credential is set.
func (c *AuthConfig) configured() bool { return len(c.Tokens)+len(c.BasicUsers) > 0 }

func (c *AuthConfig) validate(bad func(key, format string, args ...any)) {
	if time.Duration(c.SessionTTL) < time.Minute {
		bad("auth.session_ttl", "must be at least 1m, got %s", c.SessionTTL)
	}
	names := map[string]string{} // name -> key of its first use
	useName := func(key, name string) {
		if first, ok := names[name]; ok {
			bad(key, "%q is already the name of %s (token names and usernames must differ)", name, first)
			return
		}
		names[name] = key
	}
	for i, t := range c.Tokens {
		key := fmt.Sprintf("auth.tokens[%d]", i)
		if t.Name == "" {
			bad(key, "needs a name (it is what logs and metrics show instead of the token)")
		} else {
			useName(key+".name", t.Name)
		}
		if (t.Token == "") == (t.TokenFile == "") {
			bad(key, "needs exactly one of token and token_file")
		}
		validateScopes(bad, key, t.Scopes)
	}
	for i, u := range c.BasicUsers {
		key := fmt.Sprintf("auth.basic_users[%d]", i)
		if u.Username == "" {
			bad(key, "needs a username")
		} else {
			useName(key+".username", u.Username)
		}
		if (u.Password == "") == (u.PasswordFile == "") {
			bad(key, "needs exactly one of password and password_file")
		}
		validateScopes(bad, key, u.Scopes)
	}
}

// validateScopes checks the scopes of the credential at key (an empty list is reported on the
// credential itself, where a missing scopes key still has a line).
func validateScopes(bad func(key, format string, args ...any), key string, scopes []string) {
	if len(scopes) == 0 {
		bad(key, "scopes must list at least one of ingest, read, admin")
	}
	for _, s := range scopes {
		if _, err := auth.ParseScope(s); err != nil {
			bad(key+".scopes", "%v", err)
		}
	}
}

// parseScopes turns validated scope names into a set.
func parseScopes(names []string) auth.Scope {
	var s auth.Scope
	for _, n := range names {
		one, _ := auth.ParseScope(n)
		s |= one
	}
	return s
}

func (c *TLSConfig) enabled() bool { return c.CertFile != "" }

func (c *TLSConfig) validate(bad func(key, format string, args ...any)) {
	if (c.CertFile == "") != (c.KeyFile == "") {
		bad("tls", "needs both cert_file and key_file, or neither")
	}
	if c.ClientCAFile != "" && c.CertFile == "" {
		bad("tls.client_ca_file", "needs cert_file and key_file: mutual TLS is TLS first")
	}
}

// resolvePaths makes the file paths relative to the config file's directory.
func (c *AuthConfig) resolvePaths(dir string) {
	for i := range c.Tokens {
		c.Tokens[i].TokenFile = resolvePath(dir, c.Tokens[i].TokenFile)
	}
	for i := range c.BasicUsers {
		c.BasicUsers[i].PasswordFile = resolvePath(dir, c.BasicUsers[i].PasswordFile)
	}
}

func (c *TLSConfig) resolvePaths(dir string) {
	c.CertFile = resolvePath(dir, c.CertFile)
	c.KeyFile = resolvePath(dir, c.KeyFile)
	c.ClientCAFile = resolvePath(dir, c.ClientCAFile)
}

func resolvePath(dir, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// checkExposure refuses listeners that anyone on the network could reach while nothing checks
// who they are: the defaults are loopback, and opening up must come with credentials (or be
// asked for explicitly).
func (c *Config) checkExposure(insecureNoAuth bool) []error {
	if insecureNoAuth || c.Auth.configured() || c.TLS.ClientCAFile != "" {
		return nil
	}
	var errs []error
	for _, l := range []struct{ key, addr string }{
		{"http_listen", c.HTTPListen}, {"otlp_grpc_listen", c.OTLPGRPCListen}, {"otlp_http_listen", c.OTLPHTTPListen},
	} {
		if !isLoopback(l.addr) {
			errs = append(errs, &fieldError{Key: l.key, Msg: fmt.Sprintf(
				"%q is not a loopback address and no authentication is configured, so anyone who reaches it could read and write everything: "+
					"add auth.tokens (see the README's Security section), or start with --insecure-no-auth to allow it", l.addr)})
		}
	}
	return errs
}

// isLoopback reports whether addr binds only loopback interfaces. A host name other than
// localhost is taken as reachable: it may resolve to anything.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false // Validate reports it
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
