package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// otlpRequest and otlpResponse are what the pdata export requests and responses of the
// three signals have in common.
type otlpRequest interface {
	UnmarshalProto([]byte) error
	UnmarshalJSON([]byte) error
}

type otlpResponse interface {
	MarshalProto() ([]byte, error)
	MarshalJSON() ([]byte, error)
}

// otlpExport describes one signal's OTLP/HTTP export for serveOTLPExport.
type otlpExport struct {
	signal   string                                                   // "metrics", "traces", "logs"
	readBody func(http.ResponseWriter, *http.Request) ([]byte, error) // bounded, decompressed
	request  otlpRequest                                              // decoded into
	consume  func(context.Context) otlpOutcome                        // stores request
	respond  func(otlpOutcome) otlpResponse                           // the partial-success answer
	log      *slog.Logger
}

// serveOTLPExport answers one OTLP/HTTP export of any signal: POST with a protobuf or JSON
// body, decoded and stored; the answer (the export response, or a google.rpc.Status on
// failure) is in the request's encoding, as the OTLP/HTTP specification asks. It returns the
// HTTP status and, when anything was rejected, why.
func serveOTLPExport(w http.ResponseWriter, r *http.Request, e otlpExport) (int, rejectReason) {
	if r.Method != http.MethodPost {
		http.Error(w, "OTLP "+e.signal+" take POST", http.StatusMethodNotAllowed)
		return http.StatusMethodNotAllowed, reasonBadRequest
	}
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mediaType != otlpProtobuf && mediaType != otlpJSON) {
		msg := fmt.Sprintf("unsupported content type %q, supported: %s, %s", r.Header.Get("Content-Type"), otlpProtobuf, otlpJSON)
		http.Error(w, msg, http.StatusUnsupportedMediaType)
		return http.StatusUnsupportedMediaType, reasonUnsupportedMedia
	}
	fail := func(httpCode int, reason rejectReason, code codes.Code, err error) (int, rejectReason) {
		writeOTLPStatus(w, mediaType, httpCode, status.New(code, err.Error()))
		return httpCode, reason
	}

	body, err := e.readBody(w, r)
	if err != nil {
		httpCode, reason := bodyErrStatus(err)
		code := codes.InvalidArgument
		if errors.Is(err, errBodyTooLarge) {
			code = codes.ResourceExhausted
		}
		return fail(httpCode, reason, code, err)
	}
	if mediaType == otlpJSON {
		err = e.request.UnmarshalJSON(body)
	} else {
		err = e.request.UnmarshalProto(body)
	}
	if err != nil {
		return fail(http.StatusBadRequest, reasonBadRequest, codes.InvalidArgument, fmt.Errorf("decode OTLP %s: %w", e.signal, err))
	}

	out := e.consume(r.Context())
	switch out.code {
	case codes.OK:
	case codes.InvalidArgument:
		return fail(http.StatusBadRequest, out.reason, out.code, out.err)
	case codes.ResourceExhausted:
		if out.retryAfter <= 0 { // too big to ever fit: not worth a retry
			return fail(http.StatusRequestEntityTooLarge, out.reason, out.code, out.err)
		}
		w.Header().Set("Retry-After", retryAfterSeconds(out.retryAfter))
		return fail(http.StatusTooManyRequests, out.reason, out.code, out.err)
	default:
		return fail(http.StatusServiceUnavailable, out.reason, out.code, out.err)
	}
	resp := e.respond(out)
	var raw []byte
	if mediaType == otlpJSON {
		raw, err = resp.MarshalJSON()
	} else {
		raw, err = resp.MarshalProto()
	}
	if err != nil { // cannot happen for these messages; the data is stored
		e.log.Error("Encode OTLP "+e.signal+" response", "err", err)
		w.WriteHeader(http.StatusOK)
		return http.StatusOK, out.reason
	}
	w.Header().Set("Content-Type", mediaType)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(raw)
	return http.StatusOK, out.reason
}
