package diskspace

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"syscall"
	"time"
)

// Monitor re-reads the free space of the filesystem holding a directory every interval and
// reports whether it is below the reserve. Safe for concurrent use.
type Monitor struct {
	dir      string
	reserve  uint64
	interval time.Duration
	log      *slog.Logger
	free     atomic.Uint64
	low      atomic.Bool
}

// New returns a Monitor of dir that reads the free space once now; Run keeps it current.
func New(dir string, reserve uint64, interval time.Duration, log *slog.Logger) (*Monitor, error) {
	m := &Monitor{dir: dir, reserve: reserve, interval: interval, log: log}
	if err := m.check(); err != nil {
		return nil, err
	}
	return m, nil
}

// Run re-reads the free space until ctx ends.
func (m *Monitor) Run(ctx context.Context) {
	t := time.NewTicker(m.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := m.check(); err != nil {
				m.log.Warn("Cannot read free disk space", "dir", m.dir, "err", err)
			}
		}
	}
}

func (m *Monitor) check() error {
	var st syscall.Statfs_t
	if err := syscall.Statfs(m.dir, &st); err != nil {
		return fmt.Errorf("statfs %s: %w", m.dir, err)
	}
	free := st.Bavail * uint64(st.Bsize) // what an unprivileged writer may still use
	m.free.Store(free)
	low := free < m.reserve
	if was := m.low.Swap(low); was != low {
		if low {
			m.log.Error("Data disk nearly full: ingest refuses writes until space returns", "dir", m.dir, "free_bytes", free, "reserve_bytes", m.reserve)
		} else {
			m.log.Info("Data disk has room again: ingest takes writes", "dir", m.dir, "free_bytes", free)
		}
	}
	return nil
}

// Free is the free space at the last reading, in bytes.
func (m *Monitor) Free() uint64 { return m.free.Load() }

// Refuse returns an error saying why writes are refused while free space is below the
// reserve, else nil.
func (m *Monitor) Refuse() error {
	if !m.low.Load() {
		return nil
	}
	return fmt.Errorf("the data disk is nearly full (%d MiB free, %d MiB kept in reserve for the stores): writes are refused until space is freed",
		m.free.Load()>>20, m.reserve>>20)
}
