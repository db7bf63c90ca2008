package proc

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// DiskBytes is what du reports for path: allocated blocks, not apparent sizes.
func DiskBytes(path string) int64 {
	var n int64
	_ = filepath.WalkDir(path, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				n += st.Blocks * 512
			}
		}
		return nil
	})
	return n
}

// DuBreakdown lists the disk usage of each directory in dir (loose files summed as "files"),
// and of the entries one level below the directories named in deeper.
func DuBreakdown(dir string, deeper ...string) string {
	entries, _ := os.ReadDir(dir)
	var parts []string
	var files int64
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if !e.IsDir() {
			files += DiskBytes(p)
			continue
		}
		parts = append(parts, fmt.Sprintf("%s=%s", e.Name(), MiB(DiskBytes(p))))
		if slices.Contains(deeper, e.Name()) {
			sub, _ := os.ReadDir(p)
			for _, s := range sub {
				parts = append(parts, fmt.Sprintf("%s/%s=%s", e.Name(), s.Name(), MiB(DiskBytes(filepath.Join(p, s.Name())))))
			}
		}
	}
	return strings.Join(append(parts, "files="+MiB(files)), " ")
}

// MiB formats a byte count.
func MiB(n int64) string { return fmt.Sprintf("%.1fMiB", float64(n)/(1<<20)) }

// StatusKiB reads a field such as VmRSS or VmHWM from /proc/<pid>/status, in KiB.
func StatusKiB(pid int, field string) (float64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			return strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// DuByExt sums the disk usage under dir by file extension (".sst", ".log", ".vlog", ...),
// largest first: where a store's bytes are (tables, WAL, value log).
func DuByExt(dir string) string {
	by := map[string]int64{}
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		ext := filepath.Ext(d.Name())
		if ext == "" {
			ext = d.Name()
		}
		by[ext] += DiskBytes(p)
		return nil
	})
	exts := make([]string, 0, len(by))
	for e := range by {
		exts = append(exts, e)
	}
	sort.Slice(exts, func(i, j int) bool { return by[exts[i]] > by[exts[j]] })
	var parts []string
	for _, e := range exts {
		parts = append(parts, fmt.Sprintf("%s=%s", e, MiB(by[e])))
	}
	return strings.Join(parts, " ")
}
