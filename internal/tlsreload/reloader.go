package tlsreload

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	vmetrics "github.com/VictoriaMetrics/metrics"
)

// Files names the PEM files of a server's TLS identity.
type Files struct {
	CertFile string // certificate chain, leaf first
	KeyFile  string
	// ClientCAFile, when set, turns on mutual TLS: every client must present a certificate
	// that chains to one of these CAs.
	ClientCAFile string
}

// Options tunes a Reloader.
type Options struct {
	// CheckInterval is the least time between two looks at the files' modification times.
	CheckInterval time.Duration
	// ExtraClientCAs are trusted for client certificates besides those of ClientCAFile
	// (Vigil's own in-memory CA, for its self-scrape under mutual TLS).
	ExtraClientCAs []*x509.Certificate
}

// DefaultOptions returns the documented defaults.
func DefaultOptions() Options { return Options{CheckInterval: 2 * time.Second} }

// Reloader holds the current TLS configuration built from Files. Safe for concurrent use.
type Reloader struct {
	files Files
	opts  Options
	log   *slog.Logger
	set   *vmetrics.Set

	cur       atomic.Pointer[loaded]
	mu        sync.Mutex // serialises loads
	lastCheck atomic.Int64
	seen      [3]stamp // of the files as last tried, loaded or not
}

// loaded is one consistent generation of the files.
type loaded struct {
	cfg      *tls.Config
	notAfter time.Time
}

// stamp tells whether a file changed since it was read.
type stamp struct {
	mod  time.Time
	size int64
}

// New loads the files; a failure here is the caller's configuration error.
func New(files Files, opts Options, set *vmetrics.Set, log *slog.Logger) (*Reloader, error) {
	if files.CertFile == "" || files.KeyFile == "" {
		return nil, errors.New("tls: both a certificate file and a key file are needed")
	}
	r := &Reloader{files: files, opts: opts, set: set, log: log}
	if err := r.Reload(); err != nil {
		return nil, err
	}
	set.NewGauge("vigil_tls_certificate_not_after_timestamp_seconds", func() float64 {
		return float64(r.cur.Load().notAfter.Unix())
	})
	return r, nil
}

// ServerConfig is the configuration for a listener: every handshake gets the current
// certificate and client CAs.
func (r *Reloader) ServerConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			r.maybeReload()
			return r.cur.Load().cfg, nil
		},
	}
}

// Reload re-reads the files now. On error the previous configuration stays in service.
func (r *Reloader) Reload() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lastCheck.Store(time.Now().UnixNano())
	return r.loadLocked()
}

// maybeReload reloads if CheckInterval has passed since the last look and a file changed.
func (r *Reloader) maybeReload() {
	last := r.lastCheck.Load()
	now := time.Now().UnixNano()
	if now-last < int64(r.opts.CheckInterval) || !r.lastCheck.CompareAndSwap(last, now) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	stamps, err := r.stamps()
	if err != nil || stamps == r.seen {
		return // a missing file mid-renewal: keep serving, look again later
	}
	if err := r.loadLocked(); err != nil {
		r.log.Warn("TLS files changed but do not load; still serving the previous certificate", "err", err)
	}
}

func (r *Reloader) stamps() ([3]stamp, error) {
	var out [3]stamp
	for i, f := range []string{r.files.CertFile, r.files.KeyFile, r.files.ClientCAFile} {
		if f == "" {
			continue
		}
		st, err := os.Stat(f)
		if err != nil {
			return out, err
		}
		out[i] = stamp{st.ModTime(), st.Size()}
	}
	return out, nil
}

func (r *Reloader) loadLocked() error {
	stamps, err := r.stamps()
	if err == nil {
		r.seen = stamps
	}
	l, err := load(r.files, r.opts.ExtraClientCAs)
	if err != nil {
		r.set.GetOrCreateCounter(`vigil_tls_reloads_total{result="failure"}`).Inc()
		return err
	}
	prev := r.cur.Swap(l)
	r.set.GetOrCreateCounter(`vigil_tls_reloads_total{result="success"}`).Inc()
	if prev != nil {
		r.log.Info("TLS certificate reloaded", "cert_file", r.files.CertFile, "not_after", l.notAfter)
	}
	return nil
}

func load(f Files, extraCAs []*x509.Certificate) (*loaded, error) {
	cert, err := tls.LoadX509KeyPair(f.CertFile, f.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate %s and key %s: %w", f.CertFile, f.KeyFile, err)
	}
	cfg := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		NextProtos:   []string{"h2", "http/1.1"},
	}
	if f.ClientCAFile != "" {
		pem, err := os.ReadFile(f.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("read client CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("client CA file %s holds no PEM certificate", f.ClientCAFile)
		}
		for _, c := range extraCAs {
			pool.AddCert(c)
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return &loaded{cfg: cfg, notAfter: cert.Leaf.NotAfter}, nil
}
