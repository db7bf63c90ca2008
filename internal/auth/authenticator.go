package auth

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	vmetrics "github.com/VictoriaMetrics/metrics"
)

// Options configures an Authenticator.
type Options struct {
	// SessionTTL is how long a UI login lasts.
	SessionTTL time.Duration
	// MaxSessions bounds the sessions held in memory; past it, the oldest is ended.
	MaxSessions int
}

// DefaultOptions returns the documented defaults.
func DefaultOptions() Options {
	return Options{SessionTTL: 12 * time.Hour, MaxSessions: 10000}
}

// Authenticator checks credentials for every listener. Safe for concurrent use; Set may be
// called at any time (a configuration reload).
type Authenticator struct {
	opts     Options
	creds    atomic.Pointer[credentials]
	sessions *sessions
	csrf     *http.CrossOriginProtection
	set      *vmetrics.Set
	log      *slog.Logger
}

// New returns an Authenticator with no credentials: it lets everything through until Set.
func New(opts Options, set *vmetrics.Set, log *slog.Logger) *Authenticator {
	if opts.MaxSessions <= 0 {
		opts.MaxSessions = DefaultOptions().MaxSessions
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = DefaultOptions().SessionTTL
	}
	a := &Authenticator{opts: opts, sessions: newSessions(opts.MaxSessions), csrf: http.NewCrossOriginProtection(), set: set, log: log}
	a.creds.Store(&credentials{})
	set.NewGauge("vigil_auth_sessions", func() float64 { return float64(a.sessions.len()) })
	return a
}

// Set replaces every credential. A list that does not validate (duplicate names or secrets,
// empty secrets, no scopes) changes nothing. Sessions of tokens whose secret or scopes changed,
// or that are gone, end.
func (a *Authenticator) Set(tokens []Token, users []BasicUser) error {
	next, err := newCredentials(tokens, users)
	if err != nil {
		return fmt.Errorf("auth credentials: %w", err)
	}
	prev := a.creds.Swap(next)
	if changed := prev.changedTokens(next); len(changed) > 0 {
		a.sessions.dropNames(changed)
	}
	return nil
}

// Enabled reports whether any credential is set. When not, every check passes.
func (a *Authenticator) Enabled() bool { return !a.creds.Load().empty() }

// Refusal reasons, the reason label of vigil_auth_refusals_total.
const (
	ReasonMissing   = "missing_credentials" // nothing presented
	ReasonBad       = "bad_credentials"     // a token or password that matches nothing
	ReasonSession   = "bad_session"         // an unknown or expired session cookie
	ReasonScope     = "wrong_scope"         // valid, but without the scope the request needs
	ReasonCrossSite = "cross_origin"        // a cookie-authenticated write from another origin
)

// refused counts and (at debug level) logs a refusal. It never sees a secret.
func (a *Authenticator) refused(listener, reason, target, name string) {
	a.set.GetOrCreateCounter(fmt.Sprintf(`vigil_auth_refusals_total{listener=%q,reason=%q}`, listener, reason)).Inc()
	attrs := []any{"listener", listener, "reason", reason, "target", target}
	if name != "" {
		attrs = append(attrs, "credential", name)
	}
	a.log.Debug("request refused", attrs...)
}

type identityKey struct{}

// FromContext returns the identity a request was authenticated as; false when auth is off or
// the endpoint is public.
func FromContext(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}

func withIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}
