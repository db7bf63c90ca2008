package traces

import (
	"context"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

func (db *DB) retentionLoop() {
	defer close(db.done)
	t := time.NewTicker(db.opts.RetentionInterval)
	defer t.Stop()
	for {
		select {
		case <-db.stop:
			return
		case now := <-t.C:
			if err := db.applyRetention(now); err != nil {
				db.log.Error("Trace retention failed", "err", err)
			}
		}
	}
}

// applyRetention drops every hour bucket wholly older than now-Retention, then the oldest
// buckets while the store is over MaxBytes (never the newest one).
func (db *DB) applyRetention(now time.Time) error {
	if db.opts.Retention > 0 {
		cutoff := now.Add(-db.opts.Retention)
		// Bucket b holds [start(b), start(b+1)); it may go once start(b+1) <= cutoff.
		if limit := bucketOf(cutoff); limit > 0 {
			for _, b := range db.names.bucketList(0, limit-1) {
				if err := db.dropBucket(b, "age"); err != nil {
					return err
				}
			}
		}
	}
	if db.opts.MaxBytes <= 0 {
		return nil
	}
	for {
		bs := db.names.bucketList(0, ^uint32(0))
		if len(bs) <= 1 || db.diskUsage() <= uint64(db.opts.MaxBytes) {
			return nil
		}
		if err := db.dropBucket(bs[len(bs)-1], "size"); err != nil {
			return err
		}
	}
}

// dropBucket deletes every key of hour bucket b with a range deletion per prefix and compacts the
// range so the space is given back.
func (db *DB) dropBucket(b uint32, reason string) error {
	if err := db.acquire(); err != nil {
		return err
	}
	defer db.closing.RUnlock()
	db.names.drop(b) // readers stop looking first
	db.resources.drop(b)
	for _, p := range bucketPrefixes {
		lo, hi := bucketsRange(p, b, b+1)
		if err := db.pdb.DeleteRange(lo, hi, pebble.Sync); err != nil {
			return fmt.Errorf("drop spans of %s: %w", bucketStart(b).Format(time.RFC3339), err)
		}
		if err := db.pdb.Compact(context.Background(), lo, hi, false); err != nil {
			return fmt.Errorf("compact dropped spans of %s: %w", bucketStart(b).Format(time.RFC3339), err)
		}
	}
	db.m.bucketsDropped.WithLabelValues(reason).Inc()
	db.log.Info("Dropped trace hour", "start", bucketStart(b), "reason", reason)
	return nil
}
