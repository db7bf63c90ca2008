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
// # Design: blocks, dictionaries, bloom filters, one bleve document per block
//
// Measured for issue 4 on the 2-core build machine (bleve v2.6.3, 200k ~265-byte lines):
// one bleve document per line indexed 8.9k lines/s at 950 B/line with the default mapping,
// 42k lines/s at 155 B/line with a trimmed one; one document per block of 1,000 lines with
// the block's distinct terms indexed about 150k lines/s at about 90 B/line. So lines are
// buffered per (partition, service) into blocks of Options.BlockLines lines (or BlockBytes,
// or whatever arrived within FlushInterval) and a query reads only candidate blocks.
//
// The first version put every distinct term of a block in its bleve document and checked
// every line of every candidate block. On bench/logs (1M loadgen lines in 1 h) that gave
// 34.7k lines/s, 268 B/line on disk, 3.4 GB peak RSS and 2.1 s for the term query `timeout`
// (VictoriaLogs: 146k lines/s, 52 B/line, 311 MB, 43 ms). Profiles: bleve segment building
// was 45% of ingest CPU and merges 16%, because a block of 1,000 lines has about 5,000
// terms found in one line only (trace, span and user ids, order numbers, durations) and 200
// in two or more; and a common term is in nearly every block, so a query decompressed and
// re-tokenized nearly every line to count its exact total. Now (block_format.go):
//
//   - A term found in one line of a block goes to the block's bloom filter (bloom.go, 12
//     bits a term: about 7.7 B/line); bleve gets only the terms found in two or more lines,
//     the field names and the numeric ranges (2.3 B/line, down from about 180).
//   - Each block has a dictionary (block_dict.go) of those shared terms with the lines
//     holding each (bitsets or gaps; postings shared by a message template's tokens stored
//     once): about 7.7 B/line, kept uncompressed so a query binary-searches the bytes it read.
//   - A query (block_eval.go) picks blocks through bleve plus one 64-byte bloom bucket per
//     other block, computes each block's candidate lines from its dictionary, counts exact
//     sets (terms, field values, AND/OR/NOT of them) without decoding anything, verifies the
//     rest (phrases, ranges, bloom terms, wildcards over blocks with bloom terms) with the
//     matcher, and decodes only the lines of the returned page. Verifying just to count stops
//     past Query.TotalLimit (the API's total_limit, default 10,000), the total then flagged as
//     a lower bound, as Elasticsearch's track_total_hits does.
//   - Lines are stored once: times and messages in one zstd section (read to place lines in
//     time and to verify message clauses), Raw with the message and hex ids cut out and the
//     other values as references into Raw in another, ids as binary next to it. Raw alone
//     compresses to 55 B/line; the record encoding the WAL uses (Raw next to the parsed
//     values) took 89 B/line.
//
// Figures (go test -bench in this package; loadgen-shaped lines from bench_data_test.go;
// the 2-core machine shared with four other builds, so CPU time, not wall time, is the
// figure to compare; "before" is commit 5aafe19; queries return the newest 100 lines and the
// total, with the API's default total_limit of 10,000 unless marked exact):
//
//	                                        before          after
//	BenchmarkWrite, 400k lines   CPU/line   71.8 µs         10.5-12.8 µs
//	                             allocs     237/line        7/line
//	                             disk       419.6 B/line    74.8 B/line (dat 72.4, bleve 2.3)
//	BenchmarkQuery, 200k lines   term       428 ms CPU      9.7 ms (6,059 hits)
//	                             phrase     402 ms          36 ms (4,001 hits, exact)
//	                             field      51 ms           3.4 ms (1,360 hits)
//	                             trace id   2.2 ms          1.3 ms
//	BenchmarkQuery, 1M lines     term       -               17.4 ms (30,009 hits)
//	                             phrase     -               84 ms (10,012+ hits)
//	                             phrase     -               156 ms exact (20,146 hits)
//	                             field      -               5.8 ms (6,706 hits)
//	                             trace id   -               7.8 ms
//	BenchmarkQuery, 10M lines    term       -               70 ms (299,204 hits)
//	                             phrase     -               146 ms (10,011+ hits)
//	                             phrase     -               1,656 ms exact (200,056 hits)
//	                             field      -               38 ms (66,750 hits)
//	                             trace id   -               74 ms
//
// Later (read_verify.go): blocks that can only be counted, the page being full, are
// decompressed into reused buffers, up to 8 at a time on min(GOMAXPROCS, 4) goroutines, their
// times and message lengths read in place. BenchmarkQuery at 1M lines, back to back on the busy
// machine: phrase 82-86 -> 50-52 ms wall, 89-94 -> 75-79 ms CPU, 59.5 -> 12.6 MB allocated;
// phrase exact 158-167 -> 94-97 ms; term 13.3 -> 10 ms. With GOMAXPROCS=1: phrase 104.9 ->
// 74.9 ms CPU, 61.2 -> 11.7 MB.
//
// End to end on the same busy machine (one QUICK=1 bench/logs/run.sh, 200k lines, flush_bytes
// 64 MiB; not official figures): Vigil 84k lines/s vs VictoriaLogs 74k, term p50 14 ms vs
// 42, phrase 67 vs 25, field filter 8.7 vs 13.5, peak RSS 379 vs 201 MiB, 75.7 vs 53.1
// B/line. With flush_bytes at 32 MiB, 400k lines from loadgen peaked at 317 MiB RSS (91 at
// start), of which about 110 MiB live heap; before, bleve's segments made it 3.4 GB.
//
// The hit counts equal VictoriaLogs' on bench/logs's data. A term's cost per block is a
// bleve lookup plus reading and searching the block's dictionary (about 6 µs), and the page
// about 5 ms whatever the size: 10M lines took 4x the 1M figure. A trace id is found through
// bloom buckets, one 64-byte read per block of the range; about 0.3% of blocks (30 of 10,000
// at 10M) are false positives whose records are decoded to verify: most of its 74 ms.
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
//	<dir>/FORMAT                           "vigil-logs-2"; a directory without it that holds
//	                                       data (format 1) is refused: ErrUnsupportedFormat
//	<dir>/wal/00000001.wal ...             WAL segments: [len u32][crc32c u32][batch]...
//	<dir>/20260101T100000Z-3600s/          one partition per PartitionDuration (UTC start)
//	    blocks.dat                         per block: bloom, dictionary, messages (zstd),
//	                                       ids + records (zstd), appended
//	    blocks.idx                         64-byte entries: seq, offset, section sizes,
//	                                       lines, CRCs, first/last time, entry crc
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
//     batches) are indexed again from blocks.dat; an index that does not open is rebuilt.
//   - A block's dictionary and bloom filter never lose a line: every line a query's matcher
//     accepts is in the candidate set, and a set marked exact holds no other line
//     (TestQueryAgreesWithMatcher).
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
