package ingest

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	vmetrics "github.com/VictoriaMetrics/metrics"
	"golang.org/x/sync/semaphore"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

// AdmissionOptions sizes the ingest admission gate.
type AdmissionOptions struct {
	// Capacity is the memory, in bytes, that ingest requests in flight may hold at once,
	// across every protocol and listener: their bodies, decompressed, and what decoding them
	// builds. It is what keeps a burst from growing the process until it is killed.
	Capacity int64
	// MaxWait is how long a request waits for room before it is refused with 429 /
	// ResourceExhausted. A short wait absorbs jitter; a long one would only move the queue
	// into the clients' connections.
	MaxWait time.Duration
	// RetryAfter is what the refusal tells the client to wait (Retry-After, gRPC RetryInfo).
	RetryAfter time.Duration
	// Refuse, if set, is asked before every request; an error refuses it with 503 and
	// Retry-After (gRPC Unavailable), both retried by every client, and the error's text.
	// Vigil refuses this way while its data disk is nearly full.
	Refuse func() error
}

// DefaultAdmissionOptions returns the gate used when only a capacity is configured.
func DefaultAdmissionOptions(capacity int64) AdmissionOptions {
	return AdmissionOptions{Capacity: capacity, MaxWait: time.Second, RetryAfter: 2 * time.Second}
}

// Admission bounds the memory held by ingest requests in flight. Each request reserves an
// estimate of what it will hold (see weigh) before its body is read and releases it when the
// handler returns; when the reservation does not fit within MaxWait, the request is refused
// with 429 and Retry-After over HTTP, or ResourceExhausted with RetryInfo over gRPC — the
// answers Prometheus's remote_write and the OpenTelemetry exporters back off and retry on
// (an OTLP exporter retries ResourceExhausted only when RetryInfo is present).
//
// Nothing is lost: a refused request was never read, so the client still holds it. Safe for
// concurrent use.
type Admission struct {
	opts  AdmissionOptions
	sem   *semaphore.Weighted
	set   *vmetrics.Set
	inUse atomic.Int64
}

// NewAdmission returns a gate of opts.Capacity bytes; its use and refusals are counted in set
// (vigil_ingest_admission_*).
func NewAdmission(opts AdmissionOptions, set *vmetrics.Set) (*Admission, error) {
	if opts.Capacity <= 0 {
		return nil, fmt.Errorf("ingest admission: capacity must be positive, got %d", opts.Capacity)
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = time.Second
	}
	a := &Admission{opts: opts, sem: semaphore.NewWeighted(opts.Capacity), set: set}
	set.GetOrCreateGauge("vigil_ingest_admission_capacity_bytes", func() float64 { return float64(opts.Capacity) })
	set.GetOrCreateGauge("vigil_ingest_admission_in_use_bytes", func() float64 { return float64(a.inUse.Load()) })
	return a, nil
}

// acquire reserves n bytes (capped at the capacity, so one maximal request always fits an
// idle gate). It returns the release function, or ok=false when no room came within MaxWait
// or before ctx ended.
func (a *Admission) acquire(ctx context.Context, n int64) (release func(), ok bool) {
	n = max(1, min(n, a.opts.Capacity))
	if !a.sem.TryAcquire(n) {
		if a.opts.MaxWait <= 0 {
			return nil, false
		}
		wctx, cancel := context.WithTimeout(ctx, a.opts.MaxWait)
		err := a.sem.Acquire(wctx, n)
		cancel()
		if err != nil {
			return nil, false
		}
	}
	a.inUse.Add(n)
	return func() {
		a.inUse.Add(-n)
		a.sem.Release(n)
	}, true
}

// refused counts one request turned away by the gate; reason is "memory" or "disk".
func (a *Admission) refused(protocol, reason string) {
	a.set.GetOrCreateCounter(fmt.Sprintf(`vigil_ingest_admission_refused_total{protocol=%q,reason=%q}`, protocol, reason)).Inc()
}

// refuseUnavailable is Refuse's verdict, nil when it is not set.
func (a *Admission) refuseUnavailable() error {
	if a.opts.Refuse == nil {
		return nil
	}
	return a.opts.Refuse()
}

// diskRetryAfter is what a client refused for a full disk is told to wait: space comes back
// when someone frees it or retention runs, not within a second.
const diskRetryAfter = 30 * time.Second

// HTTP wraps an ingest handler whose decompressed body may reach limit bytes. protocol names
// the endpoint in the refusal counter (e.g. "remote_write", "otlp_http").
func (a *Admission) HTTP(protocol string, limit int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			next.ServeHTTP(w, r) // handshakes (the /es version probe) carry no body
			return
		}
		if err := a.refuseUnavailable(); err != nil {
			a.refused(protocol, "disk")
			w.Header().Set("Retry-After", retryAfterSeconds(diskRetryAfter))
			if isOTLPPath(r) {
				WriteOTLPHTTPError(w, r, http.StatusServiceUnavailable, err.Error())
				return
			}
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		release, ok := a.acquire(r.Context(), weighHTTP(r, limit))
		if !ok {
			a.refused(protocol, "memory")
			secs := retryAfterSeconds(a.opts.RetryAfter)
			w.Header().Set("Retry-After", secs)
			msg := "ingest is at its memory limit: retry after " + secs + "s"
			if isOTLPPath(r) {
				WriteOTLPHTTPError(w, r, http.StatusTooManyRequests, msg)
				return
			}
			http.Error(w, msg, http.StatusTooManyRequests)
			return
		}
		defer release()
		next.ServeHTTP(w, r)
	})
}

// UnaryServerInterceptor gates OTLP gRPC exports. gRPC has already decoded the message, so
// the gate bounds what converting and storing it holds, and the number of decoded requests
// alive at once; grpc.MaxRecvMsgSize bounds each one.
func (a *Admission) UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		var n int64 = 1
		if m, ok := req.(proto.Message); ok {
			n = int64(proto.Size(m)) * decodedExpansion
		} else if s, ok := req.(interface{ Size() int }); ok {
			n = int64(s.Size()) * decodedExpansion
		}
		if err := a.refuseUnavailable(); err != nil {
			a.refused("otlp_grpc", "disk")
			return nil, status.Error(codes.Unavailable, err.Error())
		}
		release, ok := a.acquire(ctx, n)
		if !ok {
			a.refused("otlp_grpc", "memory")
			return nil, a.grpcRefusal()
		}
		defer release()
		return handler(ctx, req)
	}
}

func (a *Admission) grpcRefusal() error {
	return retryLater("ingest is at its memory limit: retry later", a.opts.RetryAfter)
}

// retryLater is a ResourceExhausted status carrying RetryInfo: OpenTelemetry exporters retry
// ResourceExhausted only when the server says when.
func retryLater(msg string, after time.Duration) error {
	st := status.New(codes.ResourceExhausted, msg)
	if d, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(after)}); err == nil {
		st = d
	}
	return st.Err()
}

// retryAfterSeconds is a Retry-After header value.
func retryAfterSeconds(d time.Duration) string {
	return strconv.Itoa(int(max(1, d.Round(time.Second)/time.Second)))
}

// decodedExpansion estimates how much more memory a request holds once decoded and converted
// than its wire bytes: protobuf and JSON decode into Go values several times their size (with
// 4, bench/overload's 768 concurrent senders took a 1 GiB-limited Vigil to 1.4 GiB RSS; with
// 8, to 0.9 GiB).
const decodedExpansion = 8

// weighHTTP estimates what a request will hold: its declared length times the decode
// expansion (more when compressed, since the body inflates first), never more than a maximal
// request, and a maximal request when the length is unknown (chunked).
func weighHTTP(r *http.Request, limit int64) int64 {
	if r.ContentLength < 0 {
		return limit
	}
	n := r.ContentLength * decodedExpansion
	if enc := r.Header.Get("Content-Encoding"); enc != "" && enc != "identity" {
		// gzip, zstd or snappy (remote write is always snappy): text and protobuf telemetry
		// compress about 5-10x.
		n *= 8
	}
	return min(max(n, 64<<10), limit*decodedExpansion)
}

// isOTLPPath tells OTLP/HTTP requests, which are answered with a google.rpc.Status body.
func isOTLPPath(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/v1/") || strings.HasSuffix(r.URL.Path, "/otlp/v1/metrics")
}
