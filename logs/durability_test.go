package logs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigilhq/vigil/internal/crashtest"
)

// TestDurability checks that acknowledged lines are searchable, byte for byte, after each
// way the process can stop.
func TestDurability(t *testing.T) {
	cases := []struct {
		name  string
		write func(t *testing.T) string // returns the dir to reopen
	}{
		{"close and reopen", func(t *testing.T) string {
			dir := t.TempDir()
			s, err := Open(dir, testOptions(), nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			writeFixture(t, s)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			return dir
		}},
		{"flush, close and reopen", func(t *testing.T) string {
			dir := t.TempDir()
			s, err := Open(dir, testOptions(), nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			writeFixture(t, s)
			if err := s.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			return dir
		}},
		{"copy of dir while open, WAL only", func(t *testing.T) string {
			dir := t.TempDir()
			s := openTestStore(t, dir, testOptions())
			writeFixture(t, s)
			return copyDir(t, dir)
		}},
		{"copy of dir while open, half flushed", func(t *testing.T) string {
			dir := t.TempDir()
			s := openTestStore(t, dir, testOptions())
			recs := fixtureRecords()
			if err := s.WriteLogs(context.Background(), recs[:5]); err != nil {
				t.Fatal(err)
			}
			if err := s.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			if err := s.WriteLogs(context.Background(), recs[5:]); err != nil {
				t.Fatal(err)
			}
			return copyDir(t, dir)
		}},
		{"writer killed with SIGKILL", func(t *testing.T) string {
			dir := t.TempDir()
			crashtest.KillAfterWrite(t, dir)
			return dir
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.write(t)
			s := openTestStore(t, dir, testOptions())
			checkFixture(t, s)
			// And once more after the replayed lines were flushed by Close.
			if err := s.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			checkFixture(t, s)
		})
	}
}

// copyDir copies dir without closing the store: only what was acknowledged is there, as
// after a crash. The copy leaves the LOCK file unlocked.
func copyDir(t *testing.T, dir string) string {
	t.Helper()
	snap := filepath.Join(t.TempDir(), "crashed")
	if err := os.CopyFS(snap, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	return snap
}

// crashWrite is the killed writer's side (see crashtest): half of the fixture flushed into
// partitions, half only in the WAL, one acknowledged write per line; it never closes the store.
func crashWrite(dir string) error {
	s, err := Open(dir, testOptions(), nil, nil)
	if err != nil {
		return err
	}
	recs := fixtureRecords()
	ctx := context.Background()
	if err := s.WriteLogs(ctx, recs[:6]); err != nil {
		return err
	}
	if err := s.Flush(ctx); err != nil {
		return err
	}
	for i := 6; i < len(recs); i++ {
		if err := s.WriteLogs(ctx, recs[i:i+1]); err != nil {
			return err
		}
	}
	return nil
}

// TestOldFormatRefused: a directory from the previous on-disk format (no FORMAT file,
// 48-byte block entries) is refused with ErrUnsupportedFormat and left untouched.
func TestOldFormatRefused(t *testing.T) {
	dir := t.TempDir()
	part := filepath.Join(dir, "20260101T100000Z-3600s")
	if err := os.MkdirAll(part, 0o755); err != nil {
		t.Fatal(err)
	}
	old := make([]byte, 48)
	if err := os.WriteFile(filepath.Join(part, "blocks.idx"), old, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(dir, testOptions(), nil, nil)
	if !errors.Is(err, ErrUnsupportedFormat) {
		t.Fatalf("Open = %v, want ErrUnsupportedFormat", err)
	}
	if b, err := os.ReadFile(filepath.Join(part, "blocks.idx")); err != nil || len(b) != 48 {
		t.Fatalf("blocks.idx changed: %d bytes, %v", len(b), err)
	}
	if err := os.WriteFile(filepath.Join(dir, "FORMAT"), []byte("vigil-logs-9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, testOptions(), nil, nil); !errors.Is(err, ErrUnsupportedFormat) {
		t.Fatalf("Open with another FORMAT = %v, want ErrUnsupportedFormat", err)
	}
}

// TestCorruptBlockSections: a flipped byte in a block's dictionary, messages or records
// makes the queries that read it fail with an error, never answer with wrong lines.
func TestCorruptBlockSections(t *testing.T) {
	for _, section := range []string{"dictionary", "messages", "records"} {
		t.Run(section, func(t *testing.T) {
			dir := t.TempDir()
			s, err := Open(dir, testOptions(), nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			writeFixture(t, s)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			parts, err := filepathGlob(dir)
			if err != nil || len(parts) == 0 {
				t.Fatalf("partitions: %v %v", parts, err)
			}
			idx, err := os.ReadFile(filepath.Join(parts[0], "blocks.idx"))
			if err != nil {
				t.Fatal(err)
			}
			e, ok := parseBlockEntry(idx)
			if !ok {
				t.Fatal("cannot parse the first block entry")
			}
			at := int64(e.off) + int64(e.bloomSize) + 1 // dictionary
			switch section {
			case "messages":
				at = int64(e.off) + int64(e.bloomSize+e.dictSize) + int64(e.msgSize)/2
			case "records":
				at = int64(e.off) + int64(e.size) - 4
			}
			f, err := os.OpenFile(filepath.Join(parts[0], "blocks.dat"), os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			b := make([]byte, 1)
			if _, err := f.ReadAt(b, at); err != nil {
				t.Fatal(err)
			}
			b[0] ^= 0x55
			if _, err := f.WriteAt(b, at); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			s = openTestStore(t, dir, testOptions())
			_, err = s.Query(context.Background(), Query{Start: t0, End: t0.Add(2 * time.Hour), Limit: 100})
			if err == nil {
				t.Fatalf("query over a block with a corrupt %s succeeded", section)
			}
		})
	}
}
