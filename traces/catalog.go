package traces

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"

	"github.com/cockroachdb/pebble/v2"
)

// Operation is a span name of a service, with its kind.
type Operation struct {
	Service string
	Kind    SpanKind
	Name    string
}

type nameEntry struct {
	bucket uint32
	op     Operation
}

// catalog is the in-memory copy of the names keys: which operations exist in which hour
// bucket. It answers /api/services and /api/operations without reading the store, and tells
// readers which buckets exist.
type catalog struct {
	mu      sync.RWMutex
	buckets map[uint32]map[Operation]struct{}
}

func newCatalog() *catalog { return &catalog{buckets: map[uint32]map[Operation]struct{}{}} }

func (c *catalog) has(e nameEntry) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	_, ok := c.buckets[e.bucket][e.op]
	return ok
}

func (c *catalog) add(es ...nameEntry) {
	if len(es) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range es {
		ops := c.buckets[e.bucket]
		if ops == nil {
			ops = map[Operation]struct{}{}
			c.buckets[e.bucket] = ops
		}
		ops[e.op] = struct{}{}
	}
}

func (c *catalog) drop(b uint32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.buckets, b)
}

// bucketList returns the existing buckets in [from, to], newest first.
func (c *catalog) bucketList(from, to uint32) []uint32 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var bs []uint32
	for b := range c.buckets {
		if b >= from && b <= to {
			bs = append(bs, b)
		}
	}
	slices.SortFunc(bs, func(a, b uint32) int { return cmp.Compare(b, a) })
	return bs
}

// operations returns every operation matching the filter, sorted by service, name, kind.
func (c *catalog) operations(keep func(Operation) bool) []Operation {
	c.mu.RLock()
	seen := map[Operation]struct{}{}
	for _, ops := range c.buckets {
		for op := range ops {
			if keep(op) {
				seen[op] = struct{}{}
			}
		}
	}
	c.mu.RUnlock()
	out := make([]Operation, 0, len(seen))
	for op := range seen {
		out = append(out, op)
	}
	slices.SortFunc(out, func(a, b Operation) int {
		return cmp.Or(cmp.Compare(a.Service, b.Service), cmp.Compare(a.Name, b.Name), cmp.Compare(a.Kind, b.Kind))
	})
	return out
}

// loadCatalog reads every names key: one short range per bucket, skipping from one bucket
// to the next with a seek.
func (db *DB) loadCatalog() error {
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixIndex}, UpperBound: []byte{prefixIndex + 1}})
	if err != nil {
		return fmt.Errorf("load operation names: %w", err)
	}
	defer it.Close()
	for valid := it.First(); valid; {
		k := it.Key()
		if len(k) < 5 {
			valid = it.Next()
			continue
		}
		b := binary.BigEndian.Uint32(k[1:5])
		lo := indexPrefix(nil, b, kindNames)
		for valid = it.SeekGE(lo); valid && hasPrefix(it.Key(), lo); valid = it.Next() {
			op, ok := parseNamesKey(it.Key()[len(lo):])
			if !ok {
				return fmt.Errorf("load operation names: %w: key %q", errCorrupt, it.Key())
			}
			db.names.add(nameEntry{bucket: b, op: op})
		}
		if b == ^uint32(0) {
			break
		}
		lo, _ = bucketsRange(prefixIndex, b+1, b+2)
		valid = it.SeekGE(lo)
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("load operation names: %w", err)
	}
	return nil
}

// parseNamesKey parses service 0x00 kind name.
func parseNamesKey(rest []byte) (Operation, bool) {
	i := slices.Index(rest, 0)
	if i < 0 || i+1 >= len(rest) {
		return Operation{}, false
	}
	return Operation{Service: string(rest[:i]), Kind: SpanKind(rest[i+1]), Name: string(rest[i+2:])}, true
}

func hasPrefix(b, p []byte) bool { return len(b) >= len(p) && string(b[:len(p)]) == string(p) }
