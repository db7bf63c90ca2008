package traces

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"
)

const crashChildEnv = "VIGIL_TRACES_CRASH_CHILD_DIR"

// TestDurabilityKill9: a child process writes spans, says so once WriteSpans returned, and
// is killed with SIGKILL before it can close; every acknowledged span is there on reopen.
func TestDurabilityKill9(t *testing.T) {
	dir := t.TempDir()
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
	db := openTestDB(t, dir, DefaultOptions())
	for i := byte(1); i <= crashTraces; i++ {
		got, err := db.TraceSpans(context.Background(), tid(i))
		if err != nil || len(got) != 6 {
			t.Fatalf("trace %d after kill -9: %d spans, %v; want 6", i, len(got), err)
		}
	}
	svcs, _ := db.Services(context.Background())
	if len(svcs) != 3 {
		t.Errorf("services after kill -9: %v", svcs)
	}
}

const crashTraces = 20

// runCrashChild is the child side of TestDurabilityKill9. It never closes the DB.
func runCrashChild(dir string) int {
	db, err := Open(dir, DefaultOptions(), nil, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for i := byte(1); i <= crashTraces; i++ {
		if err := db.WriteSpans(context.Background(), fixtureTrace(i, base)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	fmt.Println("committed")
	time.Sleep(time.Hour) // wait for SIGKILL
	return 0
}
