package auth

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// SessionCookie is the name of the UI's session cookie.
const SessionCookie = "vigil_session"

// Rule says what a request needs: a scope, or nothing at all (public: health checks, the
// login page). It sees the request before routing; whatever it does not recognise should need
// the strictest scope that fits.
type Rule func(r *http.Request) (need Scope, public bool)

// Middleware checks every request of a listener against rule. listener labels the refusals.
// loginPath, when set, is where a browser navigating to a page without a session is sent
// (with ?next=); API clients get 401 either way.
func (a *Authenticator) Middleware(listener string, rule Rule, loginPath string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			need, public := rule(r)
			creds := a.creds.Load()
			if public || creds.empty() {
				next.ServeHTTP(w, r)
				return
			}
			id, reason := a.identify(creds, r)
			if reason != "" {
				a.refused(listener, reason, r.Method+" "+r.URL.Path, "")
				if reason == ReasonSession {
					clearSessionCookie(w, r)
				}
				if loginPath != "" && reason != ReasonBad && isNavigation(r) {
					http.Redirect(w, r, loginPath+"?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
					return
				}
				challenge := `Bearer realm="vigil"`
				if reason != ReasonMissing {
					challenge += `, error="invalid_token"`
				}
				w.Header().Set("WWW-Authenticate", challenge)
				http.Error(w, unauthorizedText(reason), http.StatusUnauthorized)
				return
			}
			if id.Via == "session" {
				// Only a cookie rides along on a request another site makes the browser
				// send; a header credential was put there by its holder.
				if err := a.csrf.Check(r); err != nil {
					a.refused(listener, ReasonCrossSite, r.Method+" "+r.URL.Path, id.Name)
					http.Error(w, "cross-origin request refused: "+err.Error(), http.StatusForbidden)
					return
				}
			}
			if !id.Scopes.Has(need) {
				a.refused(listener, ReasonScope, r.Method+" "+r.URL.Path, id.Name)
				http.Error(w, fmt.Sprintf("%q may not do this: it needs scope %s and has %s", id.Name, need, id.Scopes), http.StatusForbidden)
				return
			}
			next.ServeHTTP(w, r.WithContext(withIdentity(r.Context(), id)))
		})
	}
}

// identify finds the request's identity, or the reason there is none. An Authorization header
// wins over the session cookie.
func (a *Authenticator) identify(creds *credentials, r *http.Request) (Identity, string) {
	if h := r.Header.Get("Authorization"); h != "" {
		id, ok := creds.authorization(h)
		if !ok {
			return Identity{}, ReasonBad
		}
		return id, ""
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return Identity{}, ReasonMissing
	}
	ss, ok := a.sessions.get(c.Value, time.Now())
	if !ok {
		return Identity{}, ReasonSession
	}
	return Identity{Name: ss.name, Scopes: ss.scopes, Via: "session"}, ""
}

func unauthorizedText(reason string) string {
	switch reason {
	case ReasonBad:
		return "unauthorized: the credentials sent match no configured token or user"
	case ReasonSession:
		return "unauthorized: the session has expired or ended; log in again at /login"
	}
	return "unauthorized: send Authorization: Bearer <token> (see auth.tokens) or basic auth, or log in at /login"
}

// isNavigation reports a browser loading a page (as opposed to a script's fetch or an API
// client), which is better sent to the login page than shown a bare 401.
func isNavigation(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	if mode := r.Header.Get("Sec-Fetch-Mode"); mode != "" {
		return mode == "navigate"
	}
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}
