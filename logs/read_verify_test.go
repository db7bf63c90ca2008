package logs

import (
	"encoding/binary"
	"slices"
	"strings"
	"testing"
)

// TestDecodeMessagesInto checks that the reusing decoder of only-counted blocks reads what
// decodeMessages reads and refuses what it refuses: every prefix and single-byte change of
// sections with short, long (2-byte length) and empty messages and negative time steps.
func TestDecodeMessagesInto(t *testing.T) {
	enc := func(times []int64, msgs []string) []byte {
		b := binary.AppendUvarint(nil, uint64(len(times)))
		prev := int64(0)
		for _, x := range times {
			b = binary.AppendVarint(b, x-prev)
			prev = x
		}
		for _, m := range msgs {
			b = binary.AppendUvarint(b, uint64(len(m)))
			b = append(b, m...)
		}
		return b
	}
	sections := [][]byte{
		enc(nil, nil),
		enc([]int64{1}, []string{""}),
		enc([]int64{1_700_000_000_000_000_000, 1_700_000_000_000_000_100, 1_699_999_999_000_000_000},
			[]string{"connection refused", strings.Repeat("x", 300), ""}),
	}
	var m blockMessages // reused across every call, as a query's counter does
	for _, sec := range sections {
		var inputs [][]byte
		for i := 0; i <= len(sec); i++ {
			inputs = append(inputs, sec[:i])
		}
		for i := range sec {
			for _, c := range []byte{0x00, 0x7f, 0x80, 0xff} {
				b := slices.Clone(sec)
				b[i] = c
				inputs = append(inputs, b)
			}
		}
		inputs = append(inputs, append(slices.Clone(sec), 0))
		for _, in := range inputs {
			want, wantErr := decodeMessages(in)
			gotErr := decodeMessagesInto(in, &m)
			if (wantErr != nil) != (gotErr != nil) {
				t.Fatalf("%x: error %v, want %v", in, gotErr, wantErr)
			}
			if wantErr == nil && (!slices.Equal(m.times, want.times) || !slices.Equal(m.msgs, want.msgs)) {
				t.Fatalf("%x: got %v %q, want %v %q", in, m.times, m.msgs, want.times, want.msgs)
			}
		}
	}
}
