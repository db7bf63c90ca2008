package logs

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
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
			killedWriter(t, dir)
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

const crashChildEnv = "VIGIL_LOGS_CRASH_CHILD_DIR"

// killedWriter runs this test binary as a child that writes the fixture into dir (half of
// it flushed into partitions, half only in the WAL) and reports it, then kills the child
// with SIGKILL.
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

// runCrashChild is the child side of killedWriter. It never closes the store.
func runCrashChild(dir string) int {
	s, err := Open(dir, testOptions(), nil, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	recs := fixtureRecords()
	ctx := context.Background()
	if err := s.WriteLogs(ctx, recs[:6]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := s.Flush(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for i := 6; i < len(recs); i++ { // one acknowledged write per line
		if err := s.WriteLogs(ctx, recs[i:i+1]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	fmt.Println("committed")
	time.Sleep(time.Hour) // wait for SIGKILL
	return 0
}
