package auth

import (
	_ "embed"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"
)

//go:embed login.html
var loginPage string

var loginTemplate = template.Must(template.New("login").Parse(loginPage))

// LoginHandler serves the UI's login page at its path: GET shows a form where a user pastes a
// token; POST checks it, starts a session (cookie: HttpOnly, SameSite=Strict, Secure under TLS)
// and redirects to the form's next, a path on this server. listener labels refusals.
func (a *Authenticator) LoginHandler(listener string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10) // a token and a path
		next := safeNext(r.FormValue("next"))
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			if !a.Enabled() || a.hasSession(r) {
				http.Redirect(w, r, next, http.StatusSeeOther)
				return
			}
			a.renderLogin(w, r, http.StatusOK, next, "")
		case http.MethodPost:
			// A login forced from another site would log the victim in as the attacker.
			if err := a.csrf.Check(r); err != nil {
				a.refused(listener, ReasonCrossSite, "POST "+r.URL.Path, "")
				http.Error(w, "cross-origin request refused: "+err.Error(), http.StatusForbidden)
				return
			}
			if !a.Enabled() {
				http.Redirect(w, r, next, http.StatusSeeOther)
				return
			}
			id, ok := a.creds.Load().token(strings.TrimSpace(r.PostFormValue("token")))
			if !ok {
				a.refused(listener, ReasonBad, "POST "+r.URL.Path, "")
				a.renderLogin(w, r, http.StatusUnauthorized, next, "That token is not valid here.")
				return
			}
			sid := a.sessions.create(id.Name, id.Scopes, a.opts.SessionTTL, time.Now())
			http.SetCookie(w, &http.Cookie{
				Name: SessionCookie, Value: sid, Path: "/",
				MaxAge: int(a.opts.SessionTTL / time.Second), HttpOnly: true,
				SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
			})
			a.log.Info("UI login", "credential", id.Name, "remote", r.RemoteAddr)
			http.Redirect(w, r, next, http.StatusSeeOther)
		default:
			w.Header().Set("Allow", "GET, HEAD, POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		}
	})
}

// LogoutHandler ends the session of a POST and sends the browser to loginPath.
func (a *Authenticator) LogoutHandler(listener, loginPath string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if err := a.csrf.Check(r); err != nil {
			a.refused(listener, ReasonCrossSite, "POST "+r.URL.Path, "")
			http.Error(w, "cross-origin request refused: "+err.Error(), http.StatusForbidden)
			return
		}
		if c, err := r.Cookie(SessionCookie); err == nil {
			a.sessions.delete(c.Value)
		}
		clearSessionCookie(w, r)
		http.Redirect(w, r, loginPath, http.StatusSeeOther)
	})
}

func (a *Authenticator) hasSession(r *http.Request) bool {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return false
	}
	_, ok := a.sessions.get(c.Value, time.Now())
	return ok
}

func (a *Authenticator) renderLogin(w http.ResponseWriter, r *http.Request, code int, next, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(code)
	if r.Method == http.MethodHead {
		return
	}
	_ = loginTemplate.Execute(w, struct{ Action, Next, Error string }{r.URL.Path, next, msg})
}

func clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
}

// safeNext keeps a post-login redirect on this server: an absolute path, not "//host" or
// "/\host" (which browsers read as another host), else "/".
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, `/\`) ||
		strings.ContainsAny(next, "\r\n\t\\") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return next
}
