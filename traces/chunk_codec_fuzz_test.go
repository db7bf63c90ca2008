package traces

import (
	"testing"
)

// FuzzDecodeChunk: a corrupt chunk or resource record fails cleanly and never panics, and
// the headers of a chunk that decodes decode too, one per span.
func FuzzDecodeChunk(f *testing.F) {
	var e chunkEncoder
	spans := fixtureTrace(1, base)
	idx := []int32{0, 1, 2, 3, 4, 5}
	groups := []chunkGroup{{service: "frontend", resHash: 7, scope: Scope{Name: "net/http", Version: "1.0"}}, {service: "payment"}, {service: "cart"}}
	f.Add(append([]byte(nil), e.encodeChunk(spans, idx, groups, []int32{0, 0, 1, 1, 0, 2})...))
	f.Add(append([]byte(nil), e.encodeResource(spans[0].Resource)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		resolve := func(uint64) ([]Attribute, error) { return nil, nil }
		_, _ = decodeHeaders(b)
		_, _ = decodeResource(b)
		got, err := decodeChunk(tid(1), b, resolve)
		if err != nil {
			return
		}
		h, err := decodeHeaders(b)
		if err != nil || len(h.headers) != len(got) {
			t.Fatalf("chunk decodes but its headers do not: %v", err)
		}
	})
}
