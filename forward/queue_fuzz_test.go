package forward

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// FuzzSegmentReader: whatever bytes a segment file holds (a torn write, a bad disk), scanning
// it never panics, never reads past its size, and stops at an entry boundary. Seeds are in
// testdata/fuzz/FuzzSegmentReader.
func FuzzSegmentReader(f *testing.F) {
	var seg []byte
	for i, p := range [][]byte{[]byte("a"), bytes.Repeat([]byte("otlp"), 40), nil} {
		seg = appendEntry(seg, entry{signal: Signal(i%3 + 1), items: i + 1, time: time.Unix(1, 0), payload: p})
	}
	f.Add(seg)
	f.Add(seg[:len(seg)-3])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bytes.NewReader(b)
		end, items, err := scanSegment(r, 0, int64(len(b)))
		if err != nil {
			t.Fatalf("scan of an in-memory segment failed: %v", err)
		}
		if end < 0 || end > int64(len(b)) {
			t.Fatalf("readable end %d outside 0..%d", end, len(b))
		}
		// Every whole entry re-encodes to the same bytes, so end is an entry boundary.
		var again []byte
		for off := int64(0); off < end; {
			e, next, err := readEntry(r, off, end, false)
			if err != nil {
				t.Fatalf("entry at %d inside the readable part: %v", off, err)
			}
			again = appendEntry(again, e)
			items[e.signal] -= e.items
			off = next
		}
		if !bytes.Equal(again, b[:end]) {
			t.Fatal("whole entries do not re-encode to their bytes")
		}
		for s, n := range items {
			if n != 0 {
				t.Fatalf("signal %v: items differ by %d between scan and read", s, n)
			}
		}
		if _, _, err := readEntry(r, end, int64(len(b)), false); end < int64(len(b)) && !errors.Is(err, errTorn) {
			t.Fatalf("after the readable part: %v, want errTorn", err)
		}
	})
}
