package tlsreload

import (
	"crypto/tls"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	vmetrics "github.com/VictoriaMetrics/metrics"
	"go.uber.org/goleak"

	"github.com/vigilhq/vigil/internal/tlsreload/tlstest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// serve accepts TLS connections with cfg and answers "ok" to each completed handshake.
func serve(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if err := c.(*tls.Conn).Handshake(); err == nil {
				_, _ = io.WriteString(c, "ok")
			}
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln.Addr().String()
}

// dial handshakes as a client and returns the server certificate's serial and what the
// server answered; a refused client certificate shows as an error on the read in TLS 1.3.
func dial(addr string, roots *tls.Config) (serial int64, answer string, err error) {
	c, err := tls.Dial("tcp", addr, roots)
	if err != nil {
		return 0, "", err
	}
	defer c.Close()
	serial = c.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
	b, err := io.ReadAll(c)
	return serial, string(b), err
}

func TestMutualTLSRequiresAClientCertificateFromTheCA(t *testing.T) {
	dir := t.TempDir()
	serverCA, clientCA, otherCA := tlstest.NewCA(t, "server CA"), tlstest.NewCA(t, "client CA"), tlstest.NewCA(t, "other CA")
	now := time.Now()
	certFile, keyFile := serverCA.Server(t).WriteFiles(t, dir, "server", now)
	caFile := filepath.Join(dir, "clients.pem")
	tlstest.WriteFile(t, caFile, clientCA.CertPEM, now)
	r, err := New(Files{CertFile: certFile, KeyFile: keyFile, ClientCAFile: caFile}, DefaultOptions(), vmetrics.NewSet(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, r.ServerConfig())
	for _, tc := range []struct {
		name   string
		certs  []tls.Certificate
		wantOK bool
	}{
		{"client certificate from the client CA", []tls.Certificate{clientCA.Client(t, "shipper").TLS(t)}, true},
		{"no client certificate", nil, false},
		{"client certificate from another CA", []tls.Certificate{otherCA.Client(t, "intruder").TLS(t)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, answer, err := dial(addr, &tls.Config{RootCAs: serverCA.Pool(), ServerName: "localhost", Certificates: tc.certs})
			if tc.wantOK && (err != nil || answer != "ok") {
				t.Fatalf("handshake refused: %q %v", answer, err)
			}
			if !tc.wantOK && err == nil {
				t.Fatalf("handshake accepted (%q), want it refused", answer)
			}
		})
	}
	// Without a client CA, no client certificate is asked for.
	plain, err := New(Files{CertFile: certFile, KeyFile: keyFile}, DefaultOptions(), vmetrics.NewSet(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if _, answer, err := dial(serve(t, plain.ServerConfig()), &tls.Config{RootCAs: serverCA.Pool(), ServerName: "localhost"}); err != nil || answer != "ok" {
		t.Fatalf("plain TLS handshake: %q %v", answer, err)
	}
}

func TestReloadsChangedFilesAndKeepsThePreviousOnABadWrite(t *testing.T) {
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "CA")
	first := ca.Server(t)
	start := time.Now().Add(-time.Hour)
	certFile, keyFile := first.WriteFiles(t, dir, "server", start)
	set := vmetrics.NewSet()
	r, err := New(Files{CertFile: certFile, KeyFile: keyFile}, Options{CheckInterval: 0}, set, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, r.ServerConfig())
	client := &tls.Config{RootCAs: ca.Pool(), ServerName: "localhost"}
	serialNow := func() int64 {
		t.Helper()
		serial, _, err := dial(addr, client)
		if err != nil {
			t.Fatal(err)
		}
		return serial
	}
	if got := serialNow(); got != first.Serial {
		t.Fatalf("serving serial %d, want %d", got, first.Serial)
	}

	second := ca.Server(t)
	second.WriteFiles(t, dir, "server", start.Add(time.Minute))
	if got := serialNow(); got != second.Serial {
		t.Fatalf("after renewal serving serial %d, want %d", got, second.Serial)
	}

	// A renewal caught half-written: the certificate changed, the key not yet.
	third := ca.Server(t)
	tlstest.WriteFile(t, certFile, third.CertPEM, start.Add(2*time.Minute))
	if got := serialNow(); got != second.Serial {
		t.Fatalf("with a mismatched pair serving serial %d, want the previous %d", got, second.Serial)
	}
	if err := r.Reload(); err == nil || !strings.Contains(err.Error(), "load TLS certificate") {
		t.Fatalf("explicit reload of a mismatched pair = %v, want a load error", err)
	}
	tlstest.WriteFile(t, keyFile, third.KeyPEM, start.Add(3*time.Minute))
	if got := serialNow(); got != third.Serial {
		t.Fatalf("after the key arrived serving serial %d, want %d", got, third.Serial)
	}

	var sb strings.Builder
	set.WritePrometheus(&sb)
	for _, want := range []string{`vigil_tls_reloads_total{result="failure"} 2`, `vigil_tls_reloads_total{result="success"} 3`} {
		if !strings.Contains(sb.String(), want) {
			t.Errorf("metrics lack %s:\n%s", want, sb.String())
		}
	}
}

func TestNewRefusesMissingOrBadFiles(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := tlstest.NewCA(t, "CA").Server(t).WriteFiles(t, dir, "server", time.Now())
	badCA := filepath.Join(dir, "bad-ca.pem")
	tlstest.WriteFile(t, badCA, []byte("not a certificate"), time.Now())
	f := func(files Files, want string) {
		t.Helper()
		_, err := New(files, DefaultOptions(), vmetrics.NewSet(), slog.New(slog.DiscardHandler))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("New(%+v) = %v, want an error containing %q", files, err, want)
		}
	}
	f(Files{CertFile: certFile}, "both a certificate file and a key file")
	f(Files{CertFile: certFile, KeyFile: filepath.Join(dir, "missing.key")}, "missing.key")
	f(Files{CertFile: keyFile, KeyFile: certFile}, "load TLS certificate")
	f(Files{CertFile: certFile, KeyFile: keyFile, ClientCAFile: badCA}, "holds no PEM certificate")
}
