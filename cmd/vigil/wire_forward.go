package main

import (
	"context"
	"reflect"

	"github.com/vigilhq/vigil/forward"
	"github.com/vigilhq/vigil/internal/lifecycle"
)

// forwardWiring is forward.otlp: the forwarder whose tees the log, trace and OTLP metrics
// ingest write through, and its endpoints' queues and senders. It starts before the stores
// and stops after them, so no ingest runs while its queues are closed.
type forwardWiring struct {
	a       *app
	f       *forward.Forwarder
	applied ForwardConfig
}

func newForwardWiring(a *app) *forwardWiring {
	return &forwardWiring{a: a, f: forward.New(a.dir.store("forward"), a.reg.NewSet(), a.log.With("component", "forward"))}
}

func (w *forwardWiring) components() []lifecycle.Component {
	return []lifecycle.Component{
		{Name: "forward", Start: w.start, Stop: func(context.Context) error { return w.f.Close() }},
	}
}

func (w *forwardWiring) start(context.Context) error {
	return w.apply(w.a.cfg.Forward)
}

func (w *forwardWiring) apply(cfg ForwardConfig) error {
	opts, err := cfg.endpointOptions()
	if err != nil {
		return err
	}
	if err := w.f.Apply(opts); err != nil {
		return err
	}
	w.applied = cfg
	return nil
}

// reload restarts the senders with the new endpoints when forward.otlp changed; what the
// queues hold is kept.
func (w *forwardWiring) reload(_ context.Context, cfg Config) error {
	if reflect.DeepEqual(cfg.Forward, w.applied) {
		return nil
	}
	return w.apply(cfg.Forward)
}
