package traces

import (
	"errors"
	"fmt"
	"sync"

	"github.com/cockroachdb/pebble/v2"
)

// resourceCacheSize bounds each map of the resource cache; past it the map starts over
// (resources are few and hot; a miss costs one point read or one rewrite).
const resourceCacheSize = 1 << 16

type resourceKeyT struct {
	bucket uint32
	hash   uint64
}

// resourceCache remembers which resources are stored in which hour (so writers skip them)
// and keeps decoded ones for readers. Safe for concurrent use.
type resourceCache struct {
	mu      sync.Mutex
	written map[resourceKeyT]struct{}
	decoded map[resourceKeyT][]Attribute
}

func newResourceCache() *resourceCache {
	return &resourceCache{written: map[resourceKeyT]struct{}{}, decoded: map[resourceKeyT][]Attribute{}}
}

func (c *resourceCache) isWritten(k resourceKeyT) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.written[k]
	return ok
}

// markWritten records resources committed to the store.
func (c *resourceCache) markWritten(ks []resourceKeyT) {
	if len(ks) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.written)+len(ks) > resourceCacheSize {
		clear(c.written)
	}
	for _, k := range ks {
		c.written[k] = struct{}{}
	}
}

// drop forgets bucket b (retention deleted it).
func (c *resourceCache) drop(b uint32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.written {
		if k.bucket == b {
			delete(c.written, k)
		}
	}
	for k := range c.decoded {
		if k.bucket == b {
			delete(c.decoded, k)
		}
	}
}

// resource returns the resource attributes stored under hash in bucket b; nil if they are
// gone (a write racing with retention), which only loses the process tags of those spans.
func (db *DB) resource(b uint32, hash uint64) ([]Attribute, error) {
	k := resourceKeyT{b, hash}
	c := db.resources
	c.mu.Lock()
	as, ok := c.decoded[k]
	c.mu.Unlock()
	if ok {
		return as, nil
	}
	v, closer, err := db.pdb.Get(resourceKey(nil, b, hash))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read resource %016x: %w", hash, err)
	}
	as, err = decodeResource(v)
	closer.Close()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.decoded) >= resourceCacheSize {
		clear(c.decoded)
	}
	c.decoded[k] = as
	c.mu.Unlock()
	return as, nil
}
