package traces

import (
	"github.com/cockroachdb/pebble/v2"
)

// pebbleOptions tunes pebble for this store's write pattern. Spans arrive in large batches and
// their keys (trace id first, then time-bucketed index entries) land all over the key space,
// so with pebble's defaults (4 MiB memtables, compaction at 4 L0 files) the machine spent most
// of its CPU rewriting the same data through compactions: 88% of a CPU profile under load,
// about 3k spans/s. Larger memtables and a later, larger L0 compaction cut that write
// amplification; the cost is up to a few hundred MiB of memory and disk that compaction
// catches up on later.
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
	return po
}
