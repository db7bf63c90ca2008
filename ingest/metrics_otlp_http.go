package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
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
	req := pmetricotlp.NewExportRequest()
	return serveOTLPExport(w, r, otlpExport{
		signal:   "metrics",
		readBody: m.readOTLPBody,
		request:  req,
		consume:  func(ctx context.Context) otlpOutcome { return m.consume(ctx, req.Metrics(), m.httpSelf) },
		respond:  func(o otlpOutcome) otlpResponse { return o.response() },
		log:      m.log,
	})
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
