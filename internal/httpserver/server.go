package httpserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// Server is one HTTP listener.
type Server struct {
	name string
	srv  *http.Server
	log  *slog.Logger
	ln   atomic.Pointer[net.Listener] // set by Start; read by Addr from any goroutine
	errc chan error
}

// UseTLS makes the server speak TLS (HTTP/1.1 and HTTP/2) with cfg, whose certificates may come
// from GetCertificate or GetConfigForClient. Call it before Start.
func (s *Server) UseTLS(cfg *tls.Config) { s.srv.TLSConfig = cfg }

// New returns a server for addr that is not listening yet. name labels its metrics and logs.
func New(name, addr string, h http.Handler, log *slog.Logger) *Server {
	return &Server{
		name: name,
		log:  log,
		errc: make(chan error, 1),
		srv: &http.Server{
			Addr:              addr,
			Handler:           h,
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
	}
}

// Start binds the address and serves in the background. A failure to bind is returned here;
// a later failure of the serving loop arrives on Err.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.srv.Addr)
	if err != nil {
		return fmt.Errorf("listen %s on %s: %w", s.name, s.srv.Addr, err)
	}
	s.ln.Store(&ln)
	s.log.Info("listening", "server", s.name, "addr", ln.Addr().String())
	serve := s.srv.Serve
	if s.srv.TLSConfig != nil {
		// The certificate comes from the config: no files to name here.
		serve = func(ln net.Listener) error { return s.srv.ServeTLS(ln, "", "") }
	}
	go func() {
		if err := serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.errc <- fmt.Errorf("serve %s: %w", s.name, err)
		}
		close(s.errc)
	}()
	return nil
}

// Addr is the bound address (useful with port 0). Nil before Start.
func (s *Server) Addr() net.Addr {
	ln := s.ln.Load()
	if ln == nil {
		return nil
	}
	return (*ln).Addr()
}

// Err delivers an error if the serving loop fails, and is closed when it ends.
func (s *Server) Err() <-chan error { return s.errc }

// Shutdown stops accepting, waits for in-flight requests until ctx ends, then closes what is left.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.ln.Load() == nil {
		return nil
	}
	if err := s.srv.Shutdown(ctx); err != nil {
		_ = s.srv.Close()
		return fmt.Errorf("shut down %s: %w", s.name, err)
	}
	return nil
}
