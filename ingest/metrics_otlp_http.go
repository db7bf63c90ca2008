package ingest

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"

	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// OTLP/HTTP media types.
const (
	otlpProtobuf = "application/x-protobuf"
	otlpJSON     = "application/json"
)

// ServeHTTP serves OTLP/HTTP metrics: POST with a protobuf or JSON
// ExportMetricsServiceRequest; the answer (an ExportMetricsServiceResponse,
// or a google.rpc.Status on failure) is in the same encoding.
//
// The OTLP HTTP server normally undoes Content-Encoding: gzip and bounds the
// body before this runs; when mounted elsewhere (the main port's
// /api/v1/otlp/v1/metrics) this handler does both itself.
func (m *OTLPMetrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	code, reason := m.serveHTTP(w, r)
	m.httpSelf.request(strconv.Itoa(code))
	if reason != "" {
		m.httpSelf.rejected(reason)
	}
}

func (m *OTLPMetrics) serveHTTP(w http.ResponseWriter, r *http.Request) (int, rejectReason) {
	if r.Method != http.MethodPost {
		http.Error(w, "OTLP metrics take POST", http.StatusMethodNotAllowed)
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

	body, err := m.readOTLPBody(w, r)
	switch {
	case errors.Is(err, errBodyTooLarge):
		return fail(http.StatusRequestEntityTooLarge, reasonTooLarge, codes.InvalidArgument, err)
	case err != nil:
		return fail(http.StatusBadRequest, reasonBadRequest, codes.InvalidArgument, err)
	}
	req := pmetricotlp.NewExportRequest()
	if mediaType == otlpJSON {
		err = req.UnmarshalJSON(body)
	} else {
		err = req.UnmarshalProto(body)
	}
	if err != nil {
		return fail(http.StatusBadRequest, reasonBadRequest, codes.InvalidArgument, fmt.Errorf("decode OTLP metrics: %w", err))
	}

	out := m.consume(r.Context(), req.Metrics(), m.httpSelf)
	switch out.code {
	case codes.OK:
	case codes.InvalidArgument:
		return fail(http.StatusBadRequest, out.reason, out.code, out.err)
	default:
		return fail(http.StatusServiceUnavailable, out.reason, out.code, out.err)
	}
	resp := out.response()
	var raw []byte
	if mediaType == otlpJSON {
		raw, err = resp.MarshalJSON()
	} else {
		raw, err = resp.MarshalProto()
	}
	if err != nil { // cannot happen for this message; the data is stored
		m.log.Error("Encode OTLP metrics response", "err", err)
		w.WriteHeader(http.StatusOK)
		return http.StatusOK, out.reason
	}
	w.Header().Set("Content-Type", mediaType)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(raw)
	return http.StatusOK, out.reason
}

// readOTLPBody reads the body within MaxRequestBytes, gunzipping it when it
// is still gzip (the OTLP HTTP server may already have done so and left the
// header; a protobuf or JSON body cannot start with the gzip magic).
func (m *OTLPMetrics) readOTLPBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := readMetricsBody(w, r, m.opts.MaxRequestBytes)
	if err != nil {
		return nil, err
	}
	if r.Header.Get("Content-Encoding") != "gzip" || !bytes.HasPrefix(body, []byte{0x1f, 0x8b}) {
		return body, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("gunzip request body: %w", err)
	}
	plain, err := io.ReadAll(io.LimitReader(zr, m.opts.MaxRequestBytes+1))
	if err != nil {
		return nil, fmt.Errorf("gunzip request body: %w", err)
	}
	if int64(len(plain)) > m.opts.MaxRequestBytes {
		return nil, fmt.Errorf("%w: decompressed body over %d bytes", errBodyTooLarge, m.opts.MaxRequestBytes)
	}
	return plain, nil
}

// writeOTLPStatus answers a failed OTLP/HTTP request with a google.rpc.Status
// in the request's encoding, as the OTLP/HTTP spec asks.
func writeOTLPStatus(w http.ResponseWriter, mediaType string, httpCode int, st *status.Status) {
	var (
		raw []byte
		err error
	)
	if mediaType == otlpJSON {
		raw, err = protojson.Marshal(st.Proto())
	} else {
		raw, err = proto.Marshal(st.Proto())
	}
	if err != nil {
		http.Error(w, st.Message(), httpCode)
		return
	}
	w.Header().Set("Content-Type", mediaType)
	w.WriteHeader(httpCode)
	_, _ = w.Write(raw)
}
