// Package logs is Vigil's log store: raw lines kept exactly as sent in zstd-compressed blocks,
// a time-partitioned bleve v2 index over each block's terms and fields, a write-ahead log so an
// acknowledged line survives a crash, and the reads over them: search, volume, fields, context
// and live tail. Retention drops whole partitions by age and by total size.
//
// It owns its value types (logs.Record) and its directory (<data-dir>/logs). It must not know
// any ingest protocol (JSON lines, OTLP, Loki, Elasticsearch bulk are the ingest package's),
// any HTTP routing, or the other stores.
package logs
