package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// With less than min_free_disk free on the data disk, every ingest path answers 503 with
// Retry-After and the reason, queries go on, and writes resume by themselves once space is
// freed — no store ever meets the full disk (pebble would stop the process).
func TestNearlyFullDiskRefusesIngestAndRecovers(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root")
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", data, "tmpfs", 0, "size=64m"); err != nil {
		t.Skipf("cannot mount a small tmpfs: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(data, syscall.MNT_DETACH) })
	c, cfg := configIn(t, dir, "min_free_disk: 24MiB\n")
	a := newTestApp(t, c, cfg)
	startApp(t, a)
	base := waitAddr(t, a)
	eventually(t, "ready", func() bool { code, _ := get(t, base+"/readyz"); return code == http.StatusOK })
	otlp := "http://" + a.otlp.HTTPAddr().String()

	post := func(url, contentType, body string) (int, string) {
		resp, err := http.Post(url, contentType, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Retry-After") + " " + string(b)
	}
	writes := []struct{ name, url, contentType, body string }{
		{"json lines", base + "/api/v1/logs", "application/x-ndjson", `{"msg":"hello","service":"disk"}` + "\n"},
		{"import", base + "/api/v1/import/prometheus", "text/plain", "disk_test 1\n"},
		{"otlp traces", otlp + "/v1/traces", "application/json", `{"resourceSpans":[]}`},
	}
	for _, w := range writes {
		if code, body := post(w.url, w.contentType, w.body); code/100 != 2 {
			t.Fatalf("%s with room on the disk: %d %s", w.name, code, body)
		}
	}

	// Fill the disk to under the reserve.
	var st syscall.Statfs_t
	if err := syscall.Statfs(data, &st); err != nil {
		t.Fatal(err)
	}
	filler := filepath.Join(data, "filler")
	if err := os.WriteFile(filler, make([]byte, int64(st.Bavail)*st.Bsize-16<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, w := range writes {
		eventually(t, w.name+" refused on a nearly full disk", func() bool {
			code, body := post(w.url, w.contentType, w.body)
			return code == http.StatusServiceUnavailable && strings.HasPrefix(body, "30 ") && strings.Contains(body, "nearly full")
		})
	}
	if code, body := get(t, base+"/api/v1/query?query=disk_test"); code != http.StatusOK {
		t.Fatalf("query on a nearly full disk: %d %s", code, body)
	}
	if code, body := get(t, base+"/api/v1/logs/query?q=service:disk"); code != http.StatusOK || !strings.Contains(body, "hello") {
		t.Fatalf("log search on a nearly full disk: %d %s", code, body)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	for _, w := range writes {
		eventually(t, w.name+" accepted once space is freed", func() bool {
			code, _ := post(w.url, w.contentType, w.body)
			return code/100 == 2
		})
	}
}
