package logs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// formatVersion names the on-disk layout: blocks with a bloom filter, a dictionary and
// separate message and record sections, and 64-byte blocks.idx entries. Version 1 (one zstd
// frame per block, 48-byte entries, every term in bleve) had no FORMAT file.
const formatVersion = "vigil-logs-2"

// ErrUnsupportedFormat is returned by Open for a directory written in another on-disk
// format. There is no migration: move the directory away (or delete it) and start afresh.
var ErrUnsupportedFormat = errors.New("unsupported log store format")

// checkFormat accepts a directory in formatVersion or a new one (marking it), and refuses
// one written by an older version: reading its blocks.idx with this version's entry size
// would take every entry for a torn write and cut the data away.
func checkFormat(dir string) error {
	path := filepath.Join(dir, "FORMAT")
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if v := strings.TrimSpace(string(b)); v != formatVersion {
			return fmt.Errorf("open log store %s: format %q, this version reads %q: %w", dir, v, formatVersion, ErrUnsupportedFormat)
		}
		return nil
	case !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("read %s: %w", path, err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("list %s: %w", dir, err)
	}
	for _, e := range ents {
		if _, _, ok := parsePartitionDirName(e.Name()); ok && e.IsDir() {
			return fmt.Errorf("open log store %s: written by an older Vigil (format 1, no FORMAT file); this version reads %q only: move the directory away to start afresh: %w", dir, formatVersion, ErrUnsupportedFormat)
		}
	}
	if segs, err := walSegments(filepath.Join(dir, "wal")); err == nil {
		for _, seg := range segs {
			if fi, err := os.Stat(filepath.Join(dir, "wal", segmentName(seg))); err == nil && fi.Size() > 0 {
				return fmt.Errorf("open log store %s: its WAL was written by an older Vigil (no FORMAT file); this version reads %q only: move the directory away to start afresh: %w", dir, formatVersion, ErrUnsupportedFormat)
			}
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	_, err = f.WriteString(formatVersion + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return syncDir(dir)
}
