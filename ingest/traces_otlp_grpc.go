package ingest

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// RegisterGRPC serves the OTLP TraceService on s. Unlike ptraceotlp.RegisterGRPCServer it
// decodes the request itself (tracesRequest), so a span with an id of the wrong length is
// rejected alone instead of failing the request.
//
// The request and response types implement the methods pdata's gRPC codec looks for
// (SizeProto, MarshalProto, UnmarshalProto); that codec replaces gRPC's "proto" codec
// when pdata's ptraceotlp package is linked, as it is here.
func (t *OTLPTraces) RegisterGRPC(s *grpc.Server) {
	s.RegisterService(&tracesServiceDesc, t)
}

// tracesService is the HandlerType of tracesServiceDesc.
type tracesService interface {
	exportGRPC(context.Context, *grpcTracesRequest) (*grpcTracesResponse, error)
}

var tracesServiceDesc = grpc.ServiceDesc{
	ServiceName: "opentelemetry.proto.collector.trace.v1.TraceService",
	HandlerType: (*tracesService)(nil),
	Methods:     []grpc.MethodDesc{{MethodName: "Export", Handler: exportTracesHandler}},
	Streams:     []grpc.StreamDesc{},
	Metadata:    "opentelemetry/proto/collector/trace/v1/trace_service.proto",
}

func exportTracesHandler(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
	t := srv.(*OTLPTraces)
	in := &grpcTracesRequest{r: newTracesRequest(t.newCheck())}
	if err := dec(in); err != nil {
		return nil, err
	}
	if interceptor == nil {
		return t.exportGRPC(ctx, in)
	}
	info := &grpc.UnaryServerInfo{Server: srv, FullMethod: "/opentelemetry.proto.collector.trace.v1.TraceService/Export"}
	return interceptor(ctx, in, info, func(ctx context.Context, req any) (any, error) {
		return t.exportGRPC(ctx, req.(*grpcTracesRequest))
	})
}

func (t *OTLPTraces) exportGRPC(ctx context.Context, in *grpcTracesRequest) (*grpcTracesResponse, error) {
	if in.err != nil {
		t.grpcSelf.request(codes.InvalidArgument.String())
		t.grpcSelf.rejected(reasonBadRequest)
		return nil, status.Errorf(codes.InvalidArgument, "decode OTLP traces: %v", in.err)
	}
	resp, err := t.answerGRPC(t.consumeRequest(ctx, in.r, t.grpcSelf))
	if err != nil {
		return nil, err
	}
	b, err := resp.MarshalProto()
	if err != nil {
		return nil, status.Errorf(codes.Internal, "encode OTLP traces response: %v", err)
	}
	return &grpcTracesResponse{b: b}, nil
}

// grpcTracesRequest is the Export request as the gRPC codec sees it. A request that does
// not decode is answered InvalidArgument by exportGRPC (a codec error would be Internal).
type grpcTracesRequest struct {
	r   *tracesRequest
	err error
}

func (g *grpcTracesRequest) UnmarshalProto(b []byte) error {
	g.err = g.r.UnmarshalProto(b)
	return nil
}

func (g *grpcTracesRequest) SizeProto() int          { return 0 }
func (g *grpcTracesRequest) MarshalProto([]byte) int { return 0 }

// grpcTracesResponse is an encoded ExportTraceServiceResponse.
type grpcTracesResponse struct{ b []byte }

func (g *grpcTracesResponse) SizeProto() int            { return len(g.b) }
func (g *grpcTracesResponse) MarshalProto(p []byte) int { return copy(p, g.b) }
func (g *grpcTracesResponse) UnmarshalProto(b []byte) error {
	g.b = append(g.b[:0], b...)
	return nil
}
