package logs

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/klauspost/compress/zstd"
)

// A partition is one time range's directory:
//
//	<dir>/<start, 20060102T150405Z>-<seconds>s/
//	    blocks.dat   zstd-compressed blocks, appended
//	    blocks.idx   one 48-byte blockEntry per block, appended after blocks.dat is fsynced
//	    index/       bleve (scorch) index, one document per block, id = seq in hex
//
// blocks.idx is the source of truth: at open, blocks.dat is cut back to the end of the last
// valid entry, and blocks missing from the bleve index (it is written with scorch's
// unsafe_batch, so its last batches may be lost in a crash) are indexed again.
type partition struct {
	key        int64 // start, Unix seconds
	start, end int64 // Unix ns, [start, end)
	dir        string

	useMu   sync.RWMutex // readers hold R while using the files; drop and close hold W
	dropped bool         // guarded by useMu

	data     *os.File
	idx      *os.File
	dataSize int64 // append offset of blocks.dat; flusher only
	idxSize  int64
	index    bleve.Index

	entries []blockEntry // ascending seq; guarded by Store.mu, append-only
	nextSeq uint64       // at open: max seq + 1
}

const partitionTimeLayout = "20060102T150405Z"

func partitionDirName(start time.Time, d time.Duration) string {
	return start.UTC().Format(partitionTimeLayout) + "-" + strconv.FormatInt(int64(d/time.Second), 10) + "s"
}

func parsePartitionDirName(name string) (time.Time, time.Duration, bool) {
	ts, secs, ok := strings.Cut(name, "-")
	if !ok {
		return time.Time{}, 0, false
	}
	start, err := time.Parse(partitionTimeLayout, ts)
	if err != nil {
		return time.Time{}, 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSuffix(secs, "s"), 10, 64)
	if err != nil || n <= 0 || !strings.HasSuffix(secs, "s") {
		return time.Time{}, 0, false
	}
	return start, time.Duration(n) * time.Second, true
}

func indexMapping() mapping.IndexMapping {
	m := bleve.NewIndexMapping()
	// Documents are built directly (Batch.IndexAdvanced) and queried with term-level
	// queries, so the mapping only has to exist; keep it from indexing anything on its own.
	m.DefaultAnalyzer = "keyword"
	m.DefaultField = fieldMessage
	m.StoreDynamic = false
	m.DocValuesDynamic = false
	return m
}

// scorchConfig returns a fresh config each time: bleve writes into the map it is given
// (the store path among others), so a shared map would point one index at another's files.
func scorchConfig() map[string]any { return map[string]any{"unsafe_batch": true} }

// openPartition opens or creates the partition directory dir.
func openPartition(dir string, start time.Time, d time.Duration, dec *zstd.Decoder, log *slog.Logger) (_ *partition, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create partition %s: %w", dir, err)
	}
	p := &partition{key: start.Unix(), start: start.UnixNano(), end: start.Add(d).UnixNano(), dir: dir}
	defer func() {
		if err != nil {
			err = errors.Join(err, p.close())
		}
	}()
	if p.data, err = os.OpenFile(filepath.Join(dir, "blocks.dat"), os.O_CREATE|os.O_RDWR, 0o644); err != nil {
		return nil, fmt.Errorf("open partition blocks: %w", err)
	}
	if p.idx, err = os.OpenFile(filepath.Join(dir, "blocks.idx"), os.O_CREATE|os.O_RDWR, 0o644); err != nil {
		return nil, fmt.Errorf("open partition block index: %w", err)
	}
	if err := p.loadEntries(log); err != nil {
		return nil, err
	}
	ipath := filepath.Join(dir, "index")
	var index bleve.Index
	if _, serr := os.Stat(ipath); serr == nil {
		index, err = bleve.OpenUsing(ipath, scorchConfig())
		if err != nil {
			// The index is derived from blocks.dat and blocks.idx (a crash or a copy of a
			// live directory can leave scorch's files inconsistent): rebuild it.
			log.Warn("cannot open bleve index; rebuilding it from the blocks", "index", ipath, "err", err)
			if rerr := os.RemoveAll(ipath); rerr != nil {
				return nil, fmt.Errorf("remove broken bleve index %s: %w", ipath, errors.Join(err, rerr))
			}
			index, err = bleve.NewUsing(ipath, indexMapping(), scorch.Name, scorch.Name, scorchConfig())
		}
	} else {
		index, err = bleve.NewUsing(ipath, indexMapping(), scorch.Name, scorch.Name, scorchConfig())
	}
	if err != nil {
		return nil, fmt.Errorf("open bleve index %s: %w", ipath, err)
	}
	p.index = index
	if err := syncDir(dir); err != nil {
		return nil, err
	}
	if err := p.reconcile(dec, log); err != nil {
		return nil, err
	}
	return p, nil
}

// loadEntries reads blocks.idx, stopping at the first torn or corrupt entry, keeps the last
// entry of each seq (a retried flush may have written one twice) and trims both files.
func (p *partition) loadEntries(log *slog.Logger) error {
	b, err := os.ReadFile(p.idx.Name())
	if err != nil {
		return fmt.Errorf("read block index %s: %w", p.idx.Name(), err)
	}
	fi, err := p.data.Stat()
	if err != nil {
		return fmt.Errorf("stat blocks %s: %w", p.data.Name(), err)
	}
	bySeq := map[uint64]int{}
	var valid int64
	for off := 0; off+blockEntrySize <= len(b); off += blockEntrySize {
		e, ok := parseBlockEntry(b[off:])
		if !ok || int64(e.off)+int64(e.size) > fi.Size() {
			log.Warn("corrupt block index entry; ignoring the rest", "file", p.idx.Name(), "offset", off)
			break
		}
		if i, dup := bySeq[e.seq]; dup {
			p.entries[i] = e
		} else {
			bySeq[e.seq] = len(p.entries)
			p.entries = append(p.entries, e)
		}
		valid = int64(off + blockEntrySize)
		p.dataSize = max(p.dataSize, int64(e.off)+int64(e.size))
	}
	if valid != int64(len(b)) {
		if err := p.idx.Truncate(valid); err != nil {
			return fmt.Errorf("trim block index %s: %w", p.idx.Name(), err)
		}
	}
	if p.dataSize != fi.Size() {
		if err := p.data.Truncate(p.dataSize); err != nil {
			return fmt.Errorf("trim blocks %s: %w", p.data.Name(), err)
		}
	}
	p.idxSize = valid
	slices.SortFunc(p.entries, func(a, b blockEntry) int { return compareUint64(a.seq, b.seq) })
	for _, e := range p.entries {
		p.nextSeq = max(p.nextSeq, e.seq+1)
	}
	return nil
}

// reconcile indexes blocks that blocks.idx has and the bleve index lost.
func (p *partition) reconcile(dec *zstd.Decoder, log *slog.Logger) error {
	n, err := p.index.DocCount()
	if err != nil {
		return fmt.Errorf("count documents in %s: %w", p.dir, err)
	}
	if n >= uint64(len(p.entries)) {
		return nil
	}
	have, err := p.search(query.NewMatchAllQuery(), int(n)+1)
	if err != nil {
		return err
	}
	seen := make(map[uint64]bool, len(have))
	for _, s := range have {
		seen[s] = true
	}
	batch := p.index.NewBatch()
	missing := 0
	var db dictBuilder
	for _, e := range p.entries {
		if seen[e.seq] {
			continue
		}
		lines, err := p.readBlock(e, dec)
		if err != nil {
			// Refusing to open would take every other block offline with it; a query that
			// reads this block reports the damage.
			log.Error("cannot reindex a damaged block", "partition", p.dir, "block", e.seq, "err", err)
			continue
		}
		terms := db.build(lines)
		if err := batch.IndexAdvanced(blockDocument(e.seq, &terms, e.minT, e.maxT)); err != nil {
			return fmt.Errorf("reindex block %d of %s: %w", e.seq, p.dir, err)
		}
		missing++
	}
	if err := p.index.Batch(batch); err != nil {
		return fmt.Errorf("reindex %d blocks of %s: %w", missing, p.dir, err)
	}
	log.Info("reindexed blocks missing from the bleve index", "partition", p.dir, "blocks", missing)
	return nil
}

// search returns the seqs of the block documents matching q (at most size).
func (p *partition) search(q query.Query, size int) ([]uint64, error) {
	req := bleve.NewSearchRequestOptions(q, size, 0, false)
	req.Score = bleve.ScoreNone
	res, err := p.index.Search(req)
	if err != nil {
		return nil, fmt.Errorf("search bleve index of %s: %w", p.dir, err)
	}
	seqs := make([]uint64, 0, len(res.Hits))
	for _, h := range res.Hits {
		s, err := parseDocID(h.ID)
		if err != nil {
			return nil, fmt.Errorf("search %s: bad document id %q: %w", p.dir, h.ID, err)
		}
		seqs = append(seqs, s)
	}
	return seqs, nil
}

// writeBlocks appends blocks to the partition durably (blocks.dat then blocks.idx, each
// fsynced) and indexes them; it returns their entries for the caller to publish.
func (p *partition) writeBlocks(blocks []*memBlock, w *blockWriter, enc *zstd.Encoder) ([]blockEntry, error) {
	entries := make([]blockEntry, 0, len(blocks))
	batch := p.index.NewBatch()
	var buf []byte
	for _, b := range blocks {
		sec, terms := w.encode(b.lines, enc)
		buf = append(append(append(append(buf[:0], sec.bloom...), sec.dict...), sec.msgs...), sec.recs...)
		if _, err := p.data.WriteAt(buf, p.dataSize); err != nil {
			return nil, fmt.Errorf("write block %d to %s: %w", b.seq, p.data.Name(), err)
		}
		entries = append(entries, blockEntry{
			seq: b.seq, off: uint64(p.dataSize), size: uint32(len(buf)),
			bloomSize: uint32(len(sec.bloom)), dictSize: uint32(len(sec.dict)), msgSize: uint32(len(sec.msgs)),
			lines: uint32(len(b.lines)), dictCRC: crc32.Checksum(sec.dict, castagnoli), bloomCRC: crc32.Checksum(sec.bloom, castagnoli),
			minT: b.minT, maxT: b.maxT, msgCRC: crc32.Checksum(sec.msgs, castagnoli),
		})
		p.dataSize += int64(len(buf))
		if err := batch.IndexAdvanced(blockDocument(b.seq, &terms, b.minT, b.maxT)); err != nil {
			return nil, fmt.Errorf("index block %d of %s: %w", b.seq, p.dir, err)
		}
	}
	if err := p.data.Sync(); err != nil {
		return nil, fmt.Errorf("fsync blocks %s: %w", p.data.Name(), err)
	}
	idx := make([]byte, 0, len(entries)*blockEntrySize)
	for i := range entries {
		idx = entries[i].appendTo(idx)
	}
	if _, err := p.idx.WriteAt(idx, p.idxSize); err != nil {
		return nil, fmt.Errorf("write block index %s: %w", p.idx.Name(), err)
	}
	if err := p.idx.Sync(); err != nil {
		return nil, fmt.Errorf("fsync block index %s: %w", p.idx.Name(), err)
	}
	p.idxSize += int64(len(idx))
	if err := p.index.Batch(batch); err != nil {
		return nil, fmt.Errorf("index %d blocks of %s: %w", len(blocks), p.dir, err)
	}
	return entries, nil
}

// sizeBytes is the partition's size on disk.
func (p *partition) sizeBytes() int64 {
	var n int64
	_ = filepath.WalkDir(p.dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// close closes the files and the index; the caller holds useMu or owns p alone.
func (p *partition) close() error {
	var errs []error
	if p.index != nil {
		if err := p.index.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close bleve index of %s: %w", p.dir, err))
		}
		p.index = nil
	}
	for _, f := range []*os.File{p.data, p.idx} {
		if f != nil {
			if err := f.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close %s: %w", f.Name(), err))
			}
		}
	}
	p.data, p.idx = nil, nil
	return errors.Join(errs...)
}
