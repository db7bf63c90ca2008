package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"time"
)

// Component is one part of Vigil.
type Component struct {
	Name string
	// Start returns once the component is ready to serve. ctx bounds the start-up only;
	// a component must not keep it.
	Start func(ctx context.Context) error
	// Stop flushes and releases everything. ctx carries the shutdown deadline.
	Stop func(ctx context.Context) error
	// Failed, if set, is read after Start: a value on it means the component died while
	// running and Vigil must shut down. It may be closed when the component ends normally.
	Failed <-chan error
}

// Manager runs components. Add them all before Start. Safe for concurrent use of NotReady.
type Manager struct {
	log *slog.Logger

	mu         sync.Mutex
	components []Component
	started    int // components[:started] have started
	stopping   bool
}

// New returns an empty manager.
func New(log *slog.Logger) *Manager { return &Manager{log: log} }

// Add appends c to the start order.
func (m *Manager) Add(c Component) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.components = append(m.components, c)
}

// NotReady lists the components not ready to serve: those still starting, or every started
// one once stopping has begun. Empty means ready.
func (m *Manager) NotReady() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var names []string
	if m.stopping {
		for _, c := range m.components[:m.started] {
			names = append(names, c.Name+" (stopping)")
		}
		return names
	}
	for _, c := range m.components[m.started:] {
		names = append(names, c.Name)
	}
	return names
}

// Start starts the components in order. If one fails, those already started are stopped in
// reverse order and the error names the component that failed.
func (m *Manager) Start(ctx context.Context) error {
	m.mu.Lock()
	comps := append([]Component(nil), m.components...)
	m.mu.Unlock()
	for _, c := range comps {
		if err := ctx.Err(); err != nil {
			return errors.Join(fmt.Errorf("start %s: %w", c.Name, err), m.Stop(context.WithoutCancel(ctx)))
		}
		t0 := time.Now()
		if c.Start != nil {
			if err := c.Start(ctx); err != nil {
				return errors.Join(fmt.Errorf("start %s: %w", c.Name, err), m.Stop(context.WithoutCancel(ctx)))
			}
		}
		m.mu.Lock()
		m.started++
		m.mu.Unlock()
		m.log.Info("started", "component", c.Name, "took", time.Since(t0).Round(time.Millisecond))
	}
	return nil
}

// Wait blocks until ctx ends (nil) or a started component reports a failure (that error).
func (m *Manager) Wait(ctx context.Context) error {
	m.mu.Lock()
	cases := []reflect.SelectCase{{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())}}
	names := []string{""}
	for _, c := range m.components[:m.started] {
		if c.Failed != nil {
			cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(c.Failed)})
			names = append(names, c.Name)
		}
	}
	m.mu.Unlock()
	for len(cases) > 0 {
		i, v, ok := reflect.Select(cases)
		if i == 0 {
			return nil
		}
		if ok && !v.IsNil() {
			return fmt.Errorf("%s failed: %w", names[i], v.Interface().(error))
		}
		// Closed without an error: that component ended normally; keep waiting on the rest.
		cases = append(cases[:i], cases[i+1:]...)
		names = append(names[:i], names[i+1:]...)
	}
	return nil
}

// Stop stops every started component in reverse order, each at most once, and returns all
// their errors joined. It keeps going past a failing component so the stores below it still
// get to close.
func (m *Manager) Stop(ctx context.Context) error {
	m.mu.Lock()
	m.stopping = true
	started := m.components[:m.started]
	m.mu.Unlock()
	var errs []error
	for i := len(started) - 1; i >= 0; i-- {
		c := started[i]
		t0 := time.Now()
		if c.Stop != nil {
			if err := c.Stop(ctx); err != nil {
				errs = append(errs, fmt.Errorf("stop %s: %w", c.Name, err))
				m.log.Error("stop failed", "component", c.Name, "err", err)
			}
		}
		m.mu.Lock()
		m.started--
		m.mu.Unlock()
		m.log.Info("stopped", "component", c.Name, "took", time.Since(t0).Round(time.Millisecond))
	}
	return errors.Join(errs...)
}
