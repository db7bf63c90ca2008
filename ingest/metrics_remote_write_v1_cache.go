package ingest

import (
	"sync"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
)

// defaultSeriesRefCacheSize is how many series one generation of the
// remote-write series-ref cache holds unless configured; with two
// generations the cache remembers between 1 and 2 times as many. An entry
// costs about the size of the series' labels twice plus ~80 bytes.
const defaultSeriesRefCacheSize = 1 << 20

// seriesRefCache maps the label fields of a remote-write 1.0 series, as
// sent, to its labels and the storage's series ref, so that a known series
// is appended without decoding its labels or hashing them in the head.
//
// Only series that passed every check (label limits, Prometheus's validity
// rules) and were appended are cached: the same bytes decode to the same
// labels, so a hit needs no further check. Refs are ephemeral by the
// storage.AppenderV2 contract: a ref the storage no longer knows (a series
// garbage-collected from the head after compaction) makes it fall back to the
// labels passed along, and the new ref replaces the old one here.
//
// Bounded by generations: when the current map reaches max entries it
// becomes the old one and the previous old one is cleared; a hit in the old
// generation moves the entry forward. Safe for concurrent use; a request
// takes the read lock once for all its look-ups and the write lock once
// for all its inserts.
type seriesRefCache struct {
	mu  sync.RWMutex
	cur map[string]cachedSeries
	old map[string]cachedSeries
	max int
}

type cachedSeries struct {
	ref storage.SeriesRef
	ls  labels.Labels
}

// seriesRefUpdate is an insert into the cache, deferred until the request
// commits.
type seriesRefUpdate struct {
	key string
	cachedSeries
}

func newSeriesRefCache(maxPerGeneration int) *seriesRefCache {
	if maxPerGeneration <= 0 {
		maxPerGeneration = defaultSeriesRefCacheSize
	}
	return &seriesRefCache{
		cur: map[string]cachedSeries{},
		old: map[string]cachedSeries{},
		max: maxPerGeneration,
	}
}

// lookup resolves the key of every series of r. A hit in the old
// generation is queued in r.updates to move it forward.
func (c *seriesRefCache) lookup(r *rwV1Request) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for i := range r.series {
		s := &r.series[i]
		key := r.key(s)
		if e, ok := c.cur[string(key)]; ok {
			s.ref, s.ls, s.hit = e.ref, e.ls, true
			continue
		}
		if len(c.old) == 0 {
			continue
		}
		if e, ok := c.old[string(key)]; ok {
			s.ref, s.ls, s.hit = e.ref, e.ls, true
			r.updates = append(r.updates, seriesRefUpdate{key: string(key), cachedSeries: e})
		}
	}
}

// store inserts or refreshes entries.
func (c *seriesRefCache) store(updates []seriesRefUpdate) {
	if len(updates) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, u := range updates {
		if u.ref == 0 {
			continue // the storage says not to cache it
		}
		c.cur[u.key] = u.cachedSeries
		if len(c.cur) >= c.max {
			clear(c.old)
			c.old, c.cur = c.cur, c.old
		}
	}
}

// len is the number of entries in both generations, for tests.
func (c *seriesRefCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.cur) + len(c.old)
}
