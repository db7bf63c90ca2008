package logs

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"time"
)

func (s *Store) retentionLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.RetentionCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		if err := s.applyRetention(); err != nil {
			s.log.Error("apply log retention", "err", err)
		}
	}
}

// applyRetention drops whole partitions: those that ended before now-Retention, then the
// oldest while the partitions take more than MaxTotalBytes (never the newest one).
func (s *Store) applyRetention() error {
	s.flushMu.Lock() // no flush writes a partition while it is dropped
	defer s.flushMu.Unlock()
	now := s.opts.now()
	s.mu.RLock()
	parts := make([]*partition, 0, len(s.parts))
	for _, p := range s.parts {
		parts = append(parts, p)
	}
	s.mu.RUnlock()
	slices.SortFunc(parts, func(a, b *partition) int { return cmpInt64(a.start, b.start) })

	var errs []error
	var keep []*partition
	for _, p := range parts {
		if s.opts.Retention > 0 && p.end <= now.Add(-s.opts.Retention).UnixNano() {
			errs = append(errs, s.dropPartition(p, "age"))
			s.m.droppedAge.Inc()
			continue
		}
		keep = append(keep, p)
	}
	if s.opts.MaxTotalBytes > 0 {
		sizes := make([]int64, len(keep))
		var total int64
		for i, p := range keep {
			sizes[i] = p.sizeBytes()
			total += sizes[i]
		}
		for i := 0; total > s.opts.MaxTotalBytes && i < len(keep)-1; i++ {
			errs = append(errs, s.dropPartition(keep[i], "size"))
			s.m.droppedSize.Inc()
			total -= sizes[i]
		}
	}
	s.updateGauges()
	return errors.Join(errs...)
}

// dropPartition unpublishes p, waits for its readers, closes and deletes it.
func (s *Store) dropPartition(p *partition, reason string) error {
	s.mu.Lock()
	delete(s.parts, p.key)
	s.mu.Unlock()
	p.useMu.Lock()
	defer p.useMu.Unlock()
	p.dropped = true
	err := p.close()
	if rerr := os.RemoveAll(p.dir); rerr != nil {
		err = errors.Join(err, fmt.Errorf("remove partition %s: %w", p.dir, rerr))
	}
	s.log.Info("dropped log partition", "partition", p.dir, "reason", reason)
	if err != nil {
		return fmt.Errorf("drop partition %s: %w", p.dir, err)
	}
	return nil
}
