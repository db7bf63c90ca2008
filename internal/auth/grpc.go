package auth

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// GRPCServerOptions returns interceptors that require scope need of every call (unary and
// streaming) on a gRPC server, reading metadata "authorization: Bearer <token>" (or Basic).
// Missing or unknown credentials fail with Unauthenticated, a valid one without the scope with
// PermissionDenied. listener labels the refusals.
func (a *Authenticator) GRPCServerOptions(listener string, need Scope) []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			ctx, err := a.checkGRPC(ctx, listener, need, info.FullMethod)
			if err != nil {
				return nil, err
			}
			return h(ctx, req)
		}),
		grpc.ChainStreamInterceptor(func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			ctx, err := a.checkGRPC(ss.Context(), listener, need, info.FullMethod)
			if err != nil {
				return err
			}
			return h(srv, &identityStream{ServerStream: ss, ctx: ctx})
		}),
	}
}

func (a *Authenticator) checkGRPC(ctx context.Context, listener string, need Scope, method string) (context.Context, error) {
	creds := a.creds.Load()
	if creds.empty() {
		return ctx, nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	vals := md.Get("authorization")
	if len(vals) == 0 {
		a.refused(listener, ReasonMissing, method, "")
		return nil, status.Error(codes.Unauthenticated, "missing credentials: send metadata authorization: Bearer <token>")
	}
	id, ok := creds.authorization(vals[0])
	if !ok {
		a.refused(listener, ReasonBad, method, "")
		return nil, status.Error(codes.Unauthenticated, "the credentials sent match no configured token or user")
	}
	if !id.Scopes.Has(need) {
		a.refused(listener, ReasonScope, method, id.Name)
		return nil, status.Errorf(codes.PermissionDenied, "%q may not do this: it needs scope %s and has %s", id.Name, need, id.Scopes)
	}
	return withIdentity(ctx, id), nil
}

type identityStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *identityStream) Context() context.Context { return s.ctx }
