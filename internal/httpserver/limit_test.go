package httpserver

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	vmetrics "github.com/VictoriaMetrics/metrics"
)

func TestLimit(t *testing.T) {
	set := vmetrics.NewSet()
	running, release := make(chan struct{}, 4), make(chan struct{})
	var sawDeadline bool
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, sawDeadline = r.Context().Deadline()
		running <- struct{}{}
		<-release
	})
	h := Limit("logs", 1, 100*time.Millisecond, set, func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/tail") })(slow)
	srv := httptest.NewServer(h)
	defer srv.Close()

	first := make(chan int, 1)
	go func() {
		resp, err := http.Get(srv.URL + "/query")
		if err != nil {
			first <- -1
			return
		}
		resp.Body.Close()
		first <- resp.StatusCode
	}()
	<-running
	if !sawDeadline {
		t.Error("the handler's context carries no deadline")
	}

	// The only slot is taken: the next query waits out its timeout and is refused.
	resp, err := http.Get(srv.URL + "/query")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("second query: %d (Retry-After %q), want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if got := set.GetOrCreateCounter(`vigil_query_refused_total{api="logs"}`).Get(); got != 1 {
		t.Errorf("refused = %d, want 1", got)
	}

	// A live tail is not a query: it passes while the slot is taken.
	tail := make(chan int, 1)
	go func() {
		resp, err := http.Get(srv.URL + "/tail")
		if err != nil {
			tail <- -1
			return
		}
		resp.Body.Close()
		tail <- resp.StatusCode
	}()
	<-running
	close(release)
	if c := <-first; c != http.StatusOK {
		t.Errorf("first query: %d", c)
	}
	if c := <-tail; c != http.StatusOK {
		t.Errorf("tail: %d", c)
	}
}
