package logs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/prometheus/client_golang/prometheus"
)

// Store is Vigil's log store. All methods are safe for concurrent use.
type Store struct {
	dir  string
	opts Options
	log  *slog.Logger
	m    *storeMetrics
	lock *os.File
	enc  *zstd.Encoder
	dec  *zstd.Decoder
	bw   blockWriter // used by flushes, one at a time (flushMu)

	// commitMu orders writers against WAL rotation: a writer holds it shared from its WAL
	// append until its lines are in memory blocks; a flush holds it exclusively while it
	// rotates the WAL and takes the blocks, so every line in a segment older than the
	// rotation is in a block being flushed.
	commitMu sync.RWMutex
	closed   atomic.Bool
	wal      *wal

	mu            sync.RWMutex
	heads         map[headKey]*memBlock // open blocks, per partition and service
	sealed        []*memBlock           // full blocks waiting for the next flush
	flushing      []*memBlock           // blocks being written (or whose write failed)
	parts         map[int64]*partition  // by start, Unix seconds
	seqs          map[int64]uint64      // next block seq per partition
	buffered      int64                 // bytes in heads and sealed
	flushingBytes int64                 // bytes in flushing: taken by a flush, not yet in a partition

	flushMu  sync.Mutex // one flush or retention pass at a time
	flushNow chan struct{}
	stop     chan struct{}
	wg       sync.WaitGroup

	tails tailSet
}

type headKey struct {
	part    int64
	service string
}

// Open opens (creating if needed) the store in dir: it loads the partitions, indexes blocks
// the bleve indexes lost, replays the WAL into memory, and starts the flush and retention
// loops. log may be nil. reg is accepted for symmetry with the other stores; the store's
// metrics go to opts.Metrics.
func Open(dir string, opts Options, log *slog.Logger, reg prometheus.Registerer) (_ *Store, err error) {
	_ = reg
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("open log store %s: invalid options: %w", dir, err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Store{
		dir:      dir,
		opts:     opts,
		log:      log,
		m:        newStoreMetrics(opts.Metrics),
		heads:    make(map[headKey]*memBlock),
		parts:    make(map[int64]*partition),
		seqs:     make(map[int64]uint64),
		flushNow: make(chan struct{}, 1),
		stop:     make(chan struct{}),
	}
	s.tails.init()
	defer func() {
		if err != nil {
			err = errors.Join(err, s.release())
		}
	}()
	if err := os.MkdirAll(filepath.Join(dir, "wal"), 0o755); err != nil {
		return nil, fmt.Errorf("create log store %s: %w", dir, err)
	}
	if s.lock, err = lockDir(dir); err != nil {
		return nil, err
	}
	if err := checkFormat(dir); err != nil {
		return nil, err
	}
	if s.enc, err = zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedFastest)); err != nil {
		return nil, fmt.Errorf("create zstd encoder: %w", err)
	}
	if s.dec, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0)); err != nil {
		return nil, fmt.Errorf("create zstd decoder: %w", err)
	}
	if err := s.loadPartitions(); err != nil {
		return nil, err
	}
	replayed := 0
	last, size, err := replayWAL(filepath.Join(dir, "wal"), log, func(recs []Record) error {
		s.mu.Lock()
		s.insertLocked(recs, nil)
		s.mu.Unlock()
		replayed += len(recs)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if s.wal, err = openWAL(filepath.Join(dir, "wal"), last, size); err != nil {
		return nil, err
	}
	s.wal.fsyncs = s.m.walFsyncs
	if replayed > 0 {
		log.Info("replayed log WAL", "lines", replayed)
	}
	s.updateGauges()
	s.wg.Add(2)
	go s.flushLoop()
	go s.retentionLoop()
	return s, nil
}

func lockDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, "LOCK")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock file %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return nil, errors.Join(fmt.Errorf("lock %s (is another process using it?): %w", dir, err), f.Close())
	}
	return f, nil
}

func (s *Store) loadPartitions() error {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("list partitions in %s: %w", s.dir, err)
	}
	for _, e := range ents {
		start, d, ok := parsePartitionDirName(e.Name())
		if !e.IsDir() || !ok {
			continue
		}
		p, err := openPartition(filepath.Join(s.dir, e.Name()), start, d, s.dec, s.log)
		if err != nil {
			return err
		}
		s.parts[p.key] = p
		s.seqs[p.key] = p.nextSeq
	}
	return nil
}

// partKey is the key of the partition holding time t (Unix ns).
func (s *Store) partKey(t int64) int64 {
	d := int64(s.opts.PartitionDuration)
	return floorDiv(t, d) * d / int64(time.Second)
}

// WriteLogs stores b. It returns nil only once every record is in the fsynced WAL; it does
// not keep b. A record with a zero Time gets the current time. A Raw line longer than
// Options.MaxLineBytes fails the whole batch with ErrLineTooLarge before anything is stored
// (the ingest edge rejects such lines individually first). Safe for concurrent use;
// concurrent calls share fsyncs.
func (s *Store) WriteLogs(ctx context.Context, b []Record) error {
	if len(b) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("write logs: %w", err)
	}
	size := 16
	for i := range b {
		if len(b[i].Raw) > s.opts.MaxLineBytes {
			return fmt.Errorf("write logs: record %d: %d bytes over the %d-byte limit: %w", i, len(b[i].Raw), s.opts.MaxLineBytes, ErrLineTooLarge)
		}
		size += recordSize(&b[i])
	}
	frame := encodeRecords(make([]byte, walFrameHeader, walFrameHeader+size), b, s.opts.now().UnixNano())
	buf := frame[walFrameHeader:]
	// The stored copy is the decoded WAL payload: it owns its memory and is exactly what a
	// replay would rebuild.
	recs, err := decodeRecords(buf)
	if err != nil {
		return fmt.Errorf("write logs: %w", err)
	}

	if err := s.waitForRoom(ctx); err != nil {
		return err
	}

	s.commitMu.RLock()
	defer s.commitMu.RUnlock()
	if s.closed.Load() {
		return ErrClosed
	}
	pos, err := s.wal.append(frame)
	if err != nil {
		return fmt.Errorf("write logs: %w", err)
	}
	if err := s.wal.sync(pos); err != nil {
		return fmt.Errorf("write logs: %w", err)
	}
	var ids []lineKey
	if s.tails.active() {
		ids = make([]lineKey, len(recs))
	}
	s.mu.Lock()
	full := s.insertLocked(recs, ids)
	s.mu.Unlock()
	s.m.linesWritten.Add(len(recs))
	s.m.bytesWritten.Add(len(buf))
	if full {
		select {
		case s.flushNow <- struct{}{}:
		default:
		}
	}
	if ids != nil {
		s.tails.publish(recs, ids, s.m.tailDropped)
	}
	return nil
}

// waitForRoom holds a writer back while more than 2×FlushBytes of lines wait to be indexed:
// indexing is slower than accepting, and without this bound a burst piles up in memory (a
// 500k-line burst reached 4 GB RSS). The writer waits, so the client sees slower answers, or
// gets ErrBusy once ctx ends.
func (s *Store) waitForRoom(ctx context.Context) error {
	limit := 2 * s.opts.FlushBytes
	for {
		s.mu.RLock()
		backlog := s.buffered + s.flushingBytes
		s.mu.RUnlock()
		if backlog < limit {
			return nil
		}
		select {
		case s.flushNow <- struct{}{}:
		default:
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("write logs: %w (%d bytes wait to be indexed): %w", ErrBusy, backlog, ctx.Err())
		case <-s.stop:
			return ErrClosed
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// insertLocked adds recs to the memory blocks; if ids is not nil it receives each line's
// key. It reports whether enough is buffered to flush early.
func (s *Store) insertLocked(recs []Record, ids []lineKey) bool {
	for i := range recs {
		r := recs[i]
		t := r.Time.UnixNano()
		k := headKey{part: s.partKey(t), service: r.Service}
		b := s.heads[k]
		if b == nil {
			b = &memBlock{part: k.part, seq: s.seqs[k.part], service: r.Service}
			s.seqs[k.part]++
			s.heads[k] = b
		}
		before := b.mem
		idx := b.add(r)
		s.buffered += int64(b.mem - before)
		if ids != nil {
			ids[i] = lineKey{t: t, part: b.part, seq: b.seq, idx: idx}
		}
		if len(b.lines) >= s.opts.BlockLines || b.bytes >= s.opts.BlockBytes {
			s.sealed = append(s.sealed, b)
			delete(s.heads, k)
		}
	}
	return s.buffered >= s.opts.FlushBytes
}

func (s *Store) flushLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		case <-s.flushNow:
		}
		if err := s.flush(); err != nil {
			s.log.Error("flush log blocks", "err", err)
		}
	}
}

// flush writes every buffered line into its partition and then drops the WAL segments
// that held them.
func (s *Store) flush() error {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	start := time.Now()

	s.commitMu.Lock()
	seg, err := s.wal.rotate()
	if err != nil {
		s.commitMu.Unlock()
		s.m.flushErrors.Inc()
		return fmt.Errorf("rotate WAL: %w", err)
	}
	s.mu.Lock()
	for _, b := range s.heads {
		s.sealed = append(s.sealed, b)
	}
	clear(s.heads)
	s.flushing = append(s.flushing, s.sealed...)
	s.sealed = nil
	s.flushingBytes += s.buffered
	s.buffered = 0
	todo := slices.Clone(s.flushing)
	s.mu.Unlock()
	s.commitMu.Unlock()

	byPart := map[int64][]*memBlock{}
	for _, b := range todo {
		byPart[b.part] = append(byPart[b.part], b)
	}
	var errs []error
	written := 0
	for key, blocks := range byPart {
		slices.SortFunc(blocks, func(a, b *memBlock) int { return compareUint64(a.seq, b.seq) })
		p, err := s.partitionForWrite(key)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		entries, err := p.writeBlocks(blocks, &s.bw, s.enc)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.mu.Lock()
		p.entries = append(p.entries, entries...)
		s.flushing = slices.DeleteFunc(s.flushing, func(b *memBlock) bool { return slices.Contains(blocks, b) })
		for _, b := range blocks {
			s.flushingBytes -= int64(b.mem)
		}
		s.mu.Unlock()
		written += len(blocks)
	}
	s.m.blocksFlushed.Add(written)
	if err := errors.Join(errs...); err != nil {
		s.m.flushErrors.Inc()
		return err // keep the WAL: the failed blocks are retried by the next flush
	}
	if err := s.wal.removeBefore(seg); err != nil {
		s.m.flushErrors.Inc()
		return err
	}
	s.m.flushDuration.UpdateDuration(start)
	s.m.walBytes.Set(float64(s.wal.size.Load()))
	return nil
}

func compareUint64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// partitionForWrite returns the partition with key, creating it. The caller holds flushMu.
func (s *Store) partitionForWrite(key int64) (*partition, error) {
	s.mu.RLock()
	p := s.parts[key]
	s.mu.RUnlock()
	if p != nil {
		return p, nil
	}
	start := time.Unix(key, 0).UTC()
	p, err := openPartition(filepath.Join(s.dir, partitionDirName(start, s.opts.PartitionDuration)), start, s.opts.PartitionDuration, s.dec, s.log)
	if err != nil {
		return nil, err
	}
	if err := syncDir(s.dir); err != nil {
		return nil, errors.Join(err, p.close())
	}
	s.mu.Lock()
	s.parts[key] = p
	s.mu.Unlock()
	return p, nil
}

// Flush writes every buffered line into its partition now (Close does too). Tests and
// benchmarks use it; the store flushes on its own every Options.FlushInterval.
func (s *Store) Flush(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return ErrClosed
	}
	return s.flush()
}

// Close stops the loops, flushes what is buffered, ends live tails and closes the files.
// The store must not be used afterwards.
func (s *Store) Close() error {
	s.commitMu.Lock()
	already := s.closed.Swap(true)
	s.commitMu.Unlock()
	if already {
		return nil
	}
	close(s.stop)
	s.wg.Wait()
	s.tails.closeAll()
	var errs []error
	if err := s.flush(); err != nil {
		errs = append(errs, fmt.Errorf("final flush: %w", err))
	}
	return errors.Join(append(errs, s.release())...)
}

// release closes whatever Open opened.
func (s *Store) release() error {
	var errs []error
	s.mu.Lock()
	for _, p := range s.parts {
		p.useMu.Lock()
		p.dropped = true
		errs = append(errs, p.close())
		p.useMu.Unlock()
	}
	s.mu.Unlock()
	if s.wal != nil {
		errs = append(errs, s.wal.close())
	}
	if s.enc != nil {
		errs = append(errs, s.enc.Close())
	}
	if s.dec != nil {
		s.dec.Close()
	}
	if s.lock != nil {
		errs = append(errs, s.lock.Close())
	}
	return errors.Join(errs...)
}
