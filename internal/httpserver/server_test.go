package httpserver

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	vmetrics "github.com/VictoriaMetrics/metrics"
	"github.com/go-chi/chi/v5"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestServerCountsByPatternAndDrainsOnShutdown(t *testing.T) {
	set := vmetrics.NewSet()
	r := chi.NewRouter()
	r.Use(Instrument("main", set))
	release := make(chan struct{})
	r.Get("/items/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	r.Get("/slow", func(w http.ResponseWriter, r *http.Request) {
		<-release
		_, _ = io.WriteString(w, "done")
	})
	s := New("main", "127.0.0.1:0", r, slog.New(slog.DiscardHandler))
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	base := "http://" + s.Addr().String()
	client := &http.Client{Timeout: 5 * time.Second}
	for _, p := range []string{"/items/1", "/items/2", "/nope/abc"} {
		resp, err := client.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}

	// An in-flight request must complete during Shutdown.
	slow := make(chan string, 1)
	go func() {
		resp, err := client.Get(base + "/slow")
		if err != nil {
			slow <- "error: " + err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		slow <- string(b)
	}()
	time.Sleep(100 * time.Millisecond) // let the request reach the handler
	shutdownDone := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		shutdownDone <- s.Shutdown(ctx)
	}()
	time.Sleep(50 * time.Millisecond)
	close(release)
	if got := <-slow; got != "done" {
		t.Fatalf("in-flight request got %q, want done", got)
	}
	if err := <-shutdownDone; err != nil {
		t.Fatal(err)
	}
	for range s.Err() {
	}
	client.CloseIdleConnections()

	var sb strings.Builder
	set.WritePrometheus(&sb)
	out := sb.String()
	for _, want := range []string{
		`vigil_http_requests_total{server="main",handler="/items/{id}",code="418"} 2`,
		`vigil_http_requests_total{server="main",handler="unmatched",code="404"} 1`,
		`vigil_http_requests_total{server="main",handler="/slow",code="200"} 1`,
		`vigil_http_request_duration_seconds_count{server="main",handler="/items/{id}"} 2`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %s\n%s", want, out)
		}
	}
}

func TestStartFailsOnBusyAddress(t *testing.T) {
	a := New("a", "127.0.0.1:0", http.NotFoundHandler(), slog.New(slog.DiscardHandler))
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	defer a.Shutdown(context.Background())
	b := New("b", a.Addr().String(), http.NotFoundHandler(), slog.New(slog.DiscardHandler))
	err := b.Start()
	if err == nil || !strings.Contains(err.Error(), "listen b on") {
		t.Fatalf("want a listen error naming the server, got %v", err)
	}
}

func TestHandlerLabel(t *testing.T) {
	f := func(pattern, path string, code int, want string) {
		t.Helper()
		if got := handlerLabel(pattern, path, code); got != want {
			t.Errorf("handlerLabel(%q, %q, %d) = %q, want %q", pattern, path, code, got, want)
		}
	}
	f("/metrics", "/metrics", 200, "/metrics")
	f("/items/{id}", "/items/7", 200, "/items/{id}")
	f("/api/v1/*", "/api/v1/query_range", 200, "/api/v1/query_range")
	f("/api/v1/*", "/api/v1/label/job/values", 200, "/api/v1/label")
	f("/api/v1/*", "/api/v1/no-such-endpoint", 404, "/api/v1/*")
	f("/api/v1/*", "/api/v1/", 200, "/api/v1/*")
	f("/*", "/index.html", 200, "/index.html")
}
