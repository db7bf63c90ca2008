package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gogo/protobuf/proto"
	"github.com/golang/snappy"
	config_util "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage/remote"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/vigilhq/vigil/internal/tlsreload/tlstest"
)

// authConfig is the auth section the tests below run with: a token per scope (the ingest one
// from a file), an operator with read and admin, and a basic-auth user for remote write.
const authConfig = `
self_metrics: {interval: 1s}
auth:
  tokens:
    - {name: shipper, token_file: shipper.token, scopes: [ingest]}
    - {name: grafana, token: read-token, scopes: [read]}
    - {name: oncall, token: admin-token, scopes: [read, admin]}
  basic_users:
    - {username: prometheus, password_file: prometheus.password, scopes: [ingest]}
`

// call makes one request with an optional bearer token and extra headers.
func call(t *testing.T, c *http.Client, method, url, token string, body io.Reader, header ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if c == nil {
		c = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func writeSecret(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

func startAuthApp(t *testing.T, extra string) (*app, string, string) {
	t.Helper()
	dir := t.TempDir()
	writeSecret(t, filepath.Join(dir, "shipper.token"), "ingest-token")
	writeSecret(t, filepath.Join(dir, "prometheus.password"), "rw-password")
	c, cfg := configIn(t, dir, authConfig+extra)
	a := newTestApp(t, c, cfg)
	startApp(t, a)
	base := waitAddr(t, a)
	return a, base, dir
}

func TestAuthOnTheMainListener(t *testing.T) {
	a, base, dir := startAuthApp(t, "")
	eventually(t, "ready", func() bool { code, _, _ := call(t, nil, "GET", base+"/readyz", "", nil); return code == 200 })

	for _, tc := range []struct {
		method, path, token string
		want                int
	}{
		{"GET", "/healthz", "", 200},
		{"GET", "/-/ready", "", 200},
		{"GET", "/api/v1/query?query=up", "", 401},
		{"GET", "/api/v1/query?query=up", "wrong-token", 401},
		{"GET", "/api/v1/query?query=up", "ingest-token", 403},
		{"GET", "/api/v1/query?query=up", "read-token", 200},
		{"POST", "/api/v1/query?query=up", "read-token", 200},
		{"GET", "/metrics", "", 401},
		{"GET", "/metrics", "read-token", 200},
		{"GET", "/", "ingest-token", 403},
		{"GET", "/", "read-token", 200},
		{"GET", "/api/v1/logs/query?q=x", "read-token", 200},
		{"GET", "/api/services", "read-token", 200},
		{"GET", "/api/v2/silences", "read-token", 200},
		{"GET", "/debug/pprof/", "read-token", 403},
		{"GET", "/debug/pprof/", "admin-token", 200},
		{"POST", "/-/reload", "read-token", 403},
		{"POST", "/-/reload", "admin-token", 200},
		{"POST", "/api/v2/silences", "read-token", 403},
		{"POST", "/api/v1/alerts/groups/x/ack", "ingest-token", 403},
		{"POST", "/api/v1/logs", "read-token", 403},
		{"POST", "/api/v1/logs", "ingest-token", 200},
		{"POST", "/api/v2/alerts", "read-token", 403},
		{"POST", "/api/v2/alerts", "ingest-token", 200},
		{"GET", "/es/", "ingest-token", 200},
		{"GET", "/es/", "read-token", 403},
		{"GET", "/api/v1/dashboards", "read-token", 200},
		{"GET", "/api/v1/dashboards/golden-signals", "read-token", 200},
		{"GET", "/api/v1/dashboards", "ingest-token", 403},
		{"PUT", "/api/v1/dashboards/auth-test", "read-token", 403},
		{"PUT", "/api/v1/dashboards/auth-test", "admin-token", 200},
		{"DELETE", "/api/v1/dashboards/auth-test", "read-token", 403},
		{"DELETE", "/api/v1/dashboards/auth-test", "admin-token", 200},
	} {
		var body io.Reader
		switch tc.path {
		case "/api/v1/logs":
			body = strings.NewReader(`{"_msg":"hello","service":"auth-test"}` + "\n")
		case "/api/v2/alerts":
			body = strings.NewReader(`[{"labels":{"alertname":"AuthTest"}}]`)
		case "/api/v1/dashboards/auth-test":
			body = strings.NewReader(`{"title": "Auth test", "panels": []}`)
		}
		code, h, resp := call(t, nil, tc.method, base+tc.path, tc.token, body, "Content-Type", "application/json")
		if code != tc.want {
			t.Errorf("%s %s with %q = %d (%.200s), want %d", tc.method, tc.path, tc.token, code, resp, tc.want)
		}
		if code == 401 && !strings.HasPrefix(h.Get("WWW-Authenticate"), `Bearer realm="vigil"`) {
			t.Errorf("%s %s: 401 without a Bearer challenge: %q", tc.method, tc.path, h.Get("WWW-Authenticate"))
		}
	}

	// Prometheus's own remote-write client, with basic auth and with a bearer token.
	write := func(hc config_util.HTTPClientConfig) error {
		u, _ := url.Parse(base + "/api/v1/write")
		c, err := remote.NewWriteClient("auth-test", &remote.ClientConfig{URL: &config_util.URL{URL: u}, Timeout: model.Duration(5 * time.Second), HTTPClientConfig: hc})
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := proto.Marshal(&prompb.WriteRequest{Timeseries: []prompb.TimeSeries{{
			Labels:  []prompb.Label{{Name: "__name__", Value: "auth_test_total"}, {Name: "via", Value: "remote_write"}},
			Samples: []prompb.Sample{{Value: 1, Timestamp: time.Now().UnixMilli()}},
		}}})
		_, err = c.Store(context.Background(), snappy.Encode(nil, raw), 0)
		return err
	}
	for _, tc := range []struct {
		name string
		hc   config_util.HTTPClientConfig
		want string // "" for success, else a substring of the error
	}{
		{"no credentials", config_util.HTTPClientConfig{}, "401"},
		{"basic auth, wrong password", config_util.HTTPClientConfig{BasicAuth: &config_util.BasicAuth{Username: "prometheus", Password: "nope"}}, "401"},
		{"basic auth", config_util.HTTPClientConfig{BasicAuth: &config_util.BasicAuth{Username: "prometheus", Password: "rw-password"}}, ""},
		{"read token", config_util.HTTPClientConfig{Authorization: &config_util.Authorization{Type: "Bearer", Credentials: "read-token"}}, "403"},
		{"ingest token", config_util.HTTPClientConfig{Authorization: &config_util.Authorization{Type: "Bearer", Credentials: "ingest-token"}}, ""},
	} {
		err := write(tc.hc)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("remote write, %s: %v, want %q", tc.name, err, tc.want)
		}
	}

	// The self-scrape gets in with its own token.
	eventually(t, "the self-scrape to succeed", func() bool {
		code, _, body := call(t, nil, "GET", base+"/api/v1/query?query="+url.QueryEscape(`up{job="vigil"}`), "read-token", nil)
		return code == 200 && strings.Contains(body, `"1"]`)
	})

	// Rotating a token: rewrite its file and reload.
	writeSecret(t, filepath.Join(dir, "shipper.token"), "rotated-ingest-token")
	if code, _, body := call(t, nil, "POST", base+"/-/reload", "admin-token", nil); code != 200 {
		t.Fatalf("reload = %d %s", code, body)
	}
	if code, _, _ := call(t, nil, "POST", base+"/api/v1/logs", "ingest-token", strings.NewReader(`{"_msg":"x"}`)); code != 401 {
		t.Errorf("old token after rotation = %d, want 401", code)
	}
	if code, _, _ := call(t, nil, "POST", base+"/api/v1/logs", "rotated-ingest-token", strings.NewReader(`{"_msg":"x"}`)); code != 200 {
		t.Errorf("new token after rotation = %d, want 200", code)
	}
	// A reload that cannot read a file changes nothing.
	if err := os.Remove(filepath.Join(dir, "shipper.token")); err != nil {
		t.Fatal(err)
	}
	if code, _, body := call(t, nil, "POST", base+"/-/reload", "admin-token", nil); code != 500 || !strings.Contains(body, "shipper.token") {
		t.Errorf("reload with a missing token file = %d %s, want 500 naming the file", code, body)
	}
	if code, _, _ := call(t, nil, "POST", base+"/api/v1/logs", "rotated-ingest-token", strings.NewReader(`{"_msg":"x"}`)); code != 200 {
		t.Errorf("token after a refused reload = %d, want 200", code)
	}

	_, _, metrics := call(t, nil, "GET", base+"/metrics", "read-token", nil)
	for _, want := range []string{
		`vigil_auth_refusals_total{listener="main",reason="missing_credentials"}`,
		`vigil_auth_refusals_total{listener="main",reason="bad_credentials"}`,
		`vigil_auth_refusals_total{listener="main",reason="wrong_scope"}`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, secret := range []string{"read-token", "admin-token", "ingest-token", "rw-password"} {
		if strings.Contains(metrics, secret) {
			t.Errorf("/metrics shows the secret %q", secret)
		}
	}
	_ = a
}

// spanStub is one finished span of service auth-test.
func spanStub(id byte) tracetest.SpanStub {
	now := time.Now()
	return tracetest.SpanStub{
		Name: "auth-test",
		SpanContext: trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: trace.TraceID{1, 2, 3, id}, SpanID: trace.SpanID{4, 5, id}, TraceFlags: trace.FlagsSampled,
		}),
		SpanKind:  trace.SpanKindServer,
		StartTime: now.Add(-time.Millisecond), EndTime: now,
		Resource: resource.NewSchemaless(semconv.ServiceName("auth-test")),
	}
}

func exportGRPC(t *testing.T, addr string, opts ...otlptracegrpc.Option) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	exp, err := otlptracegrpc.New(ctx, append([]otlptracegrpc.Option{otlptracegrpc.WithEndpoint(addr),
		otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: false})}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer exp.Shutdown(ctx)
	return exp.ExportSpans(ctx, tracetest.SpanStubs{spanStub(1)}.Snapshots())
}

func exportHTTP(t *testing.T, addr string, opts ...otlptracehttp.Option) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	exp, err := otlptracehttp.New(ctx, append([]otlptracehttp.Option{otlptracehttp.WithEndpoint(addr),
		otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false})}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer exp.Shutdown(ctx)
	return exp.ExportSpans(ctx, tracetest.SpanStubs{spanStub(2)}.Snapshots())
}

func TestAuthOnTheOTLPListeners(t *testing.T) {
	a, base, _ := startAuthApp(t, "")
	eventually(t, "ready", func() bool { code, _, _ := call(t, nil, "GET", base+"/readyz", "", nil); return code == 200 })
	grpcAddr, httpAddr := a.otlp.GRPCAddr().String(), a.otlp.HTTPAddr().String()
	bearer := func(tok string) map[string]string { return map[string]string{"authorization": "Bearer " + tok} }

	for _, tc := range []struct {
		name    string
		headers map[string]string
		want    codes.Code
	}{
		{"no credentials", nil, codes.Unauthenticated},
		{"unknown token", bearer("guess"), codes.Unauthenticated},
		{"read token", bearer("read-token"), codes.PermissionDenied},
		{"ingest token", bearer("ingest-token"), codes.OK},
	} {
		opts := []otlptracegrpc.Option{otlptracegrpc.WithInsecure()}
		if tc.headers != nil {
			opts = append(opts, otlptracegrpc.WithHeaders(tc.headers))
		}
		if got := status.Code(exportGRPC(t, grpcAddr, opts...)); got != tc.want {
			t.Errorf("OTLP gRPC, %s: %s, want %s", tc.name, got, tc.want)
		}
		hopts := []otlptracehttp.Option{otlptracehttp.WithInsecure()}
		if tc.headers != nil {
			hopts = append(hopts, otlptracehttp.WithHeaders(tc.headers))
		}
		err := exportHTTP(t, httpAddr, hopts...)
		wantHTTP := map[codes.Code]string{codes.Unauthenticated: "401", codes.PermissionDenied: "403"}[tc.want]
		if (wantHTTP == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), wantHTTP)) {
			t.Errorf("OTLP HTTP, %s: %v, want %q", tc.name, err, wantHTTP)
		}
	}
	for _, id := range []byte{1, 2} {
		traceID := trace.TraceID{1, 2, 3, id}.String()
		eventually(t, "span "+traceID, func() bool {
			code, _, _ := call(t, nil, "GET", base+"/api/traces/"+traceID, "read-token", nil)
			return code == 200
		})
	}
	_, _, metrics := call(t, nil, "GET", base+"/metrics", "read-token", nil)
	for _, l := range []string{"otlp_grpc", "otlp_http"} {
		for _, r := range []string{"missing_credentials", "bad_credentials", "wrong_scope"} {
			if want := fmt.Sprintf(`vigil_auth_refusals_total{listener=%q,reason=%q} 1`, l, r); !strings.Contains(metrics, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
	}
}

func TestUILoginThroughTheApp(t *testing.T) {
	_, base, _ := startAuthApp(t, "")
	eventually(t, "ready", func() bool { code, _, _ := call(t, nil, "GET", base+"/readyz", "", nil); return code == 200 })
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	nav := []string{"Sec-Fetch-Mode", "navigate", "Accept", "text/html"}

	code, h, _ := call(t, browser, "GET", base+"/alerts?state=firing", "", nil, nav...)
	if code != 303 || h.Get("Location") != "/login?next="+url.QueryEscape("/alerts?state=firing") {
		t.Fatalf("page without a session = %d to %q, want 303 to the login page", code, h.Get("Location"))
	}
	if code, _, body := call(t, browser, "GET", base+"/api/v1/alerts/groups", "", nil, "Sec-Fetch-Mode", "cors"); code != 401 {
		t.Fatalf("the UI's fetch without a session = %d %s, want 401", code, body)
	}
	code, _, page := call(t, browser, "GET", base+h.Get("Location"), "", nil, nav...)
	if code != 200 || !strings.Contains(page, `name="token"`) || !strings.Contains(page, `value="/alerts?state=firing"`) {
		t.Fatalf("login page = %d\n%s", code, page)
	}
	sameOrigin := []string{"Content-Type", "application/x-www-form-urlencoded", "Origin", base, "Sec-Fetch-Site", "same-origin"}
	form := url.Values{"token": {"admin-token"}, "next": {"/alerts?state=firing"}}.Encode()
	code, h, _ = call(t, browser, "POST", base+"/login", "", strings.NewReader(form), sameOrigin...)
	if code != 303 || h.Get("Location") != "/alerts?state=firing" {
		t.Fatalf("login = %d to %q", code, h.Get("Location"))
	}
	if c := h.Get("Set-Cookie"); !strings.Contains(c, "vigil_session=") || !strings.Contains(c, "HttpOnly") || !strings.Contains(c, "SameSite=Strict") || strings.Contains(c, "admin-token") {
		t.Fatalf("session cookie %q", c)
	}
	if code, _, _ := call(t, browser, "GET", base+"/api/v1/alerts/groups", "", nil); code != 200 {
		t.Fatalf("read with the session = %d", code)
	}
	if code, _, body := call(t, browser, "GET", base+"/api/v1/whoami", "", nil); code != 200 || !strings.Contains(body, `"name":"oncall"`) {
		t.Fatalf("whoami with the session = %d %s", code, body)
	}
	silence := `{"matchers":[{"name":"alertname","value":"X","isRegex":false,"isEqual":true}],"startsAt":"2030-01-01T00:00:00Z","endsAt":"2030-01-02T00:00:00Z","createdBy":"t","comment":"c"}`
	code, _, body := call(t, browser, "POST", base+"/api/v2/silences", "", strings.NewReader(silence),
		"Content-Type", "application/json", "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	if code != 403 || !strings.Contains(body, "cross-origin") {
		t.Fatalf("cross-site silence with the session cookie = %d %s, want 403", code, body)
	}
	code, _, body = call(t, browser, "POST", base+"/api/v2/silences", "", strings.NewReader(silence),
		"Content-Type", "application/json", "Origin", base, "Sec-Fetch-Site", "same-origin")
	if code != 200 {
		t.Fatalf("same-origin silence with the session = %d %s", code, body)
	}
	if code, _, _ := call(t, browser, "POST", base+"/logout", "", nil, sameOrigin...); code != 303 {
		t.Fatalf("logout = %d", code)
	}
	if code, _, _ := call(t, browser, "GET", base+"/api/v1/alerts/groups", "", nil); code != 401 {
		t.Fatalf("read after logout = %d, want 401", code)
	}
}

func TestTLSAndMutualTLSOnEveryListener(t *testing.T) {
	dir := t.TempDir()
	serverCA, clientCA := tlstest.NewCA(t, "server CA"), tlstest.NewCA(t, "client CA")
	first := serverCA.Server(t)
	start := time.Now().Add(-time.Hour)
	first.WriteFiles(t, dir, "server", start)
	tlstest.WriteFile(t, filepath.Join(dir, "clients.pem"), clientCA.CertPEM, start)
	writeSecret(t, filepath.Join(dir, "shipper.token"), "ingest-token")
	writeSecret(t, filepath.Join(dir, "prometheus.password"), "rw-password")
	c, cfg := configIn(t, dir, authConfig+"tls: {cert_file: server.crt, key_file: server.key, client_ca_file: clients.pem}\n")
	a := newTestApp(t, c, cfg)
	startApp(t, a)
	addr := strings.TrimPrefix(waitAddr(t, a), "http://")

	clientCert := clientCA.Client(t, "shipper").TLS(t)
	withCert := &tls.Config{RootCAs: serverCA.Pool(), Certificates: []tls.Certificate{clientCert}}
	withoutCert := &tls.Config{RootCAs: serverCA.Pool()}
	https := func(cfg *tls.Config) *http.Client {
		tr := &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: true}
		t.Cleanup(tr.CloseIdleConnections)
		return &http.Client{Transport: tr, Timeout: 10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	eventually(t, "ready over TLS", func() bool {
		code, _, _ := call(t, https(withCert), "GET", "https://"+addr+"/readyz", "", nil)
		return code == 200
	})
	if _, err := https(withoutCert).Get("https://" + addr + "/readyz"); err == nil {
		t.Fatal("a client without a certificate got through the handshake")
	}
	if _, err := http.Get("http://" + addr + "/readyz"); err == nil {
		// Go's TLS server answers a plain request with a 400, not a page.
		resp, _ := http.Get("http://" + addr + "/healthz")
		if resp != nil && resp.StatusCode == 200 {
			t.Fatal("plain HTTP served on the TLS listener")
		}
	}
	if u := a.alerting.externalURL(a.cfg); !strings.HasPrefix(u, "https://") {
		t.Errorf("links in notifications go to %s, want https", u)
	}
	code, _, body := call(t, https(withCert), "GET", "https://"+addr+"/api/v1/query?query=up", "read-token", nil)
	if code != 200 {
		t.Fatalf("query over mutual TLS = %d %s", code, body)
	}

	// Under TLS the session cookie is Secure.
	form := url.Values{"token": {"read-token"}}.Encode()
	code, h, _ := call(t, https(withCert), "POST", "https://"+addr+"/login", "", strings.NewReader(form),
		"Content-Type", "application/x-www-form-urlencoded")
	if c := h.Get("Set-Cookie"); code != 303 || !strings.Contains(c, "; Secure") {
		t.Errorf("login over TLS = %d, cookie %q; want a Secure cookie", code, c)
	}

	// Both OTLP listeners: a client certificate and a token.
	grpcOK := exportGRPC(t, a.otlp.GRPCAddr().String(), otlptracegrpc.WithTLSCredentials(credentials.NewTLS(withCert)),
		otlptracegrpc.WithHeaders(map[string]string{"authorization": "Bearer ingest-token"}))
	if grpcOK != nil {
		t.Errorf("OTLP gRPC over mutual TLS: %v", grpcOK)
	}
	if err := exportGRPC(t, a.otlp.GRPCAddr().String(), otlptracegrpc.WithTLSCredentials(credentials.NewTLS(withoutCert)),
		otlptracegrpc.WithHeaders(map[string]string{"authorization": "Bearer ingest-token"})); err == nil {
		t.Error("OTLP gRPC without a client certificate succeeded")
	}
	if err := exportHTTP(t, a.otlp.HTTPAddr().String(), otlptracehttp.WithTLSClientConfig(withCert),
		otlptracehttp.WithHeaders(map[string]string{"authorization": "Bearer ingest-token"})); err != nil {
		t.Errorf("OTLP HTTP over mutual TLS: %v", err)
	}
	if err := exportHTTP(t, a.otlp.HTTPAddr().String(), otlptracehttp.WithTLSClientConfig(withoutCert),
		otlptracehttp.WithHeaders(map[string]string{"authorization": "Bearer ingest-token"})); err == nil {
		t.Error("OTLP HTTP without a client certificate succeeded")
	}

	// The self-scrape gets in with its in-memory client certificate and token.
	eventually(t, "the self-scrape to succeed over mutual TLS", func() bool {
		code, _, body := call(t, https(withCert), "GET", "https://"+addr+"/api/v1/query?query="+url.QueryEscape(`up{job="vigil"}`), "read-token", nil)
		return code == 200 && strings.Contains(body, `"1"]`)
	})

	// A renewed certificate is served without a reload once its files change.
	second := serverCA.Server(t)
	second.WriteFiles(t, dir, "server", start.Add(time.Minute))
	serial := func() int64 {
		conn, err := tls.Dial("tcp", addr, withCert)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
	}
	eventually(t, "the renewed certificate", func() bool { return serial() == second.Serial })
	grpcConn, err := tls.Dial("tcp", a.otlp.GRPCAddr().String(), &tls.Config{RootCAs: serverCA.Pool(), Certificates: []tls.Certificate{clientCert}, NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := grpcConn.ConnectionState().PeerCertificates[0].SerialNumber.Int64(); got != second.Serial {
		t.Errorf("OTLP gRPC serves serial %d after the renewal, want %d", got, second.Serial)
	}
	grpcConn.Close()
}
