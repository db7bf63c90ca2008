package memlimit

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// DefaultFraction is the share of the machine's (or cgroup's) memory Vigil takes when no
// limit is configured: enough headroom for the page cache the stores read through and for the
// kernel, as VictoriaMetrics (60%) and Mimir's guidance (about 80%) leave.
const DefaultFraction = 0.7

// Source says where a limit came from, for the start-up log line.
type Source string

const (
	FromConfig  Source = "config"
	FromEnv     Source = "GOMEMLIMIT"
	FromMachine Source = "machine"
)

// Resolve returns the memory limit in bytes: configured when configured > 0, else GOMEMLIMIT
// from the environment when set, else DefaultFraction of the cgroup limit or of the machine's
// memory, whichever is smaller. root is "/" outside tests.
func Resolve(configured int64, getenv func(string) string, root string) (int64, Source, error) {
	if configured > 0 {
		return configured, FromConfig, nil
	}
	if v := getenv("GOMEMLIMIT"); v != "" && v != "off" {
		n, err := parseGoMemLimit(v)
		if err != nil {
			return 0, "", fmt.Errorf("read GOMEMLIMIT=%q: %w", v, err)
		}
		return n, FromEnv, nil
	}
	total, err := machineMemory(root)
	if err != nil {
		return 0, "", err
	}
	return int64(float64(total) * DefaultFraction), FromMachine, nil
}

// Apply sets the Go runtime's soft memory limit and returns the previous one.
func Apply(limit int64) int64 { return debug.SetMemoryLimit(limit) }

// machineMemory is the smaller of MemTotal and the cgroup v2 (or v1) memory limit.
func machineMemory(root string) (int64, error) {
	meminfo, err := os.ReadFile(root + "proc/meminfo")
	if err != nil {
		return 0, fmt.Errorf("read machine memory: %w", err)
	}
	total, err := memTotal(meminfo)
	if err != nil {
		return 0, fmt.Errorf("read machine memory from /proc/meminfo: %w", err)
	}
	for _, p := range []string{"sys/fs/cgroup/memory.max", "sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(root + p)
		if err != nil {
			continue
		}
		s := strings.TrimSpace(string(b))
		if s == "max" {
			continue
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 && n < total {
			total = n // cgroup v1 reports a huge number for "no limit": the min drops it
		}
	}
	return total, nil
}

func memTotal(meminfo []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(meminfo))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return 0, err
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("no MemTotal line")
}

// parseGoMemLimit reads GOMEMLIMIT's syntax: a byte count with an optional B, KiB, MiB, GiB
// or TiB suffix, as the Go runtime does.
func parseGoMemLimit(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   float64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}
	mult := 1.0
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n <= 0 || math.IsInf(n*mult, 0) {
		return 0, errors.New("want a positive byte count such as 4GiB")
	}
	return int64(n * mult), nil
}
