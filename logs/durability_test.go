package logs

import (
	"context"
	"os"
	"path/filepath"
	"testing"

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
