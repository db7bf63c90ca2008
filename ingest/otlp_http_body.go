package ingest

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	vmetrics "github.com/VictoriaMetrics/metrics"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// OTLPHTTPBody is the body handling of the OTLP/HTTP listener, for an OTLP route served
// elsewhere (Prometheus's /api/v1/otlp/v1/metrics on the main port).
func OTLPHTTPBody(signal string, limit int64, set *vmetrics.Set) func(http.Handler) http.Handler {
	return otlpBody(signal, limit, set)
}

// otlpBody is middleware for OTLP/HTTP routes: it undoes Content-Encoding, enforces the size
// limit on both the wire bytes and the decompressed bytes (a small gzip bomb must not expand
// past the limit), and hands the handler the whole body in memory. Refusals are answered in
// the OTLP/HTTP error shape and counted by reason.
func otlpBody(signal string, limit int64, set *vmetrics.Set) func(http.Handler) http.Handler {
	reject := func(w http.ResponseWriter, r *http.Request, code int, reason, msg string) {
		set.GetOrCreateCounter(fmt.Sprintf(`vigil_ingest_rejected_total{signal=%q,protocol="otlp_http",reason=%q}`, signal, reason)).Inc()
		WriteOTLPHTTPError(w, r, code, msg)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > limit {
				reject(w, r, http.StatusRequestEntityTooLarge, "too_large",
					fmt.Sprintf("request body of %d bytes is over the limit of %d bytes", r.ContentLength, limit))
				return
			}
			var body io.Reader = http.MaxBytesReader(w, r.Body, limit)
			switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
			case "", "identity":
			case "gzip":
				zr, err := gzip.NewReader(body)
				if err != nil {
					if isTooLarge(err) {
						reject(w, r, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("request body is over the limit of %d bytes", limit))
						return
					}
					reject(w, r, http.StatusBadRequest, "bad_encoding", "invalid gzip body: "+err.Error())
					return
				}
				defer zr.Close()
				body = zr
			default:
				reject(w, r, http.StatusUnsupportedMediaType, "unsupported_encoding",
					fmt.Sprintf("unsupported Content-Encoding %q: send gzip or no encoding", enc))
				return
			}
			buf, err := io.ReadAll(io.LimitReader(body, limit+1))
			switch {
			case isTooLarge(err) || int64(len(buf)) > limit:
				reject(w, r, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("request body is over the limit of %d bytes (after decompression)", limit))
				return
			case err != nil:
				reject(w, r, http.StatusBadRequest, "bad_encoding", "read request body: "+err.Error())
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(buf))
			r.ContentLength = int64(len(buf))
			r.Header.Del("Content-Encoding")
			next.ServeHTTP(w, r)
		})
	}
}

func isTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

// WriteOTLPHTTPError answers an OTLP/HTTP request with a google.rpc.Status body in the
// encoding the client used (JSON for application/json, protobuf otherwise), as the OTLP/HTTP
// specification asks, so exporters can log the message.
func WriteOTLPHTTPError(w http.ResponseWriter, r *http.Request, httpCode int, msg string) {
	st := &status.Status{Code: int32(grpcCodeForHTTP(httpCode)), Message: msg}
	var (
		body []byte
		ct   string
	)
	if otlpIsJSON(r) {
		body, _ = protojson.Marshal(st)
		ct = "application/json"
	} else {
		body, _ = proto.Marshal(st)
		ct = "application/x-protobuf"
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(httpCode)
	_, _ = w.Write(body)
}

// otlpIsJSON tells whether the request uses OTLP's JSON encoding.
func otlpIsJSON(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/json"
}

func grpcCodeForHTTP(code int) codes.Code {
	switch code {
	case http.StatusBadRequest, http.StatusUnsupportedMediaType:
		return codes.InvalidArgument
	case http.StatusRequestEntityTooLarge, http.StatusTooManyRequests:
		return codes.ResourceExhausted
	case http.StatusUnauthorized:
		return codes.Unauthenticated
	case http.StatusForbidden:
		return codes.PermissionDenied
	case http.StatusServiceUnavailable:
		return codes.Unavailable
	default:
		return codes.Internal
	}
}
