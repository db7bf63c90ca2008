package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// These tests run the real binary, since signals and exit codes belong to the process.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

func vigilBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "vigil-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "vigil")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// proc is a running vigil with its log lines collected.
type proc struct {
	cmd   *exec.Cmd
	mu    sync.Mutex
	lines []string
	ready chan string // main HTTP address, once logged
	done  chan error
}

var readyLine = regexp.MustCompile(`msg="Vigil is ready" http=(\S+)`)

func startVigil(t *testing.T, args ...string) *proc {
	t.Helper()
	bin := vigilBinary(t)
	args = append([]string{"--data-dir", t.TempDir(), "--http-listen", "127.0.0.1:0",
		"--otlp-grpc-listen", "127.0.0.1:0", "--otlp-http-listen", "127.0.0.1:0"}, args...)
	p := &proc{cmd: exec.Command(bin, args...), ready: make(chan string, 1), done: make(chan error, 1)}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.lines = append(p.lines, line)
			p.mu.Unlock()
			if m := readyLine.FindStringSubmatch(line); m != nil {
				p.ready <- m[1]
			}
		}
		p.done <- p.cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
		}
	})
	return p
}

func (p *proc) waitReady(t *testing.T) string {
	t.Helper()
	select {
	case addr := <-p.ready:
		return addr
	case err := <-p.done:
		t.Fatalf("vigil exited before ready: %v\n%s", err, p.log())
	case <-time.After(10 * time.Second):
		t.Fatalf("vigil not ready within 10s\n%s", p.log())
	}
	return ""
}

func (p *proc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

// waitExit returns the exit code, failing if the process takes longer than within.
func (p *proc) waitExit(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case err := <-p.done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(within):
		t.Fatalf("vigil did not exit within %s\n%s", within, p.log())
	}
	return -1
}

func TestProcessServesAndStopsCleanlyOnSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			p := startVigil(t)
			addr := p.waitReady(t)
			resp, err := http.Get("http://" + addr + "/readyz")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("/readyz = %d", resp.StatusCode)
			}
			resp, err = http.Get("http://" + addr + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(body), "# TYPE vigil_http_requests_total counter") {
				t.Errorf("/metrics lacks typed vigil_ metrics:\n%.2000s", body)
			}
			_ = p.cmd.Process.Signal(sig)
			if code := p.waitExit(t, 10*time.Second); code != 0 {
				t.Fatalf("exit code %d after %s, want 0\n%s", code, sig, p.log())
			}
			if !strings.Contains(p.log(), "stopped cleanly") {
				t.Errorf("no clean-stop line in the log:\n%s", p.log())
			}
		})
	}
}

func TestSecondSignalForcesExit(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "vigil.yml")
	if err := os.WriteFile(cfg, []byte("shutdown_timeout: 1m\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startVigil(t, "--config", cfg)
	addr := p.waitReady(t)
	// A request whose headers never finish keeps the graceful shutdown waiting.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("POST /-/reload HTTP/1.1\r\nHost: x\r\n")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		t.Fatalf("exited (%v) while a request was in flight; want it to wait\n%s", err, p.log())
	case <-time.After(500 * time.Millisecond):
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.waitExit(t, 3*time.Second); code != 1 {
		t.Fatalf("exit code %d after a second signal, want 1", code)
	}
}

func TestSIGHUPReloads(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "vigil.yml")
	if err := os.WriteFile(cfg, []byte("log_level: info\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startVigil(t, "--config", cfg)
	p.waitReady(t)
	if err := os.WriteFile(cfg, []byte("log_level: info\nnot_a_key: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Process.Signal(syscall.SIGHUP)
	waitLog(t, p, `reload on SIGHUP refused`)
	if err := os.WriteFile(cfg, []byte("log_level: debug\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Process.Signal(syscall.SIGHUP)
	waitLog(t, p, `configuration reloaded`)
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.waitExit(t, 10*time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
}

func waitLog(t *testing.T, p *proc, want string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if strings.Contains(p.log(), want) {
			return
		}
	}
	t.Fatalf("log never said %q:\n%s", want, p.log())
}

func TestBadConfigExitsAtOnceNamingTheKey(t *testing.T) {
	bin := vigilBinary(t)
	cfg := filepath.Join(t.TempDir(), "bad.yml")
	if err := os.WriteFile(cfg, []byte("data_dir: ./d\nlisten: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "--config", cfg).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() == 0 {
		t.Fatalf("exit = %v, want non-zero", err)
	}
	for _, want := range []string{cfg, "line 2", `key "listen"`, "unknown key"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output %q lacks %q", out, want)
		}
	}
}

func TestPublicAddressWithoutAuthIsRefused(t *testing.T) {
	bin := vigilBinary(t)
	out, err := exec.Command(bin, "--data-dir", t.TempDir(), "--http-listen", "0.0.0.0:0",
		"--otlp-grpc-listen", "127.0.0.1:0", "--otlp-http-listen", "127.0.0.1:0").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("exit = %v, want status 2\n%s", err, out)
	}
	for _, want := range []string{"flag --http-listen", "not a loopback address", "auth.tokens", "--insecure-no-auth"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output %q lacks %q", out, want)
		}
	}
	// Asked for explicitly, it starts.
	p := startVigil(t, "--http-listen", "0.0.0.0:0", "--insecure-no-auth")
	addr := p.waitReady(t)
	if !strings.HasPrefix(addr, "0.0.0.0:") && !strings.HasPrefix(addr, "[::]:") {
		t.Errorf("listening on %s, want the unspecified address", addr)
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.waitExit(t, 10*time.Second); code != 0 {
		t.Fatalf("exit code %d\n%s", code, p.log())
	}
}
