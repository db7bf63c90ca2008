package logs

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// smallDisk mounts a tmpfs of size bytes on a fresh directory, or skips the test where that
// is not allowed (not root, no tmpfs). resize changes its size in place.
func smallDisk(t *testing.T, size int) (dir string, resize func(int)) {
	t.Helper()
	dir = t.TempDir()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root")
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d", size)); err != nil {
		t.Skipf("cannot mount a small tmpfs: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir, func(n int) {
		if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_REMOUNT, fmt.Sprintf("size=%d", n)); err != nil {
			t.Fatalf("resize tmpfs: %v", err)
		}
	}
}

// A full disk refuses writes with an error; once there is room again the store takes writes
// by itself, and after a restart every acknowledged line is there, once.
func TestDiskFullRecovers(t *testing.T) {
	dir, resize := smallDisk(t, 2<<20)
	o := testOptions()
	s, err := Open(dir, o, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	batch := func(i int) []Record {
		recs := make([]Record, 200)
		for j := range recs {
			msg := fmt.Sprintf("batch %d line %d %s", i, j, strings.Repeat("x", 200))
			recs[j] = Record{Time: t0.Add(time.Duration(i*200+j) * time.Millisecond), Service: "disk", Level: "info",
				Message: msg, Raw: []byte(`{"msg":"` + msg + `"}`)}
		}
		return recs
	}
	ctx := context.Background()
	acked, failedAt := 0, -1
	for i := 0; i < 200; i++ {
		if err := s.WriteLogs(ctx, batch(i)); err != nil {
			if !strings.Contains(err.Error(), "no space left") {
				t.Fatalf("batch %d: %v, want a no-space error", i, err)
			}
			failedAt = i
			break
		}
		acked += 200
	}
	if failedAt < 0 {
		t.Fatal("the disk never filled")
	}
	if err := s.WriteLogs(ctx, batch(failedAt)); err == nil {
		t.Fatal("a write went through on a full disk")
	}
	resize(64 << 20)
	for i := failedAt; i < failedAt+3; i++ {
		if err := s.WriteLogs(ctx, batch(i)); err != nil {
			t.Fatalf("write after space returned: %v", err)
		}
		acked += 200
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTestStore(t, dir, o)
	res, err := s.Query(ctx, Query{Q: "service:disk", Start: t0.Add(-time.Hour), End: t0.Add(2 * time.Hour), Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != acked {
		t.Errorf("%d lines after restart, want the %d acknowledged", res.Total, acked)
	}
}
