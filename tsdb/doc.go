// Package tsdb is Vigil's metrics store. It embeds, rather than reimplements,
// three pieces of Prometheus: the TSDB (head, WAL, blocks, compaction,
// retention), the PromQL engine, and the HTTP API v1.
//
// # What it owns
//
//   - Metric storage in one directory: float samples, native histograms and
//     exemplars, including out-of-order samples inside Options.OutOfOrderWindow.
//   - The single PromQL engine (DB.Engine) configured from Options.
//   - The Prometheus HTTP API v1 read side (DB.APIHandler): query, query_range,
//     series, labels, label values, exemplars, metadata, status/*, targets,
//     rules and alerts, with Prometheus's JSON envelope and error types.
//   - The read side's merge with remote sources (Merged, RemoteSource):
//     Prometheus-compatible query APIs (Prometheus, Thanos, Mimir,
//     VictoriaMetrics) read as secondary storage.Queryables next to the store,
//     duplicates collapsed by storage.ChainedSeriesMerge, a failing source a
//     warning. It lives here, not in a package of its own, because it is what
//     the store's readers (DB.Engine, the API handler) query, and it needs
//     the store's oldest timestamp; it is an HTTP client of other engines and
//     knows nothing of Vigil's config.
//   - What a WAL reader needs to tail the store's WAL (Dir, NotifyWALWrites):
//     cmd/vigil runs Prometheus's remote-write queue managers on it.
//
// Writers use Prometheus's own contracts: *DB is a storage.Appendable,
// storage.AppendableV2, storage.Queryable, storage.ChunkQueryable and
// storage.ExemplarQueryable.
//
// # What it must not know
//
// Ingest protocols (remote write, OTLP, text import), HTTP servers and
// listeners, routers other than the one it hands out, and config files. The
// API handler keeps Prometheus's remote-write and OTLP receivers disabled: the
// ingest package owns /api/v1/write and /api/v1/otlp. This package imports no
// other Vigil store.
//
// # Invariants
//
//   - Durability is the WAL commit. Appender.Commit returns nil only after the
//     batch has been written to the head's write-ahead log with write(2); the
//     WAL is not fsynced per commit (Prometheus's default: segments are fsynced
//     when they are cut and on Close). A committed sample therefore survives
//     the process being killed (kill -9, panic, OOM) and is replayed on the next
//     Open; it may be lost if the machine itself loses power before the kernel
//     writes the page cache back.
//   - Retention: blocks wholly older than Options.RetentionTime, and the oldest
//     blocks beyond Options.RetentionSize bytes, are deleted by Prometheus's
//     compaction loop. Samples older than the head's window minus
//     Options.OutOfOrderWindow are rejected with storage.ErrTooOldSample (or
//     storage.ErrOutOfOrderSample when the window is zero).
//   - Open replays the WAL before returning, so a returned *DB is ready.
//   - Close stops compaction, closes the WAL and releases the directory lock;
//     the DB must not be used afterwards.
package tsdb
