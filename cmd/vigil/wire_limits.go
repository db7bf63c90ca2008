package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"

	vmetrics "github.com/VictoriaMetrics/metrics"
	"google.golang.org/grpc"

	"github.com/vigilhq/vigil/ingest"
	"github.com/vigilhq/vigil/internal/memlimit"
)

// newAdmission applies memory_limit to the Go runtime and returns the ingest admission gate
// sized from it: a quarter of the limit for requests in flight, the rest for the stores'
// heads, caches and queries. The runtime limit is process-wide by nature; it is set once, at
// start (memory_limit needs a restart to change).
func newAdmission(cfg Config, set *vmetrics.Set, log *slog.Logger) (*ingest.Admission, error) {
	configured, err := cfg.memoryLimitBytes()
	if err != nil {
		return nil, err
	}
	limit, source, err := memlimit.Resolve(configured, os.Getenv, "/")
	if err != nil {
		return nil, fmt.Errorf("memory_limit: %w", err)
	}
	memlimit.Apply(limit)
	set.GetOrCreateGauge("vigil_memory_limit_bytes", func() float64 { return float64(limit) })
	log.Info("memory limit", "bytes", limit, "source", string(source), "ingest_in_flight_bytes", limit/4)
	return ingest.NewAdmission(ingest.DefaultAdmissionOptions(limit/4), set)
}

// admit gates an ingest route on the main listener whose bodies may reach limit bytes.
func (a *app) admit(protocol string, limit int64, h http.Handler) http.Handler {
	return a.admission.HTTP(protocol, limit, h)
}

// admitOTLP gates both OTLP listeners, after authentication (an unauthenticated call must not
// take room from the others).
func (a *app) admitOTLP(o *ingest.OTLPOptions) {
	o.GRPCServerOptions = append(o.GRPCServerOptions, grpc.ChainUnaryInterceptor(a.admission.UnaryServerInterceptor()))
	o.HTTPMiddleware = append(o.HTTPMiddleware, func(next http.Handler) http.Handler {
		return a.admission.HTTP("otlp_http", o.MaxRequestBytes, next)
	})
}
