package selfmetrics

import (
	"io/fs"
	"path/filepath"
	"sync"
	"time"
)

// DirSize reports the bytes on disk below a directory, walking it at most once per ttl so
// that a /metrics scrape every few seconds does not stat a large store every time.
type DirSize struct {
	dir string
	ttl time.Duration

	mu      sync.Mutex
	checked time.Time
	size    int64
}

// NewDirSize returns a DirSize for dir.
func NewDirSize(dir string, ttl time.Duration) *DirSize {
	return &DirSize{dir: dir, ttl: ttl}
}

// Bytes returns the size of the directory's regular files. Files that vanish during the walk
// (compaction, retention) are skipped rather than failing the whole figure.
func (d *DirSize) Bytes() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.checked.IsZero() && time.Since(d.checked) < d.ttl {
		return d.size
	}
	var total int64
	_ = filepath.WalkDir(d.dir, func(_ string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return nil
		}
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
			total += info.Size()
		}
		return nil
	})
	d.size, d.checked = total, time.Now()
	return total
}
