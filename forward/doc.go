// Package forward owns OTLP forwarding: what Vigil ingests is also sent, as OTLP, to other
// engines (an OpenTelemetry Collector, Tempo, Jaeger, Loki, VictoriaLogs, another Vigil).
//
// Data flow: ingest -> forward tee -> {local store, remote}. The tee wraps the ingest sinks
// (LogSink, TraceSink) and the OTLP metrics receiver: once the local store says a batch is
// durable, the batch is encoded as OTLP export requests (split to stay under the endpoint's
// max_batch_size) and appended to the on-disk queue of every endpoint that selects its signal,
// keeping what passes its filters, before the client is answered. One sender per endpoint
// reads its queue from the head, merges queued requests up to max_batch_size, sends them over
// OTLP gRPC or OTLP/HTTP, retries with exponential backoff (honouring Retry-After and gRPC
// RetryInfo), and moves the head on once the remote accepted or permanently refused them.
//
// The queue's fsync policy: every append is fsynced before the tee returns (concurrent
// appends share one fsync); segment creation fsyncs the directory; the head position
// ("cursor") is rewritten by rename after each delivery without fsync, so a crash can only
// make it older, never lose data.
//
// It owns the queue format (segment files under <data_dir>/forward/<endpoint>/) and the
// senders; it must not know how the local stores keep data, only their value types
// (logs.Record, traces.Span) and pdata.
//
// Invariants:
//   - an acknowledged batch is fsynced into the queue of every endpoint it selects (appends
//     share an fsync, as a WAL's group commit does); delivery is at least once: after a crash
//     the last batches sent may be sent again;
//   - a queue never holds more than its max_size on disk, give or take the batches being
//     appended at that moment: when full it drops its oldest segment (counted in
//     vigil_forward_dropped_total) or, with on_full: backpressure, makes ingest refuse new
//     data with 429 / ResourceExhausted and a retry delay before anything is stored locally;
//   - a torn tail left by a crash is cut at the last whole entry when the queue opens.
package forward
