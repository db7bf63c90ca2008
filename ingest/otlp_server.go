package ingest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"

	vmetrics "github.com/VictoriaMetrics/metrics"
	"github.com/go-chi/chi/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	_ "google.golang.org/grpc/encoding/gzip" // registers the gzip compressor OTLP exporters use

	"github.com/vigilhq/vigil/internal/httpserver"
)

// OTLPOptions configures the OTLP listeners.
type OTLPOptions struct {
	GRPCAddr string // e.g. 127.0.0.1:4317
	HTTPAddr string // e.g. 127.0.0.1:4318
	// MaxRequestBytes bounds one request, both as sent and once decompressed.
	MaxRequestBytes int64
	// TLS, when set, serves both listeners over TLS; its certificates may change between
	// handshakes (GetConfigForClient).
	TLS *tls.Config
	// GRPCServerOptions are added to the gRPC server's (authentication interceptors).
	GRPCServerOptions []grpc.ServerOption
	// HTTPMiddleware wraps every OTLP/HTTP request, inside the request metrics (authentication).
	HTTPMiddleware []func(http.Handler) http.Handler
}

// DefaultOTLPOptions returns the documented defaults.
func DefaultOTLPOptions() OTLPOptions {
	return OTLPOptions{
		GRPCAddr:        "127.0.0.1:4317",
		HTTPAddr:        "127.0.0.1:4318",
		MaxRequestBytes: 32 << 20,
	}
}

// Validate reports the first option that cannot work.
func (o OTLPOptions) Validate() error {
	if o.MaxRequestBytes <= 0 {
		return errors.New("max request bytes must be positive")
	}
	return nil
}

// OTLPServer owns the OTLP gRPC and HTTP listeners that every signal shares. Register the
// signal services (GRPC, HandleHTTP) before Start.
type OTLPServer struct {
	opts   OTLPOptions
	log    *slog.Logger
	set    *vmetrics.Set
	grpc   *grpc.Server
	router chi.Router
	http   *httpserver.Server
	grpcLn atomic.Pointer[net.Listener] // set by Start; read by GRPCAddr from any goroutine
	failed chan error
}

// NewOTLPServer returns the servers, not yet listening.
func NewOTLPServer(opts OTLPOptions, set *vmetrics.Set, log *slog.Logger) *OTLPServer {
	s := &OTLPServer{opts: opts, log: log, set: set, failed: make(chan error, 2)}
	grpcOpts := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(int(opts.MaxRequestBytes)),
		grpc.StatsHandler(&grpcStats{set: set}),
	}
	if opts.TLS != nil {
		grpcOpts = append(grpcOpts, grpc.Creds(credentials.NewTLS(opts.TLS)))
	}
	s.grpc = grpc.NewServer(append(grpcOpts, opts.GRPCServerOptions...)...)
	r := chi.NewRouter()
	r.Use(httpserver.Instrument("otlp_http", set))
	r.Use(opts.HTTPMiddleware...)
	s.router = r
	s.http = httpserver.New("otlp_http", opts.HTTPAddr, r, log)
	if opts.TLS != nil {
		s.http.UseTLS(opts.TLS)
	}
	return s
}

// GRPC is the gRPC server on which signal services register (e.g. ptraceotlp.RegisterGRPCServer).
func (s *OTLPServer) GRPC() *grpc.Server { return s.grpc }

// HandleHTTP serves POST path (e.g. "/v1/traces") for signal. h reads an r.Body that is already
// decompressed and at most MaxRequestBytes long; it may not keep r.Body after it returns.
func (s *OTLPServer) HandleHTTP(signal, path string, h http.Handler) {
	s.router.With(otlpBody(signal, s.opts.MaxRequestBytes, s.set)).Post(path, h.ServeHTTP)
}

// Start binds both listeners and serves in the background.
func (s *OTLPServer) Start(context.Context) error {
	ln, err := net.Listen("tcp", s.opts.GRPCAddr)
	if err != nil {
		return fmt.Errorf("listen otlp_grpc on %s: %w", s.opts.GRPCAddr, err)
	}
	if err := s.http.Start(); err != nil {
		ln.Close()
		return err
	}
	s.grpcLn.Store(&ln)
	s.log.Info("listening", "server", "otlp_grpc", "addr", ln.Addr().String())
	go func() {
		if err := s.grpc.Serve(ln); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			s.failed <- fmt.Errorf("serve otlp_grpc: %w", err)
		}
	}()
	go func() {
		for err := range s.http.Err() {
			s.failed <- err
		}
	}()
	return nil
}

// Failed reports a listener that died after Start.
func (s *OTLPServer) Failed() <-chan error { return s.failed }

// GRPCAddr and HTTPAddr are the bound addresses (useful with port 0); nil before Start.
func (s *OTLPServer) GRPCAddr() net.Addr {
	ln := s.grpcLn.Load()
	if ln == nil {
		return nil
	}
	return (*ln).Addr()
}

// HTTPAddr is the bound OTLP/HTTP address; nil before Start.
func (s *OTLPServer) HTTPAddr() net.Addr { return s.http.Addr() }

// Stop stops accepting and lets in-flight exports finish until ctx ends; then it cuts them off.
func (s *OTLPServer) Stop(ctx context.Context) error {
	if s.grpcLn.Load() == nil {
		return nil
	}
	httpErr := s.http.Shutdown(ctx)
	done := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		s.grpc.Stop()
		<-done
		return errors.Join(httpErr, fmt.Errorf("stop otlp_grpc: in-flight exports cut off: %w", ctx.Err()))
	}
	return httpErr
}
