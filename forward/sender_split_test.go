package forward

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
)

// sizeLimitedReceiver is an OTLP/HTTP logs endpoint behind a body size limit (as a proxy's
// client_max_body_size): larger bodies get 413. Its first request waits for release.
type sizeLimitedReceiver struct {
	limit   int
	first   chan struct{} // closed when the first request arrived
	release chan struct{}
	once    sync.Once

	mu      sync.Mutex
	records int
}

func (r *sizeLimitedReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	raw, _ := io.ReadAll(req.Body)
	r.once.Do(func() { close(r.first); <-r.release })
	if len(raw) > r.limit {
		http.Error(w, "request entity too large", http.StatusRequestEntityTooLarge)
		return
	}
	er := plogotlp.NewExportRequest()
	if err := er.UnmarshalProto(raw); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.records += er.Logs().LogRecordCount()
	r.mu.Unlock()
}

func (r *sizeLimitedReceiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.records
}

// Requests queued while the sender was busy are merged into one export; an endpoint that
// refuses the merge for its size (each request alone being within its limit) gets them one by
// one, and nothing is dropped. An endpoint refusing every request has each item counted
// dropped once.
func TestSenderSplitsAMergeTheEndpointRefuses(t *testing.T) {
	one, err := plogotlp.NewExportRequestFromLogs(logsToPlog(testRecords(20))).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		limit, want int
	}{
		{"merge too large", len(one) * 3 / 2, 65},
		{"everything refused", 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) { testSenderSplit(t, tc.limit, tc.want) })
	}
}

func testSenderSplit(t *testing.T, limit, want int) {
	recv := &sizeLimitedReceiver{limit: limit, first: make(chan struct{}), release: make(chan struct{})}
	srv := httptest.NewServer(recv)
	defer srv.Close()
	f, set := newTestForwarder(t, t.TempDir(), EndpointOptions{Name: "h", Protocol: ProtocolHTTP, Endpoint: srv.URL, Compression: "none"})
	tee := f.LogSink(openLogStore(t))
	if err := tee.WriteLogs(context.Background(), testRecords(5)); err != nil {
		t.Fatal(err)
	}
	<-recv.first // the sender holds the first request: the next ones queue up behind it
	for range 3 {
		if err := tee.WriteLogs(context.Background(), testRecords(20)); err != nil {
			t.Fatal(err)
		}
	}
	close(recv.release)
	waitUntil(t, "every record sent or dropped", func() bool {
		return counter(set, `vigil_forward_sent_total{endpoint="h",signal="logs"}`)+
			counter(set, `vigil_forward_dropped_total{endpoint="h",signal="logs",reason="rejected"}`) == 65
	})
	if got, dropped := recv.count(), counter(set, `vigil_forward_dropped_total{endpoint="h",signal="logs",reason="rejected"}`); got != want || int(dropped) != 65-want {
		t.Fatalf("the receiver got %d records and %d were counted dropped, want %d and %d", got, dropped, want, 65-want)
	}
}
