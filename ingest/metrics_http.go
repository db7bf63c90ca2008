package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// errBodyTooLarge means a request body went over its byte limit.
var errBodyTooLarge = errors.New("request body too large")

// readMetricsBody reads the whole body, at most limit bytes. Exceeding the
// limit, here or in an http.MaxBytesReader set up by an outer server, yields
// an error wrapping errBodyTooLarge.
func readMetricsBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err == nil {
		return body, nil
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, fmt.Errorf("%w: limit is %d bytes", errBodyTooLarge, mbe.Limit)
	}
	return nil, fmt.Errorf("read request body: %w", err)
}

// bufferedResponse holds what a wrapped handler answered so the caller can
// adjust the status before anything reaches the client. Only for handlers
// with small bodies (Prometheus's write handlers write at most an error).
type bufferedResponse struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func newBufferedResponse() *bufferedResponse { return &bufferedResponse{header: http.Header{}} }

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(code int) {
	if b.code == 0 {
		b.code = code
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.code == 0 {
		b.code = http.StatusOK
	}
	return b.body.Write(p)
}

// status is the code the wrapped handler chose, 200 if it chose none.
func (b *bufferedResponse) status() int {
	if b.code == 0 {
		return http.StatusOK
	}
	return b.code
}

// copyTo sends the buffered response with its own status and body.
func (b *bufferedResponse) copyTo(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	w.WriteHeader(b.status())
	_, _ = w.Write(b.body.Bytes())
}
