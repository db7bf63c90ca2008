// Package proc runs the systems a bench/ driver measures: child processes on loopback in
// their own process group, started on a fresh data directory, waited for until ready, stopped
// with SIGTERM (SIGKILL after a timeout), and killed together by KillAll on the way out. It
// also runs a generator and reads its JSON summary, and measures what a process leaves on
// disk and in memory. It knows no system in particular: a driver hands it command lines.
package proc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Spec is how to run one system.
type Spec struct {
	Name     string
	Args     []string // command line, Args[0] the binary
	ReadyURL string   // answers 200 once the system takes writes and queries
	Ports    []int    // must be free before the start (everything listens on 127.0.0.1)
}

// Proc is a running system.
type Proc struct {
	name    string
	cmd     *exec.Cmd
	exited  chan struct{}
	started time.Time
}

// running are the children, killed by KillAll.
var (
	mu      sync.Mutex
	running = map[*Proc]bool{}
)

// KillAll kills every process started by Start and not yet stopped, with its process group.
func KillAll() {
	mu.Lock()
	defer mu.Unlock()
	for p := range running {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
		delete(running, p)
	}
}

// Start runs s with its output appended to log and waits until s.ReadyURL answers 200. It
// returns the process (also on a readiness failure, so the caller can stop it) and the time
// from exec to the first ready answer.
func Start(ctx context.Context, s Spec, log string, timeout time.Duration) (*Proc, time.Duration, error) {
	for _, port := range s.Ports {
		if err := PortFree(port); err != nil {
			return nil, 0, fmt.Errorf("start %s: %w", s.Name, err)
		}
	}
	lf, err := os.OpenFile(log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, 0, err
	}
	defer lf.Close()
	fmt.Fprintf(lf, "\n$ %s\n", strings.Join(s.Args, " "))
	cmd := exec.Command(s.Args[0], s.Args[1:]...)
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p := &Proc{name: s.Name, cmd: cmd, exited: make(chan struct{})}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, 0, fmt.Errorf("start %s: %w", s.Name, err)
	}
	mu.Lock()
	running[p] = true
	mu.Unlock()
	go func() { _ = cmd.Wait(); close(p.exited) }()

	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return p, 0, ctx.Err()
		case <-p.exited:
			return p, 0, fmt.Errorf("%s exited while starting (see %s)", s.Name, log)
		case <-time.After(20 * time.Millisecond):
		}
		resp, err := client.Get(s.ReadyURL)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, time.Since(p.started), nil
			}
		}
	}
	return p, 0, fmt.Errorf("%s not ready after %s (see %s)", s.Name, timeout, log)
}

// Stop sends SIGTERM and waits for the exit; after timeout it kills the process group. A
// second Stop returns at once.
func (p *Proc) Stop(timeout time.Duration) (time.Duration, error) {
	t0 := time.Now()
	defer func() {
		mu.Lock()
		delete(running, p)
		mu.Unlock()
	}()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return time.Since(t0), nil
	case <-time.After(timeout):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
		return time.Since(t0), fmt.Errorf("%s did not stop within %s; killed", p.name, timeout)
	}
}

// Pid is the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// PortFree fails if something already listens on 127.0.0.1:port.
func PortFree(port int) error {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
	if err == nil {
		c.Close()
		return fmt.Errorf("127.0.0.1:%d is already in use (set BASE_PORT)", port)
	}
	return nil
}

// RunJSON runs a generator to completion, its stderr (progress) appended to log, and decodes
// the last line of its stdout (a JSON summary) into out. The generator dies with the caller.
func RunJSON(ctx context.Context, bin, log string, args []string, out any) error {
	lf, err := os.OpenFile(log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer lf.Close()
	fmt.Fprintf(lf, "\n$ %s %s\n", bin, strings.Join(args, " "))
	var stdout bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, lf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w (see %s)", bin, strings.Join(args, " "), err, log)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), out); err != nil {
		return fmt.Errorf("%s output %.300q: %w", bin, stdout.String(), err)
	}
	return nil
}

// Kill sends SIGKILL to the process group — a crash, not a stop — and waits for the exit.
func (p *Proc) Kill() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.exited
	mu.Lock()
	delete(running, p)
	mu.Unlock()
}

// Alive reports whether the process is still running.
func (p *Proc) Alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}
