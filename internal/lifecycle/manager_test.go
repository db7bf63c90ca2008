package lifecycle

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorder logs start and stop calls in the order they happen.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) add(e string) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recorder) component(name string, startErr error) Component {
	return Component{
		Name: name,
		Start: func(context.Context) error {
			r.add("start " + name)
			return startErr
		},
		Stop: func(context.Context) error {
			r.add("stop " + name)
			return nil
		},
	}
}

func TestStartInOrderStopInReverse(t *testing.T) {
	tests := []struct {
		name      string
		failAt    string // component whose Start fails
		wantErr   string
		wantOrder []string
	}{
		{
			name:      "all start",
			wantOrder: []string{"start store", "start ingest", "start web", "stop web", "stop ingest", "stop store"},
		},
		{
			name:      "middle fails: started ones stop in reverse, the failed one never stops",
			failAt:    "ingest",
			wantErr:   "start ingest: boom",
			wantOrder: []string{"start store", "start ingest", "stop store"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			m := New(slog.New(slog.DiscardHandler))
			for _, n := range []string{"store", "ingest", "web"} {
				var err error
				if n == tt.failAt {
					err = errors.New("boom")
				}
				m.Add(rec.component(n, err))
			}
			err := m.Start(context.Background())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Start error = %v, want %q", err, tt.wantErr)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if err := m.Stop(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			if !slices.Equal(rec.events, tt.wantOrder) {
				t.Fatalf("order = %q, want %q", rec.events, tt.wantOrder)
			}
		})
	}
}

func TestNotReadyListsComponentsStillStarting(t *testing.T) {
	m := New(slog.New(slog.DiscardHandler))
	release := make(chan struct{})
	entered := make(chan struct{})
	m.Add(Component{Name: "metrics-store", Start: func(context.Context) error {
		close(entered)
		<-release // a long WAL replay
		return nil
	}})
	m.Add(Component{Name: "otlp"})
	if got := m.NotReady(); !slices.Equal(got, []string{"metrics-store", "otlp"}) {
		t.Fatalf("before start NotReady = %v", got)
	}
	done := make(chan error, 1)
	go func() { done <- m.Start(context.Background()) }()
	<-entered
	if got := m.NotReady(); !slices.Equal(got, []string{"metrics-store", "otlp"}) {
		t.Fatalf("during replay NotReady = %v", got)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := m.NotReady(); len(got) != 0 {
		t.Fatalf("after start NotReady = %v, want none", got)
	}
	if err := m.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestWaitReturnsComponentFailure(t *testing.T) {
	m := New(slog.New(slog.DiscardHandler))
	failed := make(chan error, 1)
	quiet := make(chan error)
	close(quiet) // a component that ended normally must not end the wait
	m.Add(Component{Name: "quiet", Failed: quiet})
	m.Add(Component{Name: "grpc", Failed: failed})
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(20 * time.Millisecond)
		failed <- errors.New("listener closed")
	}()
	err := m.Wait(context.Background())
	if err == nil || err.Error() != "grpc failed: listener closed" {
		t.Fatalf("Wait = %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m2 := New(slog.New(slog.DiscardHandler))
	m2.Add(Component{Name: "x", Failed: make(chan error)})
	if err := m2.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := m2.Wait(ctx); err != nil {
		t.Fatalf("Wait on cancelled ctx = %v, want nil", err)
	}
}

func TestStopKeepsGoingPastAFailure(t *testing.T) {
	m := New(slog.New(slog.DiscardHandler))
	var stopped []string
	m.Add(Component{Name: "store", Stop: func(context.Context) error { stopped = append(stopped, "store"); return nil }})
	m.Add(Component{Name: "ingest", Stop: func(context.Context) error { stopped = append(stopped, "ingest"); return errors.New("flush failed") }})
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	err := m.Stop(context.Background())
	if err == nil || !strings.Contains(err.Error(), "stop ingest: flush failed") {
		t.Fatalf("Stop = %v", err)
	}
	if !slices.Equal(stopped, []string{"ingest", "store"}) {
		t.Fatalf("stopped = %v", stopped)
	}
}
