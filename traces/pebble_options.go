package traces

import (
	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/sstable"
)

// pebbleOptions tunes pebble for this store's write pattern. Spans arrive in large batches
// whose chunks (trace id first) land all over the key space, so with pebble's defaults
// (4 MiB memtables, compaction at 4 L0 files) most of the CPU went to compactions. Larger
// memtables and a later, larger L0 compaction cut that write amplification; the cost is up
// to a few hundred MiB of memory and disk that compaction catches up on later.
//
// Blocks are 32 KiB and zstd-compressed at every level: a block then holds about 400
// spans, whose keys, names and values repeat across traces, and zstd finds those repeats
// (BenchmarkWriteSpans: 122 bytes per span with 4 KiB snappy blocks, 89 with 32 KiB zstd;
// 64 KiB gains only 2% more and makes every trace lookup decompress twice as much). L0 is
// compressed the same way because the span store is mostly write-once: much of it is
// still in L0 when read or measured.
func pebbleOptions(log pebbleLogger) *pebble.Options {
	po := &pebble.Options{
		Logger:                      log,
		MemTableSize:                64 << 20,
		MemTableStopWritesThreshold: 4,
		L0CompactionThreshold:       8,
		L0StopWritesThreshold:       40,
		LBaseMaxBytes:               512 << 20,
	}
	po.TargetFileSizes[0] = 32 << 20
	po.Comparer = &keyComparer
	for i := range po.Levels {
		po.Levels[i].BlockSize = 32 << 10
		po.Levels[i].Compression = func() *sstable.CompressionProfile { return sstable.ZstdCompression }
		po.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	return po
}

// keyComparer orders keys byte-wise, as pebble's default does, and tells pebble that the
// prefix of a chunk key is its trace ('s' bucket traceID, keys.go), so each sstable keeps a
// Bloom filter of the traces it holds and a trace lookup (SeekPrefixGE) skips the tables
// without it. Without that, every lookup read and decompressed a block of every L0 table
// and level: 3.7 ms a trace at 5M spans (BenchmarkReads). Other keys are their own prefix.
var keyComparer = func() pebble.Comparer {
	c := *pebble.DefaultComparer
	c.Split = splitKey
	c.Name = "vigil.traces.v2"
	return c
}()

// chunkPrefixLen is 's' bucket:4 traceID:16.
const chunkPrefixLen = 1 + 4 + 16

func splitKey(k []byte) int {
	if len(k) >= chunkPrefixLen && k[0] == prefixSpan {
		return chunkPrefixLen
	}
	return len(k)
}
