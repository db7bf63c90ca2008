package ingest

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	vmetrics "github.com/VictoriaMetrics/metrics"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// blockingHandler holds every request until release is closed, and reports each arrival.
func blockingHandler(arrived chan<- struct{}, release <-chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		w.WriteHeader(http.StatusNoContent)
	})
}

func TestAdmissionHTTP(t *testing.T) {
	const limit = 1 << 20
	tests := []struct {
		name     string
		capacity int64
		second   string // body of the second request, sent while the first is held
		encoding string
		want     int
	}{
		{name: "room for both", capacity: 8 << 20, second: "small", want: http.StatusNoContent},
		{name: "full gate refuses", capacity: 256 << 10, second: "small", want: http.StatusTooManyRequests},
		{name: "compressed weighs more", capacity: 2 << 20, second: strings.Repeat("x", 60<<10), encoding: "gzip", want: http.StatusTooManyRequests},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := vmetrics.NewSet()
			opts := AdmissionOptions{Capacity: tt.capacity, MaxWait: 50 * time.Millisecond, RetryAfter: 3 * time.Second}
			a, err := NewAdmission(opts, set)
			if err != nil {
				t.Fatal(err)
			}
			arrived, release := make(chan struct{}, 2), make(chan struct{})
			srv := httptest.NewServer(a.HTTP("test", limit, blockingHandler(arrived, release)))
			defer srv.Close()

			// The first request (64 KiB plain: weighs 256 KiB) holds its reservation.
			first := make(chan int, 1)
			go func() {
				resp, err := http.Post(srv.URL, "text/plain", strings.NewReader(strings.Repeat("a", 64<<10)))
				if err != nil {
					first <- -1
					return
				}
				resp.Body.Close()
				first <- resp.StatusCode
			}()
			<-arrived

			req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(tt.second))
			if tt.encoding != "" {
				req.Header.Set("Content-Encoding", tt.encoding)
			}
			done := make(chan *http.Response, 1)
			go func() {
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					done <- nil
					return
				}
				resp.Body.Close()
				done <- resp
			}()
			if tt.want != http.StatusTooManyRequests {
				<-arrived
			}
			var resp *http.Response
			if tt.want == http.StatusTooManyRequests {
				resp = <-done
				close(release)
			} else {
				close(release)
				resp = <-done
			}
			if got := <-first; got != http.StatusNoContent {
				t.Errorf("first request: status %d, want 204", got)
			}
			if resp == nil {
				return
			}
			if resp.StatusCode != tt.want {
				t.Fatalf("second request: status %d, want %d", resp.StatusCode, tt.want)
			}
			if tt.want == http.StatusTooManyRequests {
				if got := resp.Header.Get("Retry-After"); got != "3" {
					t.Errorf("Retry-After = %q, want 3", got)
				}
				if got := set.GetOrCreateCounter(`vigil_ingest_admission_refused_total{protocol="test",reason="memory"}`).Get(); got != 1 {
					t.Errorf("refusals counted = %d, want 1", got)
				}
			}
		})
	}
}

// A request that waits is admitted as soon as the one ahead of it releases its room.
func TestAdmissionWaitsForRoom(t *testing.T) {
	// Each request weighs the 64 KiB minimum: the gate holds one.
	a, err := NewAdmission(AdmissionOptions{Capacity: 64 << 10, MaxWait: time.Minute}, vmetrics.NewSet())
	if err != nil {
		t.Fatal(err)
	}
	arrived, release := make(chan struct{}, 2), make(chan struct{})
	srv := httptest.NewServer(a.HTTP("test", 1<<20, blockingHandler(arrived, release)))
	defer srv.Close()
	codes := make(chan int, 2)
	post := func() {
		resp, err := http.Post(srv.URL, "text/plain", strings.NewReader("x"))
		if err != nil {
			codes <- -1
			return
		}
		resp.Body.Close()
		codes <- resp.StatusCode
	}
	go post()
	<-arrived
	go post()
	select {
	case <-arrived:
		close(release)
		t.Fatal("second request admitted while the gate was full")
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	for range 2 {
		if c := <-codes; c != http.StatusNoContent {
			t.Errorf("status %d, want 204", c)
		}
	}
}

// blockingTraces is an OTLP trace service that holds every export until release is closed.
type blockingTraces struct {
	ptraceotlp.UnimplementedGRPCServer
	arrived chan struct{}
	release chan struct{}
}

func (b *blockingTraces) Export(context.Context, ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	b.arrived <- struct{}{}
	<-b.release
	return ptraceotlp.NewExportResponse(), nil
}

func TestAdmissionGRPCRefusalCarriesRetryInfo(t *testing.T) {
	set := vmetrics.NewSet()
	a, err := NewAdmission(AdmissionOptions{Capacity: 1, RetryAfter: 5 * time.Second}, set)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	svc := &blockingTraces{arrived: make(chan struct{}, 2), release: make(chan struct{})}
	gs := grpc.NewServer(grpc.UnaryInterceptor(a.UnaryServerInterceptor()))
	ptraceotlp.RegisterGRPCServer(gs, svc)
	go func() { _ = gs.Serve(lis) }()
	defer gs.Stop()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := ptraceotlp.NewGRPCClient(conn)

	req := ptraceotlp.NewExportRequestFromTraces(ptrace.NewTraces())
	firstErr := make(chan error, 1)
	go func() {
		_, err := client.Export(context.Background(), req)
		firstErr <- err
	}()
	<-svc.arrived
	_, err = client.Export(context.Background(), req)
	close(svc.release)
	if err := <-firstErr; err != nil {
		t.Fatalf("first export: %v", err)
	}
	st := status.Convert(err)
	if st.Code() != codes.ResourceExhausted {
		t.Fatalf("second export: %v, want ResourceExhausted", err)
	}
	var delay time.Duration
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			delay = ri.GetRetryDelay().AsDuration()
		}
	}
	if delay != 5*time.Second {
		t.Errorf("RetryInfo delay = %v, want 5s (OTLP exporters retry ResourceExhausted only with it)", delay)
	}
	if got := set.GetOrCreateCounter(`vigil_ingest_admission_refused_total{protocol="otlp_grpc",reason="memory"}`).Get(); got != 1 {
		t.Errorf("refusals counted = %d, want 1", got)
	}
}

// While Refuse says no (a nearly full disk), every request is answered 503 with Retry-After
// and the reason, over HTTP and gRPC, and nothing reaches the handler.
func TestAdmissionRefuse(t *testing.T) {
	set := vmetrics.NewSet()
	refuse := errors.New("the data disk is nearly full")
	var full atomic.Bool
	full.Store(true)
	a, err := NewAdmission(AdmissionOptions{Capacity: 1 << 30, Refuse: func() error {
		if full.Load() {
			return refuse
		}
		return nil
	}}, set)
	if err != nil {
		t.Fatal(err)
	}
	reached := 0
	srv := httptest.NewServer(a.HTTP("test", 1<<20, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached++ })))
	defer srv.Close()
	resp, err := http.Post(srv.URL, "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "30" || !strings.Contains(string(body), "nearly full") {
		t.Errorf("got %d, Retry-After %q, %q; want 503, 30 and the reason", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if _, err := a.UnaryServerInterceptor()(context.Background(), nil, &grpc.UnaryServerInfo{}, func(context.Context, any) (any, error) {
		reached++
		return nil, nil
	}); status.Code(err) != codes.Unavailable {
		t.Errorf("gRPC: %v, want Unavailable", err)
	}
	if reached != 0 {
		t.Errorf("%d refused requests reached the handler", reached)
	}
	if got := set.GetOrCreateCounter(`vigil_ingest_admission_refused_total{protocol="test",reason="disk"}`).Get(); got != 1 {
		t.Errorf("disk refusals counted = %d, want 1", got)
	}
	full.Store(false)
	resp, err = http.Post(srv.URL, "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || reached != 1 {
		t.Errorf("after space returned: %d, handler reached %d times; want 200 and 1", resp.StatusCode, reached)
	}
}
