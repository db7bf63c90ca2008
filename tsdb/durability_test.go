package tsdb

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
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
			killedWriter(t, dir)
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

const crashChildEnv = "VIGIL_TSDB_CRASH_CHILD_DIR"

// killedWriter runs this test binary as a child that commits the fixture into
// dir and reports it, then kills the child with SIGKILL before it can close.
func killedWriter(t *testing.T, dir string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if killErr := cmd.Process.Kill(); killErr != nil {
		t.Fatal(killErr)
	}
	_ = cmd.Wait() // "signal: killed" is the expected outcome
	if err != nil || line != "committed\n" {
		t.Fatalf("child said %q, %v; want \"committed\"", line, err)
	}
}

// runCrashChild is the child side of killedWriter. It never closes the DB.
func runCrashChild(dir string) int {
	db, err := Open(dir, DefaultOptions(), nil, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := writeFixture(db); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("committed")
	time.Sleep(time.Hour) // wait for SIGKILL
	return 0
}
