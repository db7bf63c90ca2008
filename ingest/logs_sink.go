package ingest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vigilhq/vigil/logs"
)

// LogSink stores log records. WriteLogs returns nil only once the batch is durable; it must
// not keep b after it returns (Raw may share memory with the request body). A failed WriteLogs stored nothing the caller may rely on: the edge answers 503 (or
// gRPC Unavailable) and the client retries the whole request, so a sink that stored part of a
// failed batch may see those records again. Safe for concurrent use.
type LogSink interface {
	WriteLogs(ctx context.Context, b []logs.Record) error
}

// LogsIngestOptions bounds what one log write request may carry, on every log protocol. A zero
// or negative field means "use the default" from DefaultLogsIngestOptions.
type LogsIngestOptions struct {
	// MaxRequestBytes caps the request body, both as sent and after decompression. Larger
	// requests are answered 413 (ResourceExhausted over gRPC).
	MaxRequestBytes int64
	// MaxLineBytes caps one log line (a JSON line, a Loki entry, a bulk document, or the JSON
	// rendering of an OTLP record). A longer one is rejected alone, reason "too_large".
	MaxLineBytes int
	// MaxErrorsReported caps the per-line errors listed in a partial-success answer.
	MaxErrorsReported int
	// MaxStoreWait bounds how long a request waits for a log store that is behind (indexing
	// slower than lines arrive). Past it the request is answered 429 / ResourceExhausted with
	// a retry delay and nothing of it is stored: the shipper keeps it and sends it again.
	MaxStoreWait time.Duration
	// MaxLinesPerRequest caps the lines of one request (0: no cap); a request with more is
	// refused whole with 413 (gRPC ResourceExhausted, not retried), as Loki does.
	MaxLinesPerRequest int
	// ESVersion is the Elasticsearch version the /es handshake claims. Shippers refuse
	// versions older than their own major.minor unless told otherwise, so keep it recent.
	ESVersion string

	// now is the receive-time clock; tests set it.
	now func() time.Time
}

// DefaultLogsIngestOptions returns the limits Vigil uses unless configured.
func DefaultLogsIngestOptions() LogsIngestOptions {
	return LogsIngestOptions{
		MaxRequestBytes:    32 << 20,
		MaxLineBytes:       256 << 10,
		MaxErrorsReported:  10,
		MaxStoreWait:       10 * time.Second,
		MaxLinesPerRequest: 100_000,
		ESVersion:          "8.17.0",
	}
}

// Validate reports the first option that cannot work.
func (o LogsIngestOptions) Validate() error {
	if o.MaxLineBytes > 0 && o.MaxRequestBytes > 0 && int64(o.MaxLineBytes) > o.MaxRequestBytes {
		return errors.New("logs max line bytes must not exceed max request bytes")
	}
	return nil
}

// withDefaults replaces zero or negative fields with the defaults.
func (o LogsIngestOptions) withDefaults() LogsIngestOptions {
	d := DefaultLogsIngestOptions()
	if o.MaxRequestBytes <= 0 {
		o.MaxRequestBytes = d.MaxRequestBytes
	}
	if o.MaxLineBytes <= 0 {
		o.MaxLineBytes = d.MaxLineBytes
	}
	if o.MaxErrorsReported <= 0 {
		o.MaxErrorsReported = d.MaxErrorsReported
	}
	if o.MaxStoreWait <= 0 {
		o.MaxStoreWait = d.MaxStoreWait
	}
	if o.ESVersion == "" {
		o.ESVersion = d.ESVersion
	}
	if o.now == nil {
		o.now = time.Now
	}
	return o
}

// storeBusyRetry is the retry delay a client is given when the log store is behind.
const storeBusyRetry = 5 * time.Second

// errTooManyLines refuses a request over MaxLinesPerRequest, whole.
var errTooManyLines = errors.New("too many log lines in one request")

// writeLogs hands recs to sink, waiting at most MaxStoreWait for a store that is behind.
func (o LogsIngestOptions) writeLogs(ctx context.Context, sink LogSink, recs []logs.Record) error {
	if o.MaxLinesPerRequest > 0 && len(recs) > o.MaxLinesPerRequest {
		return fmt.Errorf("%w: %d lines, the limit is %d (logs.max_lines_per_request): split the request", errTooManyLines, len(recs), o.MaxLinesPerRequest)
	}
	ctx, cancel := context.WithTimeout(ctx, o.MaxStoreWait)
	defer cancel()
	return sink.WriteLogs(ctx, recs)
}

// storeBusy tells a store that is behind (nothing stored; worth a retry later) from one that
// failed.
func storeBusy(err error) bool { return errors.Is(err, logs.ErrBusy) }
