package selfmetrics

import (
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
)

func TestHandlerServesBothRegistriesAsValidText(t *testing.T) {
	r := New()
	s := r.NewSet()
	s.GetOrCreateCounter(`vigil_test_total{reason="x"}`).Add(3)
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "prometheus_embedded_total", Help: "h"})
	r.Prometheus().MustRegister(c)
	c.Add(2)

	rec := httptest.NewRecorder()
	r.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	body := rec.Body.Bytes()

	// Parse it with Prometheus's own parser: what we serve must be scrapeable.
	p, err := textparse.New(body, "text/plain", labels.NewSymbolTable(), textparse.ParserOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for {
		et, err := p.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("parse /metrics: %v\n%s", err, body)
		}
		if et != textparse.EntrySeries {
			continue
		}
		series, _, v := p.Series()
		got[string(series)] = v
	}
	for name, want := range map[string]float64{
		`vigil_test_total{reason="x"}`: 3,
		`prometheus_embedded_total`:    2,
	} {
		if got[name] != want {
			t.Errorf("%s = %v, want %v", name, got[name], want)
		}
	}
	if !strings.Contains(string(body), "vigil_build_info{") || !strings.Contains(string(body), "process_resident_memory_bytes") {
		t.Errorf("missing build info or process metrics:\n%s", body)
	}
}

func TestDirSizeCountsFilesAndCaches(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name string, n int) {
		if err := os.WriteFile(filepath.Join(dir, name), make([]byte, n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a", 100)
	write("sub/b", 50)
	d := NewDirSize(dir, time.Hour)
	if got := d.Bytes(); got != 150 {
		t.Fatalf("size = %d, want 150", got)
	}
	write("c", 1000)
	if got := d.Bytes(); got != 150 {
		t.Fatalf("cached size = %d, want 150 until the ttl passes", got)
	}
	fresh := NewDirSize(dir, 0)
	if got := fresh.Bytes(); got != 1150 {
		t.Fatalf("size = %d, want 1150", got)
	}
	if got := NewDirSize(filepath.Join(dir, "missing"), 0).Bytes(); got != 0 {
		t.Fatalf("missing dir size = %d, want 0", got)
	}
}
