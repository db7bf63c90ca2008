package forward

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	grpcgzip "google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// exporter sends one OTLP export request (protobuf) of a signal to an endpoint.
type exporter interface {
	export(ctx context.Context, sig Signal, req []byte) error
	close() error
}

// sendError is a failed export: permanent ones (the endpoint refuses the data) are not
// retried; others are, no sooner than retryAfter when the endpoint said so.
type sendError struct {
	err        error
	permanent  bool
	retryAfter time.Duration
}

func (e *sendError) Error() string { return e.err.Error() }
func (e *sendError) Unwrap() error { return e.err }

// httpExporter speaks OTLP/HTTP with protobuf bodies.
type httpExporter struct {
	client  *http.Client
	urls    map[Signal]string
	headers map[string]string
	gzip    bool
}

func newHTTPExporter(o EndpointOptions) *httpExporter {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = o.TLS
	urls := map[Signal]string{}
	base := strings.TrimSuffix(o.Endpoint, "/")
	for sig, u := range map[Signal]string{SignalTraces: o.TracesURL, SignalLogs: o.LogsURL, SignalMetrics: o.MetricsURL} {
		if u == "" {
			u = base + "/v1/" + sig.String() // as the collector's otlphttp exporter does
		}
		urls[sig] = u
	}
	return &httpExporter{client: &http.Client{Transport: tr}, urls: urls, headers: o.Headers, gzip: o.Compression == "gzip"}
}

func (h *httpExporter) export(ctx context.Context, sig Signal, body []byte) error {
	if h.gzip {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = zw.Write(body)
		_ = zw.Close()
		body = buf.Bytes()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.urls[sig], bytes.NewReader(body))
	if err != nil {
		return &sendError{err: err, permanent: true}
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("User-Agent", "vigil-forward")
	if h.gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	for k, v := range h.headers {
		req.Header.Set(k, v)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return &sendError{err: err}
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	err = fmt.Errorf("POST %s: %s: %s", h.urls[sig], resp.Status, bytes.TrimSpace(msg))
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		// The retryable codes of the OTLP/HTTP specification.
		return &sendError{err: err, retryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}
	case http.StatusUnauthorized, http.StatusForbidden:
		// Not the data's fault: the queue waits for the credentials to be fixed (a reload)
		// rather than dropping what it holds.
		return &sendError{err: err}
	}
	return &sendError{err: err, permanent: true}
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

func (h *httpExporter) close() error {
	h.client.CloseIdleConnections()
	return nil
}

// grpcExporter speaks OTLP/gRPC through the collector's pdata clients.
type grpcExporter struct {
	conn    *grpc.ClientConn
	traces  ptraceotlp.GRPCClient
	logs    plogotlp.GRPCClient
	metrics pmetricotlp.GRPCClient
	md      metadata.MD
	opts    []grpc.CallOption
}

func newGRPCExporter(o EndpointOptions) (*grpcExporter, error) {
	// A URL-style endpoint says itself whether it is plaintext, as the collector's otlp
	// exporter reads it.
	target, plaintext := o.Endpoint, o.Insecure
	if rest, ok := strings.CutPrefix(target, "http://"); ok {
		target, plaintext = rest, true
	} else if rest, ok := strings.CutPrefix(target, "https://"); ok {
		target, plaintext = rest, false
	}
	target = strings.TrimSuffix(target, "/")
	creds := insecure.NewCredentials()
	if !plaintext {
		cfg := o.TLS
		if cfg == nil {
			cfg = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		creds = credentials.NewTLS(cfg)
	}
	// gRPC reconnects on its own backoff, by default up to 120 s between attempts: bound it by
	// the endpoint's retry_max_interval, so a returning endpoint gets data as soon as a retry
	// would send it.
	bo := backoff.DefaultConfig
	bo.BaseDelay = min(o.RetryInitial, bo.BaseDelay)
	bo.MaxDelay = o.RetryMax
	conn, err := grpc.NewClient(target, grpc.WithTransportCredentials(creds), grpc.WithUserAgent("vigil-forward"),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: bo, MinConnectTimeout: o.Timeout}))
	if err != nil {
		return nil, fmt.Errorf("gRPC client for %s: %w", o.Endpoint, err)
	}
	e := &grpcExporter{
		conn:    conn,
		traces:  ptraceotlp.NewGRPCClient(conn),
		logs:    plogotlp.NewGRPCClient(conn),
		metrics: pmetricotlp.NewGRPCClient(conn),
		md:      metadata.New(o.Headers),
	}
	if o.Compression == "gzip" {
		e.opts = append(e.opts, grpc.UseCompressor(grpcgzip.Name))
	}
	return e, nil
}

func (g *grpcExporter) export(ctx context.Context, sig Signal, body []byte) error {
	if len(g.md) > 0 {
		ctx = metadata.NewOutgoingContext(ctx, g.md)
	}
	var err error
	switch sig {
	case SignalTraces:
		req := ptraceotlp.NewExportRequest()
		if err = req.UnmarshalProto(body); err == nil {
			_, err = g.traces.Export(ctx, req, g.opts...)
		} else {
			return &sendError{err: fmt.Errorf("decode queued traces: %w", err), permanent: true}
		}
	case SignalLogs:
		req := plogotlp.NewExportRequest()
		if err = req.UnmarshalProto(body); err == nil {
			_, err = g.logs.Export(ctx, req, g.opts...)
		} else {
			return &sendError{err: fmt.Errorf("decode queued logs: %w", err), permanent: true}
		}
	case SignalMetrics:
		req := pmetricotlp.NewExportRequest()
		if err = req.UnmarshalProto(body); err == nil {
			_, err = g.metrics.Export(ctx, req, g.opts...)
		} else {
			return &sendError{err: fmt.Errorf("decode queued metrics: %w", err), permanent: true}
		}
	default:
		return &sendError{err: fmt.Errorf("unknown signal %d in queue", sig), permanent: true}
	}
	if err == nil {
		return nil
	}
	return grpcSendError(err)
}

// grpcSendError classifies a gRPC error as the OTLP specification does: Canceled,
// DeadlineExceeded, Aborted, OutOfRange, Unavailable and DataLoss are retried, and
// ResourceExhausted when the server sent RetryInfo; everything else is permanent, except
// Unauthenticated and PermissionDenied, retried so that a bad credential loses nothing.
func grpcSendError(err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return &sendError{err: err}
	}
	var retry time.Duration
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok && ri.GetRetryDelay() != nil {
			retry = ri.GetRetryDelay().AsDuration()
		}
	}
	switch st.Code() {
	case codes.Canceled, codes.DeadlineExceeded, codes.Aborted, codes.OutOfRange, codes.Unavailable, codes.DataLoss,
		codes.Unauthenticated, codes.PermissionDenied: // the last two: as HTTP 401 and 403
		return &sendError{err: err, retryAfter: retry}
	case codes.ResourceExhausted:
		return &sendError{err: err, retryAfter: retry, permanent: retry == 0}
	}
	return &sendError{err: err, permanent: true}
}

func (g *grpcExporter) close() error { return g.conn.Close() }

// isPermanent reports whether err is a permanent send error.
func isPermanent(err error) bool {
	var se *sendError
	return errors.As(err, &se) && se.permanent
}

func retryAfterOf(err error) time.Duration {
	var se *sendError
	if errors.As(err, &se) {
		return se.retryAfter
	}
	return 0
}
