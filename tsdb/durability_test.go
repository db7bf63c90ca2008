package tsdb

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vigilhq/vigil/internal/crashtest"
)

// TestDurability checks that a committed batch (floats, a native histogram
// and an exemplar) is readable after each way the process can stop.
func TestDurability(t *testing.T) {
	cases := []struct {
		name string
		// write stores the fixture and returns the dir to reopen.
		write func(t *testing.T) string
	}{
		{"close and reopen", func(t *testing.T) string {
			dir := t.TempDir()
			db, err := Open(dir, DefaultOptions(), nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			appendFixture(t, db)
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			return dir
		}},
		{"copy of dir while open", func(t *testing.T) string {
			dir := t.TempDir()
			db := openTestDB(t, dir, DefaultOptions())
			appendFixture(t, db)
			// Copy without closing: only what Commit already wrote is there,
			// as after a crash.
			snap := filepath.Join(t.TempDir(), "crashed")
			if err := os.CopyFS(snap, os.DirFS(dir)); err != nil {
				t.Fatal(err)
			}
			return snap
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
			db := openTestDB(t, dir, DefaultOptions())
			checkFixture(t, db)
		})
	}
}

// crashWrite is the killed writer's side (see crashtest): it never closes the DB.
func crashWrite(dir string) error {
	db, err := Open(dir, DefaultOptions(), nil, nil)
	if err != nil {
		return err
	}
	return writeFixture(db)
}
