package auth

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	vmetrics "github.com/VictoriaMetrics/metrics"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testRule: /healthz and /login are public, /write needs ingest, /admin admin, the rest read.
func testRule(r *http.Request) (Scope, bool) {
	switch r.URL.Path {
	case "/healthz", "/login", "/logout":
		return 0, true
	case "/write":
		return Ingest, false
	case "/admin":
		return Admin, false
	}
	return Read, false
}

func newTestServer(t *testing.T, a *Authenticator) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/login", a.LoginHandler("main"))
	mux.Handle("/logout", a.LogoutHandler("main", "/login"))
	mux.Handle("/whoami", a.WhoAmIHandler())
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		id, _ := FromContext(r.Context())
		io.WriteString(w, "hello "+id.Name+" via "+id.Via)
	})
	srv := httptest.NewServer(a.Middleware("main", testRule, "/login")(mux))
	t.Cleanup(srv.Close)
	return srv.URL
}

func newTestAuth(t *testing.T) (*Authenticator, *vmetrics.Set) {
	t.Helper()
	set := vmetrics.NewSet()
	a := New(DefaultOptions(), set, slog.New(slog.DiscardHandler))
	err := a.Set([]Token{
		{Name: "shipper", Secret: "ingest-secret", Scopes: Ingest},
		{Name: "grafana", Secret: "read-secret", Scopes: Read},
		{Name: "ops", Secret: "ops-secret", Scopes: Read | Admin},
	}, []BasicUser{{Username: "prometheus", Password: "rw-pass", Scopes: Ingest}})
	if err != nil {
		t.Fatal(err)
	}
	return a, set
}

func do(t *testing.T, c *http.Client, method, url string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestHTTPChecksCredentialsAndScopes(t *testing.T) {
	a, set := newTestAuth(t)
	base := newTestServer(t, a)
	bearer := func(s string) map[string]string { return map[string]string{"Authorization": "Bearer " + s} }
	basic := func(u, p string) map[string]string {
		req, _ := http.NewRequest("GET", "/", nil)
		req.SetBasicAuth(u, p)
		return map[string]string{"Authorization": req.Header.Get("Authorization")}
	}
	for _, tc := range []struct {
		name      string
		method    string
		path      string
		header    map[string]string
		code      int
		challenge string
		body      string
	}{
		{"public without credentials", "GET", "/healthz", nil, 200, "", "hello  via "},
		{"no credentials", "GET", "/query", nil, 401, `Bearer realm="vigil"`, "send Authorization"},
		{"unknown token", "GET", "/query", bearer("guess"), 401, `Bearer realm="vigil", error="invalid_token"`, "match no configured"},
		{"unknown scheme", "GET", "/query", map[string]string{"Authorization": "Digest x"}, 401, `error="invalid_token"`, ""},
		{"ingest token on a read endpoint", "GET", "/query", bearer("ingest-secret"), 403, "", `"shipper" may not do this: it needs scope read and has ingest`},
		{"read token on an admin endpoint", "POST", "/admin", bearer("read-secret"), 403, "", "needs scope admin"},
		{"read token reads", "GET", "/query", bearer("read-secret"), 200, "", "hello grafana via bearer"},
		{"admin token administers", "POST", "/admin", bearer("ops-secret"), 200, "", "hello ops via bearer"},
		{"ingest token writes", "POST", "/write", bearer("ingest-secret"), 200, "", "hello shipper via bearer"},
		{"basic auth writes", "POST", "/write", basic("prometheus", "rw-pass"), 200, "", "hello prometheus via basic"},
		{"basic auth, wrong password", "POST", "/write", basic("prometheus", "rw-pasS"), 401, `error="invalid_token"`, ""},
		{"basic auth user on a read endpoint", "GET", "/query", basic("prometheus", "rw-pass"), 403, "", "needs scope read"},
		{"a token is not a basic password", "POST", "/write", basic("shipper", "ingest-secret"), 401, "", ""},
		{"browser navigation without a session", "GET", "/query?x=1", map[string]string{"Sec-Fetch-Mode": "navigate"}, 303, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, body := do(t, c, tc.method, base+tc.path, tc.header)
			if resp.StatusCode != tc.code {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, body, tc.code)
			}
			if got := resp.Header.Get("WWW-Authenticate"); !strings.Contains(got, tc.challenge) || (tc.challenge == "" && got != "" && tc.code != 401) {
				t.Errorf("WWW-Authenticate %q, want %q", got, tc.challenge)
			}
			if !strings.Contains(body, tc.body) {
				t.Errorf("body %q lacks %q", body, tc.body)
			}
			if tc.code == 303 && resp.Header.Get("Location") != "/login?next="+url.QueryEscape("/query?x=1") {
				t.Errorf("redirect to %q", resp.Header.Get("Location"))
			}
			for _, secret := range []string{"ingest-secret", "read-secret", "rw-pass"} {
				if strings.Contains(body, secret) {
					t.Errorf("the answer shows a secret: %q", body)
				}
			}
		})
	}
	var sb strings.Builder
	set.WritePrometheus(&sb)
	for _, want := range []string{
		`vigil_auth_refusals_total{listener="main",reason="missing_credentials"} 2`,
		`vigil_auth_refusals_total{listener="main",reason="bad_credentials"} 4`,
		`vigil_auth_refusals_total{listener="main",reason="wrong_scope"} 3`,
	} {
		if !strings.Contains(sb.String(), want) {
			t.Errorf("metrics lack %s:\n%s", want, sb.String())
		}
	}
}

func TestWithoutCredentialsEverythingPasses(t *testing.T) {
	a := New(DefaultOptions(), vmetrics.NewSet(), slog.New(slog.DiscardHandler))
	base := newTestServer(t, a)
	for _, p := range []string{"/query", "/admin", "/write"} {
		resp, body := do(t, http.DefaultClient, "POST", base+p, map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
		if resp.StatusCode != 200 {
			t.Errorf("POST %s = %d %s, want 200 with auth off", p, resp.StatusCode, body)
		}
	}
	if resp, body := do(t, http.DefaultClient, "GET", base+"/whoami", nil); body != `{"authEnabled":false}`+"\n" {
		t.Errorf("whoami with auth off = %d %s", resp.StatusCode, body)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if resp, _ := do(t, c, "GET", base+"/login?next=/alerts", nil); resp.StatusCode != 303 || resp.Header.Get("Location") != "/alerts" {
		t.Errorf("/login with auth off = %d to %q, want a redirect to /alerts", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestSetRefusesBadCredentialsAndKeepsTheOld(t *testing.T) {
	a, _ := newTestAuth(t)
	for _, tc := range []struct {
		tokens []Token
		users  []BasicUser
		want   string
	}{
		{[]Token{{Name: "a", Secret: "x", Scopes: Read}, {Name: "a", Secret: "y", Scopes: Read}}, nil, `"a" is used twice`},
		{[]Token{{Name: "a", Secret: "x", Scopes: Read}, {Name: "b", Secret: "x", Scopes: Read}}, nil, "same secret"},
		{[]Token{{Name: "a", Secret: "", Scopes: Read}}, nil, "empty"},
		{[]Token{{Name: "a", Secret: "x"}}, nil, "no scopes"},
		{nil, []BasicUser{{Username: "u", Scopes: Ingest}}, "empty password"},
		{[]Token{{Name: "u", Secret: "x", Scopes: Read}}, []BasicUser{{Username: "u", Password: "p", Scopes: Ingest}}, "share one namespace"},
	} {
		if err := a.Set(tc.tokens, tc.users); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Set(%+v, %+v) = %v, want %q", tc.tokens, tc.users, err, tc.want)
		}
	}
	if _, ok := a.creds.Load().token("read-secret"); !ok {
		t.Fatal("a refused Set replaced the credentials")
	}
}

func TestLoginSessionCookieAndCSRF(t *testing.T) {
	a, set := newTestAuth(t)
	base := newTestServer(t, a)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(path string, form url.Values, header map[string]string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	sameOrigin := map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": base}
	crossSite := map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}

	resp, page := do(t, c, "GET", base+"/login?next=/alerts%3Fstate%3Dfiring", nil)
	if resp.StatusCode != 200 || !strings.Contains(page, `<form method="post" action="/login">`) ||
		!strings.Contains(page, `value="/alerts?state=firing"`) || strings.Contains(page, "http://") || strings.Contains(page, "https://") {
		t.Fatalf("login page = %d:\n%s", resp.StatusCode, page)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("login page CSP %q", csp)
	}

	if resp, body := post("/login", url.Values{"token": {"nope"}, "next": {"/alerts"}}, sameOrigin); resp.StatusCode != 401 || !strings.Contains(body, "not valid") {
		t.Fatalf("login with a bad token = %d %s", resp.StatusCode, body)
	}
	if resp, _ := post("/login", url.Values{"token": {"ops-secret"}}, crossSite); resp.StatusCode != 403 || len(resp.Cookies()) != 0 {
		t.Fatalf("cross-site login = %d, cookies %v; want 403 and no session", resp.StatusCode, resp.Cookies())
	}
	resp, _ = post("/login", url.Values{"token": {"ops-secret\n"}, "next": {"//evil.example/x"}}, sameOrigin)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/" {
		t.Fatalf("login = %d to %q, want 303 to / (next was another host)", resp.StatusCode, resp.Header.Get("Location"))
	}
	cookies := resp.Cookies()
	if len(cookies) != 1 || cookies[0].Name != SessionCookie || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode || cookies[0].Secure {
		t.Fatalf("session cookie %+v, want one HttpOnly SameSite=Strict cookie (not Secure without TLS)", cookies)
	}
	if strings.Contains(cookies[0].Value, "ops") || a.sessions.len() != 1 {
		t.Fatalf("cookie value %q / %d sessions", cookies[0].Value, a.sessions.len())
	}

	if resp, body := do(t, c, "GET", base+"/query", nil); resp.StatusCode != 200 || body != "hello ops via session" {
		t.Fatalf("read with the session = %d %q", resp.StatusCode, body)
	}
	if resp, body := do(t, c, "GET", base+"/whoami", nil); resp.StatusCode != 200 ||
		body != `{"authEnabled":true,"name":"ops","scopes":["read","admin"],"via":"session"}`+"\n" {
		t.Fatalf("whoami with the session = %d %s", resp.StatusCode, body)
	}
	if resp, body := post("/admin", nil, crossSite); resp.StatusCode != 403 || !strings.Contains(body, "cross-origin") {
		t.Fatalf("cross-site POST with the session cookie = %d %q, want 403", resp.StatusCode, body)
	}
	if resp, body := post("/admin", nil, map[string]string{"Origin": "https://evil.example"}); resp.StatusCode != 403 {
		t.Fatalf("cross-origin POST (Origin only) with the session cookie = %d %q, want 403", resp.StatusCode, body)
	}
	if resp, body := post("/admin", nil, sameOrigin); resp.StatusCode != 200 {
		t.Fatalf("same-origin POST with the session = %d %q", resp.StatusCode, body)
	}
	// A bearer token is not sent by the browser on its own: no CSRF check.
	if resp, body := post("/admin", nil, map[string]string{"Authorization": "Bearer ops-secret", "Origin": "https://elsewhere.example"}); resp.StatusCode != 200 {
		t.Fatalf("cross-origin POST with a bearer token = %d %q", resp.StatusCode, body)
	}

	// Rotating the token ends its sessions.
	if err := a.Set([]Token{{Name: "ops", Secret: "new-ops-secret", Scopes: Read | Admin}}, nil); err != nil {
		t.Fatal(err)
	}
	if resp, body := do(t, c, "GET", base+"/query", nil); resp.StatusCode != 401 || !strings.Contains(body, "session has expired or ended") {
		t.Fatalf("read after rotation = %d %q, want 401", resp.StatusCode, body)
	}
	resp, _ = post("/login", url.Values{"token": {"new-ops-secret"}, "next": {"/alerts?x=1"}}, sameOrigin)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/alerts?x=1" {
		t.Fatalf("login = %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := do(t, c, "GET", base+"/login?next=/x", nil); resp.StatusCode != 303 || resp.Header.Get("Location") != "/x" {
		t.Fatalf("login page with a session = %d to %q, want straight to next", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := post("/logout", nil, crossSite); resp.StatusCode != 403 {
		t.Fatalf("cross-site logout = %d", resp.StatusCode)
	}
	if resp, _ := post("/logout", nil, sameOrigin); resp.StatusCode != 303 || a.sessions.len() != 0 {
		t.Fatalf("logout = %d, %d sessions left", resp.StatusCode, a.sessions.len())
	}
	if resp, _ := do(t, c, "GET", base+"/query", nil); resp.StatusCode != 401 {
		t.Fatalf("read after logout = %d", resp.StatusCode)
	}
	var sb strings.Builder
	set.WritePrometheus(&sb)
	for _, want := range []string{
		`vigil_auth_refusals_total{listener="main",reason="cross_origin"} 4`,
		`vigil_auth_refusals_total{listener="main",reason="bad_session"} 1`,
		`vigil_auth_sessions 0`,
	} {
		if !strings.Contains(sb.String(), want) {
			t.Errorf("metrics lack %s:\n%s", want, sb.String())
		}
	}
}

func TestSafeNext(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
	f("", "/")
	f("/", "/")
	f("/alerts?state=firing#x", "/alerts?state=firing#x")
	f("//evil.example", "/")
	f(`/\evil.example`, "/")
	f("https://evil.example/", "/")
	f("javascript:alert(1)", "/")
	f("alerts", "/")
	f("/a\r\nSet-Cookie: x", "/")
}

func TestSessionsAreBounded(t *testing.T) {
	s := newSessions(2)
	now := time.Now()
	a := s.create("a", Read, time.Hour, now)
	s.create("b", Read, 2*time.Hour, now)
	s.create("c", Read, 3*time.Hour, now)
	if _, ok := s.get(a, now); ok || s.len() != 2 {
		t.Fatalf("after a third session: first still there = %v, %d sessions", ok, s.len())
	}
}

func TestGRPCInterceptors(t *testing.T) {
	a, set := newTestAuth(t)
	srv := grpc.NewServer(a.GRPCServerOptions("otlp_grpc", Ingest)...)
	healthpb.RegisterHealthServer(srv, health.NewServer())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	defer func() { srv.Stop(); <-done }()
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)
	for _, tc := range []struct {
		auth string
		want codes.Code
	}{
		{"", codes.Unauthenticated},
		{"Bearer guess", codes.Unauthenticated},
		{"Bearer read-secret", codes.PermissionDenied},
		{"Bearer ingest-secret", codes.OK},
		{"Basic cHJvbWV0aGV1czpydy1wYXNz", codes.OK}, // prometheus:rw-pass
	} {
		ctx := context.Background()
		if tc.auth != "" {
			ctx = metadata.AppendToOutgoingContext(ctx, "authorization", tc.auth)
		}
		_, err := client.Check(ctx, &healthpb.HealthCheckRequest{})
		if got := status.Code(err); got != tc.want {
			t.Errorf("authorization %q: %v, want %s", tc.auth, err, tc.want)
		}
		// A streaming call goes through the stream interceptor.
		stream, err := client.Watch(ctx, &healthpb.HealthCheckRequest{})
		if err == nil {
			_, err = stream.Recv()
		}
		if got := status.Code(err); got != tc.want {
			t.Errorf("stream with authorization %q: %v, want %s", tc.auth, err, tc.want)
		}
	}
	var sb strings.Builder
	set.WritePrometheus(&sb)
	for _, want := range []string{
		`vigil_auth_refusals_total{listener="otlp_grpc",reason="missing_credentials"} 2`,
		`vigil_auth_refusals_total{listener="otlp_grpc",reason="bad_credentials"} 2`,
		`vigil_auth_refusals_total{listener="otlp_grpc",reason="wrong_scope"} 2`,
	} {
		if !strings.Contains(sb.String(), want) {
			t.Errorf("metrics lack %s:\n%s", want, sb.String())
		}
	}
}
