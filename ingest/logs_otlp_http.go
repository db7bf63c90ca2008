package ingest

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ServeHTTP serves OTLP/HTTP logs: POST with a protobuf or JSON ExportLogsServiceRequest; the
// answer (an ExportLogsServiceResponse, or a google.rpc.Status on failure) is in the same
// encoding. Behind OTLPServer.HandleHTTP the body arrives decompressed and bounded; mounted
// elsewhere this handler undoes gzip/zstd and bounds the body itself.
func (l *OTLPLogs) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	code, reason := l.serveHTTP(w, r)
	l.httpSelf.request(strconv.Itoa(code))
	if reason != "" {
		l.httpSelf.rejected(reason)
	}
}

func (l *OTLPLogs) serveHTTP(w http.ResponseWriter, r *http.Request) (int, rejectReason) {
	if r.Method != http.MethodPost {
		http.Error(w, "OTLP logs take POST", http.StatusMethodNotAllowed)
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
	body, err := readLogsBody(w, r, l.opts.MaxRequestBytes)
	if err != nil {
		httpCode, reason := bodyErrStatus(err)
		code := codes.InvalidArgument
		if errors.Is(err, errBodyTooLarge) {
			code = codes.ResourceExhausted
		}
		return fail(httpCode, reason, code, err)
	}
	req := plogotlp.NewExportRequest()
	if mediaType == otlpJSON {
		err = req.UnmarshalJSON(body)
	} else {
		err = req.UnmarshalProto(body)
	}
	if err != nil {
		return fail(http.StatusBadRequest, reasonBadRequest, codes.InvalidArgument, fmt.Errorf("decode OTLP logs: %w", err))
	}
	out := l.consume(r.Context(), req.Logs(), l.httpSelf)
	switch out.code {
	case codes.OK:
	case codes.InvalidArgument:
		return fail(http.StatusBadRequest, out.reason, out.code, out.err)
	default:
		return fail(http.StatusServiceUnavailable, out.reason, out.code, out.err)
	}
	resp := logsExportResponse(out)
	var raw []byte
	if mediaType == otlpJSON {
		raw, err = resp.MarshalJSON()
	} else {
		raw, err = resp.MarshalProto()
	}
	if err != nil { // cannot happen for this message; the data is stored
		l.log.Error("Encode OTLP logs response", "err", err)
		w.WriteHeader(http.StatusOK)
		return http.StatusOK, out.reason
	}
	w.Header().Set("Content-Type", mediaType)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(raw)
	return http.StatusOK, out.reason
}
