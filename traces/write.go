package traces

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/cespare/xxhash/v2"
	"github.com/cockroachdb/pebble/v2"
)

// WriteSpans stores spans and returns nil only once they are durable: the batch is
// committed to pebble's write-ahead log with fsync (concurrent writers share fsyncs through
// pebble's group commit). Writing the same batch again (a client retry) rewrites the same
// keys; a span written twice in different batches is stored twice and read once. It does
// not keep spans. Safe for concurrent use.
func (db *DB) WriteSpans(ctx context.Context, spans []Span) error {
	if len(spans) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("write %d spans: %w", len(spans), err)
	}
	if err := db.acquire(); err != nil {
		return err
	}
	defer db.closing.RUnlock()

	w, _ := db.writers.Get().(*spanWriter)
	if w == nil {
		w = newSpanWriter()
	}
	defer db.writers.Put(w)
	batch := db.pdb.NewBatch()
	defer batch.Close()
	if err := w.write(db, batch, spans); err != nil {
		return db.writeFailed(len(spans), err)
	}
	if err := batch.Commit(pebble.Sync); err != nil {
		return db.writeFailed(len(spans), err)
	}
	db.names.add(w.newNames...)
	db.resources.markWritten(w.newRes)
	db.m.spansWritten.Add(float64(len(spans)))
	if db.opts.Observer != nil {
		db.opts.Observer.ObserveSpans(spans)
	}
	return nil
}

func (db *DB) writeFailed(n int, err error) error {
	db.m.writeFailures.Inc()
	return fmt.Errorf("write %d spans: %w", n, err)
}

// spanWriter is the scratch space of one WriteSpans call, pooled.
type spanWriter struct {
	enc      chunkEncoder
	key, val []byte
	text     []byte

	chunkIdx map[chunkRef]int32
	chunks   []chunkSpans
	order    []int32 // span indices grouped by chunk
	chunkOf  []int32

	resHash  map[resourceRef]uint64
	resLocal map[resourceKeyT]struct{}
	groups   []chunkGroup
	groupOf  []int32
	hashes   []uint64
	distinct hashSet
	resDone  []bool
	derived  []Attribute
	services []string

	seenNames map[nameEntry]struct{}
	newNames  []nameEntry
	newRes    []resourceKeyT
}

type chunkRef struct {
	bucket uint32
	trace  TraceID
}

type chunkSpans struct {
	chunkRef
	off, n int32
}

// resourceRef identifies a resource slice: spans decoded from one OTLP resource share it,
// so its hash is computed once per batch.
type resourceRef struct {
	first *Attribute
	n     int
}

func newSpanWriter() *spanWriter {
	return &spanWriter{
		chunkIdx:  map[chunkRef]int32{},
		resHash:   map[resourceRef]uint64{},
		resLocal:  map[resourceKeyT]struct{}{},
		seenNames: map[nameEntry]struct{}{},
	}
}

func (w *spanWriter) reset() {
	clear(w.chunkIdx)
	clear(w.resHash)
	clear(w.resLocal)
	clear(w.seenNames)
	w.chunks = w.chunks[:0]
	w.order = w.order[:0]
	w.chunkOf = w.chunkOf[:0]
	w.newNames = w.newNames[:0]
	w.newRes = w.newRes[:0]
}

// write adds the keys of spans to batch: one chunk per trace and hour, the resources not
// stored yet, one summary per chunk and service, and the names not known yet.
func (w *spanWriter) write(db *DB, batch *pebble.Batch, spans []Span) error {
	w.reset()
	// Group the spans by trace and hour (a counting sort keeps their order within a chunk).
	for i := range spans {
		s := &spans[i]
		ref := chunkRef{bucketOf(s.Start), s.TraceID}
		c, ok := w.chunkIdx[ref]
		if !ok {
			c = int32(len(w.chunks))
			w.chunkIdx[ref] = c
			w.chunks = append(w.chunks, chunkSpans{chunkRef: ref})
		}
		w.chunks[c].n++
		w.chunkOf = append(w.chunkOf, c)
	}
	var off int32
	for i := range w.chunks {
		w.chunks[i].off = off
		off += w.chunks[i].n
		w.chunks[i].n = 0
	}
	w.order = slices.Grow(w.order[:0], len(spans))[:len(spans)]
	for i, c := range w.chunkOf {
		ch := &w.chunks[c]
		w.order[ch.off+ch.n] = int32(i)
		ch.n++
	}
	for i := range w.chunks {
		if err := w.writeChunk(db, batch, spans, &w.chunks[i]); err != nil {
			return err
		}
	}
	return nil
}

func (w *spanWriter) writeChunk(db *DB, batch *pebble.Batch, spans []Span, c *chunkSpans) error {
	idx := w.order[c.off : c.off+c.n]
	w.groups, w.groupOf = w.groups[:0], w.groupOf[:0]
	for _, j := range idx {
		s := &spans[j]
		h, err := w.resource(db, batch, c.bucket, s.Resource)
		if err != nil {
			return err
		}
		g := slices.IndexFunc(w.groups, func(g chunkGroup) bool {
			return g.resHash == h && g.service == s.Service && g.scope == s.Scope
		})
		if g < 0 {
			g = len(w.groups)
			w.groups = append(w.groups, chunkGroup{service: s.Service, resHash: h, scope: s.Scope})
		}
		w.groupOf = append(w.groupOf, int32(g))
		if err := w.name(db, batch, c.bucket, s); err != nil {
			return err
		}
	}
	// The chunk id is a hash of its span ids: a retried batch lands on the same key.
	w.text = w.text[:0]
	for _, j := range idx {
		w.text = append(w.text, spans[j].SpanID[:]...)
	}
	var cid chunkID
	binary.BigEndian.PutUint64(cid[:], xxhash.Sum64(w.text))
	w.key = chunkKey(w.key[:0], c.bucket, c.trace, cid)
	if err := batch.Set(w.key, w.enc.encodeChunk(spans, idx, w.groups, w.groupOf), nil); err != nil {
		return err
	}
	return w.summaries(db, batch, spans, c, idx, cid)
}

// resource returns the hash of a span's resource and stores it in bucket b unless it is
// there already.
func (w *spanWriter) resource(db *DB, batch *pebble.Batch, b uint32, res []Attribute) (uint64, error) {
	if len(res) == 0 {
		return 0, nil
	}
	ref := resourceRef{&res[0], len(res)}
	h, ok := w.resHash[ref]
	var val []byte
	if !ok {
		val = w.enc.encodeResource(res)
		h = xxhash.Sum64(val) | 1 // 0 means "no resource"
		w.resHash[ref] = h
	}
	k := resourceKeyT{b, h}
	if _, ok := w.resLocal[k]; ok {
		return h, nil
	}
	w.resLocal[k] = struct{}{}
	if db.resources.isWritten(k) {
		return h, nil
	}
	if val == nil {
		val = w.enc.encodeResource(res)
	}
	w.newRes = append(w.newRes, k)
	return h, batch.Set(resourceKey(w.key[:0], b, h), val, nil)
}

// name writes the names key of s's operation unless the catalog has it.
func (w *spanWriter) name(db *DB, batch *pebble.Batch, b uint32, s *Span) error {
	ne := nameEntry{bucket: b, op: Operation{Service: s.Service, Kind: s.Kind, Name: s.Name}}
	if _, ok := w.seenNames[ne]; ok {
		return nil
	}
	w.seenNames[ne] = struct{}{}
	if db.names.has(ne) {
		return nil
	}
	w.newNames = append(w.newNames, ne)
	return batch.Set(namesKey(w.key[:0], b, s.Service, s.Kind, s.Name), nil, nil)
}

// summaries writes one service index entry per service of the chunk.
func (w *spanWriter) summaries(db *DB, batch *pebble.Batch, spans []Span, c *chunkSpans, idx []int32, cid chunkID) error {
	w.services = w.services[:0]
	for _, g := range w.groups {
		if !slices.Contains(w.services, g.service) {
			w.services = append(w.services, g.service)
		}
	}
	for _, svc := range w.services {
		w.hashes = w.hashes[:0]
		w.resDone = append(w.resDone[:0], make([]bool, len(w.groups))...)
		sum := summary{minDur: 1<<63 - 1}
		startNs, lastNs := int64(1<<63-1), int64(-1<<63)
		for i, j := range idx {
			s := &spans[j]
			if s.Service != svc {
				continue
			}
			start, d := s.Start.UnixNano(), s.End.Sub(s.Start).Nanoseconds()
			startNs, lastNs = min(startNs, start), max(lastNs, start)
			sum.minDur, sum.maxDur = min(sum.minDur, d), max(sum.maxDur, d)
			sum.failed = sum.failed || s.StatusCode == StatusError
			w.hashes = append(w.hashes, nameHash(s.Name))
			w.addTags(db, s.Attributes)
			w.derived = derivedTags(w.derived[:0], s.Kind, s.StatusCode)
			w.addTags(db, w.derived)
			if g := w.groupOf[i]; !w.resDone[g] {
				w.resDone[g] = true
				w.addTags(db, s.Resource)
			}
		}
		w.hashes = w.distinct.compact(w.hashes)
		sum.spread = lastNs - startNs
		sum.bloom = buildBloom(w.text[:0], w.hashes)
		w.val = appendSummary(w.val[:0], &sum)
		w.text = sum.bloom
		w.key = indexPrefix(w.key[:0], c.bucket, kindService, svc)
		w.key = appendIndexSuffix(w.key, startNs, c.trace, cid)
		if err := batch.Set(w.key, w.val, nil); err != nil {
			return err
		}
	}
	return nil
}

func (w *spanWriter) addTags(db *DB, as []Attribute) {
	for i := range as {
		a := &as[i]
		if len(a.Key) > db.opts.MaxIndexedValueLen {
			continue
		}
		w.text = appendValueText(w.text[:0], a.Value)
		if len(w.text) > db.opts.MaxIndexedValueLen {
			continue
		}
		w.hashes = append(w.hashes, tagHash(a.Key, w.text))
	}
}

// hashSet removes duplicate hashes without sorting: a linear-probing table reused from
// call to call (a span's tags mostly repeat its siblings': method, route, port...).
type hashSet struct{ slots []uint64 }

// compact returns the distinct values of hs, in hs's storage.
func (t *hashSet) compact(hs []uint64) []uint64 {
	size := 16
	for size < 2*len(hs) {
		size *= 2
	}
	if cap(t.slots) < size {
		t.slots = make([]uint64, size)
	}
	t.slots = t.slots[:size]
	clear(t.slots)
	mask := uint64(size - 1)
	out := hs[:0]
	zero := false // 0 marks an empty slot, so it is tracked apart
	for _, h := range hs {
		if h == 0 {
			if !zero {
				zero = true
				out = append(out, 0)
			}
			continue
		}
		for i := h & mask; ; i = (i + 1) & mask {
			if t.slots[i] == h {
				break
			}
			if t.slots[i] == 0 {
				t.slots[i] = h
				out = append(out, h)
				break
			}
		}
	}
	return out
}
