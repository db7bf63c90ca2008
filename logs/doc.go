// Package logs is Vigil's log store: raw lines kept exactly as sent in zstd-compressed blocks,
// a time-partitioned bleve v2 index over each block's terms and fields, a write-ahead log so an
// acknowledged line survives a crash, and the reads over them: search, volume, fields, context
// and live tail. Retention drops whole partitions by age and by total size.
//
// # What it owns
//
//   - The value types (Record, Field, Line) and the directory (<data-dir>/logs).
//   - Store: Open/Close, WriteLogs (the ingest sink), Query, Volume, Fields, FieldValues,
//     Context, Tail, Flush, and APIHandler, the HTTP query API under /api/v1/logs/.
//   - The query language: bleve query-string clauses joined by AND, OR, NOT and parentheses
//     (see parseQuery), matched per line by a matcher this package compiles from bleve's
//     query tree (see query_match.go for why it does not re-index candidate blocks).
//
// # What it must not know
//
// Any ingest protocol (JSON lines, OTLP, Loki, Elasticsearch bulk belong to package ingest),
// listeners and the router the API is mounted on, config files, and the other stores.
//
// # Design: one bleve document per block
//
// Measured for issue 4 on the 2-core build machine (bleve v2.6.3, 200k ~265-byte lines):
// one bleve document per line indexed 8.9k lines/s at 950 B/line with the default mapping,
// 42k lines/s at 155 B/line with a trimmed one; one document per block of 1,000 lines with
// the block's distinct terms indexed about 150k lines/s at about 90 B/line. So lines are
// buffered per (partition, service) into blocks of Options.BlockLines lines (or BlockBytes,
// or whatever arrived within FlushInterval); a block is stored as one zstd frame and
// described to bleve by one document holding the union of its lines' message tokens, keyword
// values (level, service, trace_id, span_id, every field), numbers (numeric fields) and its
// first/last line time. A query runs a derived, never-narrower query against those documents
// (blockQuery: negations do not prune, phrases become conjunctions of their terms), reads the
// candidate blocks and checks every line with the matcher. No figures were re-measured for
// this package (the machine is shared; BenchmarkWrite and BenchmarkQuery exist for bench/).
//
// Text: messages are tokenized keeping identifiers intact (payment-service:8080, hex ids,
// v1.2.3, user@example.com), lower-cased; a bare clause searches the message. Keyword fields
// match exactly (level, trace_id and span_id are lower-cased on both sides); numeric fields
// (Field.Kind == KindNumber) also answer ranges (status:>=500); time answers date ranges
// (time:>="2026-01-02T15:04:05Z"). A clause containing ':' in a value must be quoted
// ("payment-service:8080"), as bleve reads the first ':' as a field separator.
//
// # On-disk layout
//
//	<dir>/LOCK                             flock: one process per directory
//	<dir>/wal/00000001.wal ...             WAL segments: [len u32][crc32c u32][batch]...
//	<dir>/20260101T100000Z-3600s/          one partition per PartitionDuration (UTC start)
//	    blocks.dat                         zstd frames, one per block, appended
//	    blocks.idx                         48-byte entries: seq, offset, size, lines,
//	                                       first/last time, block crc, entry crc
//	    index/                             bleve scorch index, one document per block
//
// # Invariants
//
//   - WriteLogs returns nil only after the batch is appended to the WAL and fsynced
//     (concurrent writers share fsyncs); it keeps no reference to the caller's batch.
//   - A flush rotates the WAL under the exclusive commit lock, writes every buffered block
//     (blocks.dat fsynced, then blocks.idx fsynced, then the bleve batch) and only then
//     deletes the older WAL segments; a failed flush keeps them and retries its blocks.
//   - blocks.idx is the truth: at Open, blocks.dat is cut back to the last valid entry and
//     blocks the bleve index lost (it runs with unsafe_batch; a crash may lose its last
//     batches) are indexed again from blocks.dat.
//   - Lines are visible to queries as soon as WriteLogs returns (memory blocks are scanned
//     too), each exactly once: a block leaves the in-memory lists in the same critical section
//     that publishes its index entry.
//   - A line's id, "<partition start, Unix s>-<block seq>-<position>", never changes once
//     WriteLogs returned, except for lines still in memory at a crash (the WAL replay
//     renumbers those). Results are ordered by (time, id).
//   - Retention removes whole partitions (never the newest for size) after waiting for their
//     readers; a flush and a retention pass never run at once.
//   - Open replays the WAL before returning; Close flushes, ends tails and closes everything.
package logs
