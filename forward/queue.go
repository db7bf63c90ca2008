package forward

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"
)

// OnFull says what a full queue does.
type OnFull string

// What a full queue does: drop its oldest segment, or refuse new data.
const (
	DropOldest   OnFull = "drop_oldest"
	Backpressure OnFull = "backpressure"
)

// QueueOptions configures a Queue.
type QueueOptions struct {
	// MaxBytes bounds the queue's segment files on disk.
	MaxBytes int64
	// SegmentBytes is the size past which a new segment file is started; the unit in which
	// drop_oldest drops and acknowledged data is deleted. 0: MaxBytes/8, between 4 KiB and
	// 16 MiB.
	SegmentBytes int64
	OnFull       OnFull
	// Dropped is told of items lost: reason "queue_full" (drop_oldest) or "corrupt" (an
	// entry that fails its checksum in the middle of a segment). May be nil.
	Dropped func(sig Signal, reason string, items int)
}

// ErrClosed is returned by a queue's methods after Close.
var ErrClosed = errors.New("forward queue closed")

// ErrEntryTooLarge is returned by Append for a batch larger than the whole queue.
var ErrEntryTooLarge = errors.New("batch larger than the forward queue's max size")

// Queue is a bounded, crash-safe FIFO of OTLP batches in segment files in one directory: many
// writers append (each append is fsynced before it returns, appends in flight sharing one
// fsync), one reader takes batches from the head with Next and moves the head with Ack. The
// head position is kept in a small file ("cursor"), rewritten without fsync after each Ack:
// after a crash the last batches may be read again (at-least-once).
type Queue struct {
	dir  string
	opts QueueOptions
	log  *slog.Logger
	enc  *zstd.Encoder
	dec  *zstd.Decoder

	mu       sync.Mutex
	segs     []segment // oldest first; the last is being written
	w        *os.File  // the last segment, open for appending
	total    int64     // bytes of all segments
	cursor   position  // the first entry not acknowledged
	inflight position  // the end of the batch the reader holds (zero: none)
	notify   chan struct{}
	written  uint64 // bytes appended since open, for the group fsync
	closed   bool

	syncMu   sync.Mutex
	synced   atomic.Uint64
	headTime atomic.Int64 // append time (Unix ns) of the entry at the head, 0 if unknown/empty

	// The reader's open segment; only Next uses it.
	rf   *os.File
	rfID uint64

	cursorMu sync.Mutex
}

type segment struct {
	id   uint64
	size int64
}

type position struct {
	seg uint64
	off int64
}

func (p position) less(o position) bool {
	return p.seg < o.seg || p.seg == o.seg && p.off < o.off
}

const cursorFile = "cursor"

func segmentName(id uint64) string { return fmt.Sprintf("%016x.seg", id) }

// OpenQueue opens (creating it if needed) the queue in dir, cutting a torn tail.
func OpenQueue(dir string, opts QueueOptions, log *slog.Logger) (*Queue, error) {
	if opts.MaxBytes <= 0 {
		return nil, errors.New("forward queue max bytes must be positive")
	}
	if opts.SegmentBytes <= 0 {
		opts.SegmentBytes = min(max(opts.MaxBytes/8, 4<<10), 16<<20)
	}
	if opts.OnFull == "" {
		opts.OnFull = DropOldest
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create forward queue directory: %w", err)
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))
	if err != nil {
		return nil, fmt.Errorf("forward queue compressor: %w", err)
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderMaxMemory(maxEntryBytes), zstd.WithDecoderConcurrency(1))
	if err != nil {
		return nil, fmt.Errorf("forward queue decompressor: %w", err)
	}
	q := &Queue{dir: dir, opts: opts, log: log, enc: enc, dec: dec, notify: make(chan struct{})}
	if err := q.load(); err != nil {
		dec.Close()
		return nil, fmt.Errorf("open forward queue %s: %w", dir, err)
	}
	return q, nil
}

// load reads the directory: segments, cursor, and the last segment's torn tail.
func (q *Queue) load() error {
	des, err := os.ReadDir(q.dir)
	if err != nil {
		return err
	}
	for _, de := range des {
		name, ok := strings.CutSuffix(de.Name(), ".seg")
		if !ok {
			continue
		}
		id, err := strconv.ParseUint(name, 16, 64)
		if err != nil {
			continue
		}
		fi, err := de.Info()
		if err != nil {
			return err
		}
		q.segs = append(q.segs, segment{id: id, size: fi.Size()})
	}
	slices.SortFunc(q.segs, func(a, b segment) int { return cmpUint(a.id, b.id) })
	cur, ok := q.readCursor()
	// Segments wholly before the cursor were acknowledged; a crash before their removal
	// leaves them behind.
	for len(q.segs) > 0 && ok && q.segs[0].id < cur.seg {
		if err := os.Remove(filepath.Join(q.dir, segmentName(q.segs[0].id))); err != nil && !os.IsNotExist(err) {
			return err
		}
		q.segs = q.segs[1:]
	}
	if len(q.segs) == 0 {
		id := uint64(1)
		if ok {
			id = cur.seg + 1
		}
		q.segs = []segment{{id: id}}
	}
	last := &q.segs[len(q.segs)-1]
	f, err := os.OpenFile(filepath.Join(q.dir, segmentName(last.id)), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	end, _, err := scanSegment(f, 0, last.size)
	if err != nil {
		f.Close()
		return err
	}
	if end < last.size {
		q.log.Warn("Cut the torn tail of a forward queue segment (left by a crash)", "segment", segmentName(last.id), "bytes", last.size-end)
		if err := f.Truncate(end); err != nil {
			f.Close()
			return fmt.Errorf("cut torn tail: %w", err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
		last.size = end
	}
	if _, err := f.Seek(end, 0); err != nil {
		f.Close()
		return err
	}
	if err := syncDir(q.dir); err != nil {
		f.Close()
		return err
	}
	q.w = f
	for _, s := range q.segs {
		q.total += s.size
	}
	q.cursor = position{seg: q.segs[0].id}
	if ok && cur.seg == q.segs[0].id {
		q.cursor.off = min(cur.off, q.segs[0].size)
	}
	return nil
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// readCursor reads the cursor file; ok is false when there is none or it is damaged.
func (q *Queue) readCursor() (position, bool) {
	b, err := os.ReadFile(filepath.Join(q.dir, cursorFile))
	if err != nil || len(b) != 20 || crc32.Checksum(b[:16], castagnoli) != binary.LittleEndian.Uint32(b[16:]) {
		return position{}, false
	}
	return position{seg: binary.LittleEndian.Uint64(b), off: int64(binary.LittleEndian.Uint64(b[8:]))}, true
}

// writeCursor saves p, atomically (write and rename), not fsynced: losing it re-sends.
func (q *Queue) writeCursor(p position) error {
	q.cursorMu.Lock()
	defer q.cursorMu.Unlock()
	b := binary.LittleEndian.AppendUint64(nil, p.seg)
	b = binary.LittleEndian.AppendUint64(b, uint64(p.off))
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
	tmp := filepath.Join(q.dir, cursorFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("write forward queue cursor: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(q.dir, cursorFile)); err != nil {
		return fmt.Errorf("write forward queue cursor: %w", err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	return nil
}

// Full reports whether the queue holds its max size or more (with on_full: backpressure,
// the forwarder then refuses new data).
func (q *Queue) Full() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.total >= q.opts.MaxBytes
}

// Bytes is the size of the data not yet acknowledged.
func (q *Queue) Bytes() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := q.total
	if len(q.segs) > 0 && q.segs[0].id == q.cursor.seg {
		n -= q.cursor.off
	}
	return n
}

// OldestTime is when the entry at the head was appended; zero when the queue is empty or
// the reader has not looked yet.
func (q *Queue) OldestTime() time.Time {
	if ns := q.headTime.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}

// Payload is one OTLP export request (protobuf) and the number of items in it.
type Payload struct {
	Items int
	Bytes []byte
	// zstd caches the compressed Bytes, so that queues sharing a payload compress it once.
	zstd []byte
}

// Append adds one batch (an OTLP export request in protobuf) of items of sig, and returns
// once it is fsynced. See AppendAll.
func (q *Queue) Append(sig Signal, items int, payload []byte, now time.Time) error {
	dropped, err := q.AppendAll(sig, []Payload{{Items: items, Bytes: payload}}, now)
	if err == nil && dropped > 0 {
		return fmt.Errorf("%w: max_size %d", ErrEntryTooLarge, q.opts.MaxBytes)
	}
	return err
}

// AppendAll adds payloads of sig as consecutive entries and returns once they are fsynced
// (one fsync for all, shared with concurrent appenders). A full queue drops its oldest
// segments first (drop_oldest) or takes them anyway (backpressure: the caller asked Full
// before storing the batch anywhere). A payload larger than the whole queue is left out; the
// items of those are returned. The queue does not keep the payloads; it may cache their
// compressed form in ps for the next queue they are appended to.
func (q *Queue) AppendAll(sig Signal, ps []Payload, now time.Time) (tooLarge int, err error) {
	recs := make([][]byte, 0, len(ps))
	for i := range ps {
		p := &ps[i]
		e := entry{signal: sig, items: p.Items, time: now, payload: p.Bytes}
		if len(p.Bytes) > 512 {
			if p.zstd == nil {
				p.zstd = q.enc.EncodeAll(p.Bytes, make([]byte, 0, len(p.Bytes)/4))
			}
			e.flags, e.payload = flagZstd, p.zstd
		}
		rec := appendEntry(make([]byte, 0, entryHeaderLen+entryMetaLen+len(e.payload)), e)
		if len(rec)-entryHeaderLen > maxEntryBytes || int64(len(rec)) > q.opts.MaxBytes {
			tooLarge += p.Items
			continue
		}
		recs = append(recs, rec)
	}
	if len(recs) == 0 {
		return tooLarge, nil
	}

	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return tooLarge, ErrClosed
	}
	for _, rec := range recs {
		if err := q.writeLocked(rec); err != nil {
			q.mu.Unlock()
			return tooLarge, err
		}
	}
	target := q.written
	close(q.notify)
	q.notify = make(chan struct{})
	q.mu.Unlock()
	return tooLarge, q.syncTo(target)
}

// writeLocked writes one encoded entry at the end of the queue. Called with mu.
func (q *Queue) writeLocked(rec []byte) error {
	if q.opts.OnFull == DropOldest {
		if err := q.makeRoom(int64(len(rec))); err != nil {
			return err
		}
	}
	last := &q.segs[len(q.segs)-1]
	if last.size > 0 && last.size+int64(len(rec)) > q.opts.SegmentBytes {
		if err := q.roll(); err != nil {
			return err
		}
		last = &q.segs[len(q.segs)-1]
	}
	if _, err := q.w.Write(rec); err != nil {
		// Cut a partial write back out, so the segment stays readable to its end.
		_ = q.w.Truncate(last.size)
		_, _ = q.w.Seek(last.size, 0)
		return fmt.Errorf("append to forward queue: %w", err)
	}
	last.size += int64(len(rec))
	q.total += int64(len(rec))
	q.written += uint64(len(rec))
	return nil
}

// syncTo returns once the first target bytes appended since open are fsynced; concurrent
// appenders share one fsync (group commit).
func (q *Queue) syncTo(target uint64) error {
	q.syncMu.Lock()
	defer q.syncMu.Unlock()
	if q.synced.Load() >= target {
		return nil
	}
	q.mu.Lock()
	f, upto := q.w, q.written
	q.mu.Unlock()
	if err := f.Sync(); err != nil {
		if q.synced.Load() >= target { // a roll synced and closed f meanwhile
			return nil
		}
		return fmt.Errorf("fsync forward queue: %w", err)
	}
	storeMax(&q.synced, upto)
	return nil
}

func storeMax(a *atomic.Uint64, v uint64) {
	for {
		old := a.Load()
		if old >= v || a.CompareAndSwap(old, v) {
			return
		}
	}
}

// roll fsyncs and closes the segment being written and starts the next. Called with mu.
func (q *Queue) roll() error {
	if err := q.w.Sync(); err != nil {
		return fmt.Errorf("fsync forward queue segment: %w", err)
	}
	storeMax(&q.synced, q.written)
	id := q.segs[len(q.segs)-1].id + 1
	f, err := os.OpenFile(filepath.Join(q.dir, segmentName(id)), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("create forward queue segment: %w", err)
	}
	if err := syncDir(q.dir); err != nil {
		f.Close()
		return err
	}
	_ = q.w.Close()
	q.w = f
	q.segs = append(q.segs, segment{id: id})
	return nil
}

// makeRoom drops the oldest segments until n more bytes fit. Called with mu.
func (q *Queue) makeRoom(n int64) error {
	for q.total+n > q.opts.MaxBytes {
		if len(q.segs) == 1 {
			if q.segs[0].size == 0 {
				return nil
			}
			if err := q.roll(); err != nil {
				return err
			}
		}
		if err := q.dropOldest(); err != nil {
			return err
		}
	}
	return nil
}

// dropOldest removes the oldest segment, counting the items in it not yet sent. Called with
// mu, with at least two segments.
func (q *Queue) dropOldest() error {
	s := q.segs[0]
	from := int64(-1) // acknowledged wholly: nothing to count
	switch {
	case s.id > q.cursor.seg:
		from = 0
	case s.id == q.cursor.seg:
		from = q.cursor.off
		if q.inflight.seg == s.id {
			from = max(from, q.inflight.off) // the reader holds the batch before: it will be sent
		}
	}
	name := filepath.Join(q.dir, segmentName(s.id))
	if from >= 0 && from < s.size && q.opts.Dropped != nil {
		if f, err := os.Open(name); err == nil {
			for off := from; off < s.size; {
				e, next, err := readEntry(f, off, s.size, true)
				if err != nil {
					break
				}
				q.opts.Dropped(e.signal, "queue_full", e.items)
				off = next
			}
			f.Close()
		}
	}
	if err := os.Remove(name); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("drop forward queue segment: %w", err)
	}
	q.segs = q.segs[1:]
	q.total -= s.size
	if q.cursor.seg <= s.id {
		q.cursor = position{seg: q.segs[0].id}
		q.headTime.Store(0)
	}
	return nil
}

// Batch is consecutive entries of one signal from the head of a queue.
type Batch struct {
	Signal Signal
	Items  int
	// Payloads are the entries' OTLP export requests; their protobuf concatenation is one
	// request holding them all.
	Payloads [][]byte
	// items are the items of each payload.
	items []int
	Bytes int
	// First is when the first entry was appended.
	First time.Time
	end   position
}

// Next returns the batch at the head: entries of the first entry's signal, up to maxBytes of
// payload (at least one entry), from one segment. It waits for data until ctx ends. It does
// not move the head: Ack does. One goroutine calls Next and Ack.
func (q *Queue) Next(ctx context.Context, maxBytes int) (Batch, error) {
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return Batch{}, ErrClosed
		}
		pos := q.cursor
		i := slices.IndexFunc(q.segs, func(s segment) bool { return s.id == pos.seg })
		if i < 0 {
			pos = position{seg: q.segs[0].id}
			q.cursor = pos
			i = 0
		}
		seg := q.segs[i]
		last := i == len(q.segs)-1
		wait := q.notify
		if pos.off >= seg.size {
			if !last {
				q.cursor = position{seg: q.segs[i+1].id}
				q.mu.Unlock()
				continue
			}
			q.headTime.Store(0)
			q.mu.Unlock()
			select {
			case <-ctx.Done():
				return Batch{}, ctx.Err()
			case <-wait:
			}
			continue
		}
		q.mu.Unlock()

		b, err := q.read(pos, seg, maxBytes)
		if errors.Is(err, os.ErrNotExist) {
			q.mu.Lock()
			listed := slices.ContainsFunc(q.segs, func(s segment) bool { return s.id == seg.id })
			q.mu.Unlock()
			if !listed {
				continue // drop_oldest removed it meanwhile
			}
			// Removed from outside: skip it rather than spin on it.
			err = fmt.Errorf("%w: segment file gone", errTorn)
		}
		if errors.Is(err, errTorn) {
			q.log.Error("Skipped a corrupt entry in a forward queue segment, and the rest of that segment", "segment", segmentName(seg.id), "offset", pos.off, "err", err)
			if q.opts.Dropped != nil {
				q.opts.Dropped(0, "corrupt", 1)
			}
			q.mu.Lock()
			if q.cursor == pos {
				q.cursor = position{seg: seg.id, off: seg.size}
			}
			q.mu.Unlock()
			continue
		}
		if err != nil {
			return Batch{}, err
		}
		q.mu.Lock()
		if !slices.ContainsFunc(q.segs, func(s segment) bool { return s.id == seg.id }) {
			// drop_oldest removed the segment while it was being read, and counted what it
			// held as dropped (inflight was not set yet): sending it too would count it twice.
			q.mu.Unlock()
			continue
		}
		q.inflight = b.end
		q.mu.Unlock()
		q.headTime.Store(b.First.UnixNano())
		return b, nil
	}
}

// read reads a batch from seg (size as known under mu) at pos.
func (q *Queue) read(pos position, seg segment, maxBytes int) (Batch, error) {
	if q.rf == nil || q.rfID != seg.id {
		if q.rf != nil {
			q.rf.Close()
			q.rf = nil
		}
		f, err := os.Open(filepath.Join(q.dir, segmentName(seg.id)))
		if err != nil {
			return Batch{}, err
		}
		q.rf, q.rfID = f, seg.id
	}
	b := Batch{}
	off := pos.off
	for off < seg.size {
		e, next, err := readEntry(q.rf, off, seg.size, false)
		if err != nil {
			if len(b.Payloads) > 0 && errors.Is(err, errTorn) {
				break // hand over what is whole; the next Next reports the bad entry
			}
			return Batch{}, err
		}
		if len(b.Payloads) > 0 && e.signal != b.Signal {
			break
		}
		p := e.payload
		if e.flags&flagZstd != 0 {
			if p, err = q.dec.DecodeAll(p, nil); err != nil {
				if len(b.Payloads) > 0 {
					break
				}
				return Batch{}, fmt.Errorf("%w: %v", errTorn, err)
			}
		}
		if len(b.Payloads) > 0 && b.Bytes+len(p) > maxBytes {
			break
		}
		if len(b.Payloads) == 0 {
			b.Signal, b.First = e.signal, e.time
		}
		b.Payloads = append(b.Payloads, p)
		b.items = append(b.items, e.items)
		b.Items += e.items
		b.Bytes += len(p)
		off = next
	}
	b.end = position{seg: seg.id, off: off}
	return b, nil
}

// Ack moves the head past b and deletes segments wholly behind it.
func (q *Queue) Ack(b Batch) error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return ErrClosed
	}
	q.inflight = position{}
	if q.cursor.less(b.end) {
		q.cursor = b.end
	}
	var remove []uint64
	for len(q.segs) > 1 && (q.segs[0].id < q.cursor.seg || q.segs[0].id == q.cursor.seg && q.cursor.off >= q.segs[0].size) {
		remove = append(remove, q.segs[0].id)
		q.total -= q.segs[0].size
		q.segs = q.segs[1:]
		if q.cursor.seg < q.segs[0].id {
			q.cursor = position{seg: q.segs[0].id}
		}
	}
	cur := q.cursor
	q.mu.Unlock()
	// The cursor first: a crash between the two leaves segments that load removes.
	err := q.writeCursor(cur)
	for _, id := range remove {
		if rerr := os.Remove(filepath.Join(q.dir, segmentName(id))); rerr != nil && !os.IsNotExist(rerr) {
			err = errors.Join(err, rerr)
		}
	}
	return err
}

// Close syncs and closes the queue; Next waiting returns ErrClosed.
func (q *Queue) Close() error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return nil
	}
	q.closed = true
	close(q.notify)
	cur := q.cursor
	err := q.w.Sync()
	if err == nil {
		storeMax(&q.synced, q.written)
	}
	err = errors.Join(err, q.w.Close())
	q.mu.Unlock()
	err = errors.Join(err, q.writeCursor(cur))
	q.syncMu.Lock() // wait for a group fsync in flight
	q.syncMu.Unlock()
	q.dec.Close()
	return err
}

// closeReader closes the reader's file; called by the sender once it has stopped.
func (q *Queue) closeReader() {
	if q.rf != nil {
		q.rf.Close()
		q.rf = nil
	}
}
