package ingest

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/klauspost/compress/zstd"
)

// Errors of readLogsBody, told apart by the handlers to choose status and reason.
var (
	errBadEncoding         = errors.New("bad content encoding")
	errUnsupportedEncoding = errors.New("unsupported content encoding")
)

// readLogsBody reads a log request body into memory, undoing Content-Encoding gzip or zstd
// ("snappy" is passed through for Loki's protobuf, whose snappy framing is the payload's
// own). The limit holds for the bytes on the wire and for the decompressed bytes, so a small
// bomb stops at limit+1 bytes. Errors wrap errBodyTooLarge, errBadEncoding or
// errUnsupportedEncoding.
func readLogsBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, fmt.Errorf("%w: %d bytes sent, limit is %d", errBodyTooLarge, r.ContentLength, limit)
	}
	var body io.Reader = http.MaxBytesReader(w, r.Body, limit)
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity", "snappy":
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return nil, decodeBodyErr("gzip", limit, err)
		}
		defer zr.Close()
		body = zr
	case "zstd":
		// One decoder per request: with concurrency 1 it starts no goroutines, and the
		// memory bound stops a frame that claims a huge window.
		zr, err := zstd.NewReader(body, zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderMaxMemory(uint64(limit)+1), zstd.WithDecoderMaxWindow(uint64(max(limit, zstd.MinWindowSize))))
		if err != nil {
			return nil, fmt.Errorf("%w: zstd: %v", errBadEncoding, err)
		}
		defer zr.Close()
		body = zr
	default:
		return nil, fmt.Errorf("%w %q: send gzip, zstd or no encoding", errUnsupportedEncoding, enc)
	}
	var buf bytes.Buffer
	if r.ContentLength > 0 && r.Header.Get("Content-Encoding") == "" {
		buf.Grow(int(r.ContentLength))
	}
	_, err := buf.ReadFrom(io.LimitReader(body, limit+1))
	switch {
	case err != nil:
		return nil, decodeBodyErr(r.Header.Get("Content-Encoding"), limit, err)
	case int64(buf.Len()) > limit:
		return nil, fmt.Errorf("%w: over %d bytes after decompression", errBodyTooLarge, limit)
	}
	return buf.Bytes(), nil
}

// decodeBodyErr classifies a read error: over the wire limit, or broken compression.
func decodeBodyErr(enc string, limit int64, err error) error {
	if isTooLarge(err) {
		return fmt.Errorf("%w: limit is %d bytes", errBodyTooLarge, limit)
	}
	if errors.Is(err, zstd.ErrDecoderSizeExceeded) || errors.Is(err, zstd.ErrWindowSizeExceeded) {
		return fmt.Errorf("%w: zstd frame over %d bytes", errBodyTooLarge, limit)
	}
	if enc == "" || enc == "identity" || enc == "snappy" {
		return fmt.Errorf("read request body: %w", err)
	}
	return fmt.Errorf("%w: %s: %v", errBadEncoding, enc, err)
}

// bodyErrStatus maps a readLogsBody error to the HTTP status and reject reason.
func bodyErrStatus(err error) (int, rejectReason) {
	switch {
	case errors.Is(err, errBodyTooLarge):
		return http.StatusRequestEntityTooLarge, reasonTooLarge
	case errors.Is(err, errUnsupportedEncoding):
		return http.StatusUnsupportedMediaType, reasonUnsupportedEncode
	case errors.Is(err, errBadEncoding):
		return http.StatusBadRequest, reasonBadEncoding
	default:
		return http.StatusBadRequest, reasonBadRequest
	}
}
