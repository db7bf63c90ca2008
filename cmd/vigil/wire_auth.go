package main

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	commoncfg "github.com/prometheus/common/config"
	promconfig "github.com/prometheus/prometheus/config"

	"github.com/vigilhq/vigil/ingest"
	"github.com/vigilhq/vigil/internal/auth"
	"github.com/vigilhq/vigil/internal/httpserver"
	"github.com/vigilhq/vigil/internal/tlsreload"
)

// authWiring is who may use the listeners (internal/auth, from the auth section) and their
// TLS identity (internal/tlsreload, from the tls section), applied to the main HTTP server and
// both OTLP listeners.
type authWiring struct {
	a    *app
	auth *auth.Authenticator
	tls  *tlsreload.Reloader // nil: plain text

	// Vigil scrapes its own /metrics through the main listener, so it needs a way in: a
	// random read-only token that exists only in this process, and under mutual TLS a client
	// certificate from a CA that exists only in this process.
	selfToken string
	selfCert  *selfClientCert
}

// selfScrapeName is the name of the self-scrape's token in logs and metrics.
const selfScrapeName = "vigil-self-scrape"

// loginPath is the UI's login page; the UI sends a user there on a 401.
const loginPath = "/login"

func newAuthWiring(a *app, cfg Config) (*authWiring, error) {
	set := a.reg.NewSet()
	opts := auth.DefaultOptions()
	opts.SessionTTL = time.Duration(cfg.Auth.SessionTTL)
	w := &authWiring{a: a, auth: auth.New(opts, set, a.log.With("component", "auth")), selfToken: randomToken()}
	if err := w.setCredentials(cfg); err != nil {
		return nil, err
	}
	if !cfg.TLS.enabled() {
		return w, nil
	}
	topts := tlsreload.DefaultOptions()
	if cfg.TLS.ClientCAFile != "" {
		c, err := newSelfClientCert()
		if err != nil {
			return nil, err
		}
		w.selfCert = c
		topts.ExtraClientCAs = []*x509.Certificate{c.ca}
	}
	r, err := tlsreload.New(tlsreload.Files{
		CertFile: cfg.TLS.CertFile, KeyFile: cfg.TLS.KeyFile, ClientCAFile: cfg.TLS.ClientCAFile,
	}, topts, set, a.log.With("component", "tls"))
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	w.tls = r
	return w, nil
}

// setCredentials reads the token and password files and installs every credential; on error
// the previous ones stay.
func (w *authWiring) setCredentials(cfg Config) error {
	var tokens []auth.Token
	var users []auth.BasicUser
	for i, t := range cfg.Auth.Tokens {
		s, err := readSecret(string(t.Token), t.TokenFile)
		if err != nil {
			return fmt.Errorf("auth.tokens[%d] (%s): %w", i, t.Name, err)
		}
		tokens = append(tokens, auth.Token{Name: t.Name, Secret: s, Scopes: parseScopes(t.Scopes)})
	}
	for i, u := range cfg.Auth.BasicUsers {
		s, err := readSecret(string(u.Password), u.PasswordFile)
		if err != nil {
			return fmt.Errorf("auth.basic_users[%d] (%s): %w", i, u.Username, err)
		}
		users = append(users, auth.BasicUser{Username: u.Username, Password: s, Scopes: parseScopes(u.Scopes)})
	}
	if len(tokens)+len(users) > 0 {
		tokens = append(tokens, auth.Token{Name: selfScrapeName, Secret: w.selfToken, Scopes: auth.Read})
	}
	return w.auth.Set(tokens, users)
}

// readSecret is inline, else the file's content without surrounding white space (a trailing
// newline from `echo >`), as Prometheus reads its credentials_file.
func readSecret(inline, file string) (string, error) {
	if file == "" {
		return inline, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("read secret file: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("secret file %s is empty", file)
	}
	return s, nil
}

// reload re-reads the secret files and the TLS files. Session length and TLS file names are
// read only at start.
func (w *authWiring) reload(_ context.Context, cfg Config) error {
	if err := w.setCredentials(cfg); err != nil {
		return err
	}
	if w.tls != nil {
		if err := w.tls.Reload(); err != nil {
			return fmt.Errorf("tls: %w", err)
		}
	}
	return nil
}

// middleware checks every request of the main listener against mainRule.
func (w *authWiring) middleware() func(http.Handler) http.Handler {
	return w.auth.Middleware("main", mainRule, loginPath)
}

// routes adds the UI's login, logout and whoami to the main router.
func (w *authWiring) routes(r chi.Router) {
	r.Handle(loginPath, w.auth.LoginHandler("main"))
	r.Handle("/logout", w.auth.LogoutHandler("main", loginPath))
	// Who the UI is logged in as (read scope, like the rest of /api/v1).
	r.Method("GET", "/api/v1/whoami", w.auth.WhoAmIHandler())
}

// serveTLS puts the main listener under TLS when configured.
func (w *authWiring) serveTLS(s *httpserver.Server) {
	if w.tls != nil {
		s.UseTLS(w.tls.ServerConfig())
	}
}

// scheme is the main listener's URL scheme.
func (w *authWiring) scheme() string {
	if w.tls != nil {
		return "https"
	}
	return "http"
}

// otlpOptions puts both OTLP listeners under TLS and requires the ingest scope of every call.
func (w *authWiring) otlpOptions(o *ingest.OTLPOptions) {
	o.GRPCServerOptions = append(o.GRPCServerOptions, w.auth.GRPCServerOptions("otlp_grpc", auth.Ingest)...)
	o.HTTPMiddleware = append(o.HTTPMiddleware, w.auth.Middleware("otlp_http", func(*http.Request) (auth.Scope, bool) {
		return auth.Ingest, false
	}, ""))
	if w.tls != nil {
		o.TLS = w.tls.ServerConfig()
	}
}

// selfScrape gives the self-scrape job its way in: the in-process token (ignored while no
// auth is configured), and under TLS https with the in-process client certificate. The server
// certificate is not verified: the target is this process on a loopback address, and its
// certificate is usually issued for a public name.
func (w *authWiring) selfScrape(sc *promconfig.ScrapeConfig) {
	sc.HTTPClientConfig.Authorization = &commoncfg.Authorization{Type: "Bearer", Credentials: commoncfg.Secret(w.selfToken)}
	if w.tls == nil {
		return
	}
	sc.Scheme = "https"
	sc.HTTPClientConfig.TLSConfig = commoncfg.TLSConfig{InsecureSkipVerify: true}
	if w.selfCert != nil {
		sc.HTTPClientConfig.TLSConfig.Cert = string(w.selfCert.certPEM)
		sc.HTTPClientConfig.TLSConfig.Key = commoncfg.Secret(w.selfCert.keyPEM)
	}
}

func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (it crashes the program instead)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// mainRule is the scope each request of the main listener needs. Paths are matched as chi
// routes them (the raw path when it has escapes), so a rule and a route cannot disagree about
// which endpoint a request is for. Whatever changes state and is not listed needs admin.
func mainRule(r *http.Request) (auth.Scope, bool) {
	p := r.URL.Path
	if r.URL.RawPath != "" {
		p = r.URL.RawPath
	}
	switch p {
	case "/healthz", "/readyz", "/-/healthy", "/-/ready", loginPath, "/logout":
		return 0, true
	}
	switch {
	case strings.HasPrefix(p, "/-/"), p == "/debug", strings.HasPrefix(p, "/debug/"), strings.HasPrefix(p, "/api/v1/admin/"):
		return auth.Admin, false
	case p == "/es", strings.HasPrefix(p, "/es/"):
		// Elasticsearch shippers check the version (GET /es/) with their write credentials.
		return auth.Ingest, false
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return auth.Read, false
	}
	switch p {
	case "/api/v1/write", "/api/v1/import/prometheus", "/api/v1/otlp/v1/metrics",
		"/api/v2/alerts", // Prometheus servers sending alerts
		"/api/v1/logs", "/loki/api/v1/push", "/api/v2/spans":
		return auth.Ingest, false
	case "/api/v1/query", "/api/v1/query_range", "/api/v1/query_exemplars", "/api/v1/series",
		"/api/v1/labels", "/api/v1/format_query", "/api/v1/parse_query", "/api/v1/read":
		return auth.Read, false // Grafana POSTs long queries
	}
	// Silences, acknowledgements, dashboards, and any write added later.
	return auth.Admin, false
}
