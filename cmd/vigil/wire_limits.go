package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"

	"github.com/vigilhq/vigil/ingest"
	"github.com/vigilhq/vigil/internal/diskspace"
	"github.com/vigilhq/vigil/internal/httpserver"
	"github.com/vigilhq/vigil/internal/lifecycle"
	"github.com/vigilhq/vigil/internal/memlimit"
)

// newAdmission applies memory_limit to the Go runtime and returns the ingest admission gate
// sized from it: a quarter of the limit for requests in flight, the rest for the stores'
// heads, caches and queries. The runtime limit is process-wide by nature; it is set once, at
// start (memory_limit needs a restart to change). The gate also refuses writes while the data
// disk has less than min_free_disk free, watched by a component started first.
func (a *app) newAdmission(cfg Config) (*ingest.Admission, error) {
	set, log := a.set, a.log
	disk, err := diskspace.New(cfg.DataDir, uint64(cfg.MinFreeDisk), time.Second, log.With("component", "disk-space"))
	if err != nil {
		return nil, fmt.Errorf("min_free_disk: %w", err)
	}
	set.GetOrCreateGauge("vigil_data_disk_free_bytes", func() float64 { return float64(disk.Free()) })
	var stop context.CancelFunc
	done := make(chan struct{})
	a.mgr.Add(lifecycle.Component{Name: "disk-space",
		Start: func(context.Context) error {
			var ctx context.Context
			ctx, stop = context.WithCancel(context.Background())
			go func() { defer close(done); disk.Run(ctx) }()
			return nil
		},
		Stop: func(context.Context) error { stop(); <-done; return nil },
	})
	configured, err := cfg.memoryLimitBytes()
	if err != nil {
		return nil, err
	}
	limit, source, err := memlimit.Resolve(configured, os.Getenv, "/")
	if err != nil {
		return nil, fmt.Errorf("memory_limit: %w", err)
	}
	// memory_limit is meant for the whole process (what the kernel's OOM killer counts), but
	// the Go runtime's limit covers only Go's own memory: pebble's memtables (up to 4 × 64 MiB)
	// live outside it, and the stores' mapped files count in RSS too. The runtime gets 75%.
	goLimit := limit / 4 * 3
	memlimit.Apply(goLimit)
	set.GetOrCreateGauge("vigil_memory_limit_bytes", func() float64 { return float64(limit) })
	log.Info("memory limit", "bytes", limit, "source", string(source), "go_runtime_bytes", goLimit, "ingest_in_flight_bytes", limit/4)
	opts := ingest.DefaultAdmissionOptions(limit / 4)
	opts.Refuse = disk.Refuse
	return ingest.NewAdmission(opts, set)
}

// admit gates an ingest route on the main listener whose bodies may reach limit bytes.
func (a *app) admit(protocol string, limit int64, h http.Handler) http.Handler {
	return a.admission.HTTP(protocol, limit, h)
}

// otlpGRPCStreamsPerConn bounds the OTLP export calls one gRPC connection has in flight.
// An OpenTelemetry exporter sends one export at a time per connection by default; a collector
// with a sending queue a few (its num_consumers, 10 by default).
const otlpGRPCStreamsPerConn = 16

// admitOTLP gates both OTLP listeners, after authentication (an unauthenticated call must not
// take room from the others).
func (a *app) admitOTLP(o *ingest.OTLPOptions) {
	// gRPC decodes a whole message before any interceptor sees it, so the gate alone would let
	// every stream a client opens be decoded first: bound the streams per connection so the
	// rest wait in HTTP/2 flow control, unread.
	o.GRPCServerOptions = append(o.GRPCServerOptions, grpc.ChainUnaryInterceptor(a.admission.UnaryServerInterceptor()),
		grpc.MaxConcurrentStreams(otlpGRPCStreamsPerConn))
	o.HTTPMiddleware = append(o.HTTPMiddleware, func(next http.Handler) http.Handler {
		return a.admission.HTTP("otlp_http", o.MaxRequestBytes, next)
	})
}

// logQueries bounds the log query API by logs.query_timeout and logs.query_max_concurrency;
// live tails, which stream for as long as the client stays, are not counted.
func (a *app) logQueries(h http.Handler) http.Handler {
	c := a.cfg.Logs
	return httpserver.Limit("logs", c.QueryMaxConcurrency, time.Duration(c.QueryTimeout), a.set, func(r *http.Request) bool {
		return strings.HasSuffix(r.URL.Path, "/tail")
	})(h)
}

// traceQueries bounds the trace query APIs by traces.query_timeout and
// traces.query_max_concurrency.
func (a *app) traceQueries(h http.Handler) http.Handler {
	c := a.cfg.Traces
	return httpserver.Limit("traces", c.QueryMaxConcurrency, time.Duration(c.QueryTimeout), a.set, nil)(h)
}
