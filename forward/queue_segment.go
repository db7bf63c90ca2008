package forward

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"time"
)

// A segment file is a sequence of entries, each one batch as it was appended:
//
//	u32 LE  body length n
//	u32 LE  CRC-32C of the body
//	body:   u8 signal, u8 flags, u32 LE items, i64 LE append time (Unix ns), payload (n-14 bytes)
//
// The payload is an OTLP export request in protobuf, zstd-compressed when flags has
// flagZstd. A crash can leave a torn last entry (short, or a CRC that does not match); the
// queue cuts it when it opens. Nothing else is in the file: no header, so an empty file is a
// valid empty segment.
const (
	entryHeaderLen = 8
	entryMetaLen   = 14
	flagZstd       = 1
	// maxEntryBytes bounds one entry's body, so a corrupt length cannot make a reader
	// allocate more than this.
	maxEntryBytes = 256 << 20
)

// Signal is the kind of data in an entry.
type Signal uint8

// Signals, as numbered on disk.
const (
	SignalTraces Signal = iota + 1
	SignalLogs
	SignalMetrics
)

// String is the signal's name in configuration and metric labels.
func (s Signal) String() string {
	switch s {
	case SignalTraces:
		return "traces"
	case SignalLogs:
		return "logs"
	case SignalMetrics:
		return "metrics"
	}
	return "unknown"
}

// ParseSignal is the inverse of String.
func ParseSignal(s string) (Signal, bool) {
	for _, sig := range []Signal{SignalTraces, SignalLogs, SignalMetrics} {
		if sig.String() == s {
			return sig, true
		}
	}
	return 0, false
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// entry is one decoded queue entry.
type entry struct {
	signal  Signal
	flags   uint8
	items   int
	time    time.Time
	payload []byte
}

// errTorn is a short or corrupt entry: the end of the readable part of a segment.
var errTorn = errors.New("torn or corrupt queue entry")

// appendEntry encodes e at the end of dst.
func appendEntry(dst []byte, e entry) []byte {
	n := entryMetaLen + len(e.payload)
	start := len(dst)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(n))
	dst = binary.LittleEndian.AppendUint32(dst, 0) // CRC, filled below
	body := len(dst)
	dst = append(dst, byte(e.signal), e.flags)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(e.items))
	dst = binary.LittleEndian.AppendUint64(dst, uint64(e.time.UnixNano()))
	dst = append(dst, e.payload...)
	binary.LittleEndian.PutUint32(dst[start+4:], crc32.Checksum(dst[body:], castagnoli))
	return dst
}

// readEntry reads the entry at off of a segment of size bytes. It returns errTorn for an
// entry that is cut short, over maxEntryBytes, or fails its CRC; readers stop there. If
// metaOnly, the payload is not read (its CRC is not checked either).
func readEntry(r io.ReaderAt, off, size int64, metaOnly bool) (entry, int64, error) {
	var hdr [entryHeaderLen + entryMetaLen]byte
	if size-off < int64(len(hdr)) {
		return entry{}, off, errTorn
	}
	if _, err := r.ReadAt(hdr[:], off); err != nil {
		return entry{}, off, fmt.Errorf("read queue entry header at %d: %w", off, err)
	}
	n := int64(binary.LittleEndian.Uint32(hdr[0:]))
	if n < entryMetaLen || n > maxEntryBytes || off+entryHeaderLen+n > size {
		return entry{}, off, errTorn
	}
	m := hdr[entryHeaderLen:]
	e := entry{
		signal: Signal(m[0]),
		flags:  m[1],
		items:  int(binary.LittleEndian.Uint32(m[2:])),
		time:   time.Unix(0, int64(binary.LittleEndian.Uint64(m[6:]))),
	}
	next := off + entryHeaderLen + n
	if metaOnly {
		return e, next, nil
	}
	body := make([]byte, n)
	if _, err := r.ReadAt(body, off+entryHeaderLen); err != nil {
		return entry{}, off, fmt.Errorf("read queue entry at %d: %w", off, err)
	}
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(hdr[4:]) {
		return entry{}, off, errTorn
	}
	e.payload = body[entryMetaLen:]
	return e, next, nil
}

// scanSegment reads every whole entry of a segment from off and returns where the readable
// part ends (the size, unless the tail is torn) and, per signal, the items of the entries.
func scanSegment(r io.ReaderAt, off, size int64) (end int64, items map[Signal]int, err error) {
	items = map[Signal]int{}
	for off < size {
		e, next, err := readEntry(r, off, size, false)
		if errors.Is(err, errTorn) {
			return off, items, nil
		}
		if err != nil {
			return off, items, err
		}
		items[e.signal] += e.items
		off = next
	}
	return off, items, nil
}
