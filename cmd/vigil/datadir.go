package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// storeDirs are the per-store directories under the data directory.
var storeDirs = []string{"metrics", "logs", "traces", "alerting"}

// dataDir is the locked data directory. Two Vigils writing one directory would corrupt every
// store in it, so the second one is refused at start-up.
type dataDir struct {
	path string
	lock *os.File
}

func openDataDir(path string) (*dataDir, error) {
	for _, sub := range append([]string{""}, storeDirs...) {
		if err := os.MkdirAll(filepath.Join(path, sub), 0o755); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
	}
	f, err := os.OpenFile(filepath.Join(path, "vigil.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open data directory lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("data directory %s is in use by another vigil process", path)
		}
		return nil, fmt.Errorf("lock data directory %s: %w", path, err)
	}
	return &dataDir{path: path, lock: f}, nil
}

func (d *dataDir) store(name string) string { return filepath.Join(d.path, name) }

// Close releases the lock; the lock file stays so that its inode is stable.
func (d *dataDir) Close() error { return d.lock.Close() }
