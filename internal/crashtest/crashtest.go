// Package crashtest proves a store's durability promise the hard way: it re-runs the test
// binary as a child that writes into a directory, waits until the child says its writes were
// acknowledged, and kills it with SIGKILL before it can close anything. The test then reopens
// the directory and checks that everything acknowledged is there.
//
// It is for tests only, and knows nothing of any store: the child's work is a function.
package crashtest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"
)

const (
	dirEnv  = "VIGIL_CRASHTEST_DIR"
	ackLine = "acknowledged"
)

// Main must be called first in TestMain. In a crash-test child it runs write on the child's
// directory, reports the acknowledgement and waits to be killed; it never returns there. In
// the test process itself it returns at once.
func Main(write func(dir string) error) {
	dir := os.Getenv(dirEnv)
	if dir == "" {
		return
	}
	if err := write(dir); err != nil {
		fmt.Fprintln(os.Stderr, "crash-test child:", err)
		os.Exit(1)
	}
	fmt.Println(ackLine)
	time.Sleep(time.Hour) // until SIGKILL; nothing is closed or flushed
	os.Exit(0)
}

// KillAfterWrite runs the child write of Main on dir and kills the child with SIGKILL as soon
// as it has reported its writes acknowledged.
func KillAfterWrite(t testing.TB, dir string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), dirEnv+"="+dir)
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
	if err != nil || line != ackLine+"\n" {
		t.Fatalf("crash-test child said %q (%v), want %q", line, err, ackLine)
	}
}
