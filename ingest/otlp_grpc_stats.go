package ingest

import (
	"context"
	"fmt"

	vmetrics "github.com/VictoriaMetrics/metrics"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
)

// grpcStats counts every OTLP gRPC call by method and status code. It is a stats handler,
// not an interceptor, because gRPC refuses an over-size message before any interceptor runs
// and those refusals must be counted too.
type grpcStats struct{ set *vmetrics.Set }

type grpcMethodKey struct{}

func (g *grpcStats) TagRPC(ctx context.Context, info *stats.RPCTagInfo) context.Context {
	return context.WithValue(ctx, grpcMethodKey{}, info.FullMethodName)
}

func (g *grpcStats) HandleRPC(ctx context.Context, s stats.RPCStats) {
	end, ok := s.(*stats.End)
	if !ok || end.IsClient() {
		return
	}
	method, _ := ctx.Value(grpcMethodKey{}).(string)
	code := status.Code(end.Error)
	if code == codes.Unimplemented {
		method = "unknown" // clients choose these names; keep them out of the labels
	}
	g.set.GetOrCreateCounter(fmt.Sprintf(`vigil_grpc_requests_total{method=%q,code=%q}`, method, code.String())).Inc()
	g.set.GetOrCreatePrometheusHistogram(fmt.Sprintf(`vigil_grpc_request_duration_seconds{method=%q}`, method)).
		Update(end.EndTime.Sub(end.BeginTime).Seconds())
}

func (g *grpcStats) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (g *grpcStats) HandleConn(context.Context, stats.ConnStats)                       {}
