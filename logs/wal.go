package logs

import (
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

	"github.com/VictoriaMetrics/metrics"
)

// The write-ahead log is a directory of numbered segment files (wal/00000001.wal, ...).
// Each holds frames: uint32 payload length, uint32 CRC-32C of the payload, payload (a
// batch as encodeRecords writes it). Writers append a frame, then call sync: whoever takes
// the sync lock first fsyncs everything appended so far, so concurrent writers share one
// fsync (group commit). A flush rotates to a new segment; once every line buffered before
// the rotation is durable in a partition, the older segments are deleted.

const walFrameHeader = 8

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type wal struct {
	dir string

	mu      sync.Mutex // guards f, seg, written, err
	f       *os.File
	seg     int
	written uint64 // bytes appended since open, across segments
	segSize int64  // bytes in the current segment
	// err is sticky: after a failed fsync, or a failed write that could not be cut back out
	// of the segment, the WAL refuses writes.
	err error

	syncMu sync.Mutex // held while fsyncing; rotate holds it too
	synced atomic.Uint64
	size   atomic.Int64 // bytes in all live segments

	fsyncs *metrics.Counter // may be nil
}

func segmentName(seg int) string { return fmt.Sprintf("%08d.wal", seg) }

// walSegments lists the segment numbers in dir, ascending.
func walSegments(dir string) ([]int, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list WAL %s: %w", dir, err)
	}
	var segs []int
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".wal")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		segs = append(segs, n)
	}
	slices.Sort(segs)
	return segs, nil
}

// replayWAL calls fn with every intact batch in dir, oldest first, and returns the highest
// segment number seen. A torn or corrupt frame ends its segment: such a frame was never
// acknowledged, because acknowledgement follows the fsync of the whole frame.
func replayWAL(dir string, log *slog.Logger, fn func([]Record) error) (last int, size int64, err error) {
	segs, err := walSegments(dir)
	if err != nil {
		return 0, 0, err
	}
	for _, seg := range segs {
		path := filepath.Join(dir, segmentName(seg))
		b, err := os.ReadFile(path)
		if err != nil {
			return 0, 0, fmt.Errorf("read WAL segment %s: %w", path, err)
		}
		size += int64(len(b))
		off := 0
		for off < len(b) {
			if len(b)-off < walFrameHeader {
				log.Warn("torn WAL frame header; ignoring the rest of the segment", "segment", path, "offset", off)
				break
			}
			n := int(binary.LittleEndian.Uint32(b[off:]))
			sum := binary.LittleEndian.Uint32(b[off+4:])
			if n > len(b)-off-walFrameHeader {
				log.Warn("torn WAL frame; ignoring the rest of the segment", "segment", path, "offset", off)
				break
			}
			payload := b[off+walFrameHeader : off+walFrameHeader+n]
			if crc32.Checksum(payload, castagnoli) != sum {
				log.Warn("WAL frame checksum mismatch; ignoring the rest of the segment", "segment", path, "offset", off)
				break
			}
			recs, err := decodeRecords(payload)
			if err != nil {
				log.Warn("undecodable WAL frame; ignoring the rest of the segment", "segment", path, "offset", off, "err", err)
				break
			}
			if err := fn(recs); err != nil {
				return 0, 0, fmt.Errorf("replay WAL segment %s: %w", path, err)
			}
			off += walFrameHeader + n
		}
		last = seg
	}
	return last, size, nil
}

// openWAL starts a new segment after seg.
func openWAL(dir string, seg int, size int64) (*wal, error) {
	w := &wal{dir: dir, seg: seg}
	w.size.Store(size)
	if err := w.openSegment(seg + 1); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *wal) openSegment(seg int) error {
	path := filepath.Join(w.dir, segmentName(seg))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("create WAL segment %s: %w", path, err)
	}
	if err := syncDir(w.dir); err != nil {
		return errors.Join(err, f.Close())
	}
	w.f, w.seg, w.segSize = f, seg, 0
	return nil
}

// append writes one frame and returns the position sync must reach for it to be durable.
// frame is walFrameHeader bytes that append fills, then the payload: the caller leaves room
// for the header, so the frame goes out in one write without copying the payload.
func (w *wal) append(frame []byte) (uint64, error) {
	payload := frame[walFrameHeader:]
	binary.LittleEndian.PutUint32(frame, uint32(len(payload)))
	binary.LittleEndian.PutUint32(frame[4:], crc32.Checksum(payload, castagnoli))
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return 0, w.err
	}
	if _, err := w.f.Write(frame); err != nil {
		err = fmt.Errorf("append to WAL segment %d: %w", w.seg, err)
		// A failed write (a full disk, typically) may have left part of the frame: cut the
		// segment back to its last whole frame, so the WAL takes writes again once there is
		// room, and replay never meets a torn frame followed by acknowledged ones.
		if terr := w.f.Truncate(w.segSize); terr != nil {
			w.err = errors.Join(err, fmt.Errorf("cut WAL segment %d back to %d bytes: %w", w.seg, w.segSize, terr))
			return 0, w.err
		}
		return 0, err
	}
	w.segSize += int64(len(frame))
	w.written += uint64(len(frame))
	w.size.Add(int64(len(frame)))
	return w.written, nil
}

// sync returns once everything up to pos is fsynced, sharing fsyncs between callers.
func (w *wal) sync(pos uint64) error {
	if w.synced.Load() >= pos {
		return nil
	}
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	if w.synced.Load() >= pos {
		return nil
	}
	w.mu.Lock()
	f, target, err := w.f, w.written, w.err
	w.mu.Unlock()
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		// After a failed fsync the page cache state is unknown: refuse further writes.
		err = fmt.Errorf("fsync WAL segment %s: %w", f.Name(), err)
		w.mu.Lock()
		w.err = err
		w.mu.Unlock()
		return err
	}
	w.synced.Store(target)
	if w.fsyncs != nil {
		w.fsyncs.Inc()
	}
	return nil
}

// rotate fsyncs and closes the current segment and starts the next; it returns the new
// segment's number. Segments below it may be removed once their lines are in partitions.
func (w *wal) rotate() (int, error) {
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return 0, w.err
	}
	if err := w.f.Sync(); err != nil {
		w.err = fmt.Errorf("fsync WAL segment %s: %w", w.f.Name(), err)
		return 0, w.err
	}
	w.synced.Store(w.written)
	if err := w.f.Close(); err != nil {
		w.err = fmt.Errorf("close WAL segment %s: %w", w.f.Name(), err)
		return 0, w.err
	}
	if err := w.openSegment(w.seg + 1); err != nil {
		w.err = err
		return 0, err
	}
	return w.seg, nil
}

// removeBefore deletes the segments numbered below seg.
func (w *wal) removeBefore(seg int) error {
	segs, err := walSegments(w.dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, s := range segs {
		if s >= seg {
			break
		}
		path := filepath.Join(w.dir, segmentName(s))
		if fi, err := os.Stat(path); err == nil {
			w.size.Add(-fi.Size())
		}
		if err := os.Remove(path); err != nil {
			errs = append(errs, fmt.Errorf("remove WAL segment %s: %w", path, err))
		}
	}
	return errors.Join(errs...)
}

func (w *wal) close() error {
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := errors.Join(w.f.Sync(), w.f.Close())
	w.f = nil
	if w.err == nil {
		w.err = ErrClosed
	}
	if err != nil {
		return fmt.Errorf("close WAL %s: %w", w.dir, err)
	}
	return nil
}

// syncDir fsyncs a directory so that files created or removed in it stay so.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory %s for fsync: %w", dir, err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}
