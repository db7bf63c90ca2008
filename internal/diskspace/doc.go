// Package diskspace watches the free space of the filesystem holding Vigil's data directory,
// so that ingest can refuse writes while a reserve is still free — before a store meets a full
// disk mid-write (pebble, the span store's engine, stops the process on a failed WAL write)
// and while compactions and flushes still have room to finish.
//
// It owns one goroutine per Monitor, started by Run and ended with its context.
package diskspace
