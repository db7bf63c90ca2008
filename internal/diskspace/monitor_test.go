package diskspace

import (
	"log/slog"
	"os"
	"syscall"
	"testing"
	"time"
)

func TestMonitorFollowsFreeSpace(t *testing.T) {
	dir := t.TempDir()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root")
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=8m"); err != nil {
		t.Skipf("cannot mount a small tmpfs: %v", err)
	}
	defer syscall.Unmount(dir, syscall.MNT_DETACH)

	m, err := New(dir, 4<<20, time.Hour, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Refuse(); err != nil {
		t.Fatalf("an empty 8 MiB disk with a 4 MiB reserve refuses: %v", err)
	}
	if err := os.WriteFile(dir+"/big", make([]byte, 6<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := m.check(); err != nil {
		t.Fatal(err)
	}
	if err := m.Refuse(); err == nil {
		t.Fatalf("%d bytes free under a 4 MiB reserve, but writes are accepted", m.Free())
	}
	if err := os.Remove(dir + "/big"); err != nil {
		t.Fatal(err)
	}
	if err := m.check(); err != nil {
		t.Fatal(err)
	}
	if err := m.Refuse(); err != nil {
		t.Fatalf("space returned, still refusing: %v", err)
	}
}

func TestNewFailsOnMissingDir(t *testing.T) {
	if _, err := New(t.TempDir()+"/nope", 1, time.Second, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("no error for a missing directory")
	}
}
