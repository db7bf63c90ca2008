package forward

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/vigilhq/vigil/logs"
)

// Forwarder is the set of OTLP endpoints and their queues and senders. Its tees (LogTee,
// TraceTee, and the metrics hook) stay valid across Apply, which replaces the endpoints.
// Safe for concurrent use.
type Forwarder struct {
	dir string
	log *slog.Logger
	m   *selfMetrics

	// mu is held for reading by every append (so an endpoint's queue is not closed under
	// it) and for writing by Apply and Close.
	mu      sync.RWMutex
	eps     []*endpoint
	applied []EndpointOptions // what eps were started from
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	closed  bool
}

type endpoint struct {
	opts EndpointOptions
	q    *Queue
	exp  exporter
}

// ErrQueueFull is in the error a tee returns when an endpoint with on_full: backpressure has a
// full queue: nothing of the batch was stored, and the client should retry later.
var ErrQueueFull = errors.New("forward queue full")

// RetryAfterFull is the retry delay given to clients refused for a full queue.
const RetryAfterFull = 5 * time.Second

// fullError refuses a batch for a full queue. It is logs.ErrBusy for the log edge, and carries
// its retry delay for the others (the RetryAfter method the edge looks for).
type fullError struct{ endpoint string }

func (e *fullError) Error() string {
	return fmt.Sprintf("forward queue of endpoint %q is full (on_full: backpressure): nothing was stored, retry later", e.endpoint)
}
func (e *fullError) Unwrap() []error           { return []error{ErrQueueFull, logs.ErrBusy} }
func (e *fullError) RetryAfter() time.Duration { return RetryAfterFull }

// New returns a forwarder with no endpoints keeping its queues under dir.
func New(dir string, set *metrics.Set, log *slog.Logger) *Forwarder {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if set == nil {
		set = metrics.NewSet()
	}
	f := &Forwarder{dir: dir, log: log, m: &selfMetrics{set: set}}
	return f
}

// Apply replaces the endpoints: the current senders stop (a batch in flight is sent again
// later), their queues close, and the new endpoints' queues open (keeping what an endpoint of
// the same name had queued) and their senders start. Queues of endpoints no longer listed stay
// on disk, unsent. Options are validated before anything stops; if a queue then fails to
// open, the previous endpoints are started again and the error returned.
func (f *Forwarder) Apply(opts []EndpointOptions) error {
	seen := map[string]bool{}
	for _, o := range opts {
		if err := o.Validate(); err != nil {
			return fmt.Errorf("forward endpoint %q: %w", o.Name, err)
		}
		if seen[o.Name] {
			return fmt.Errorf("forward endpoint %q: listed twice", o.Name)
		}
		seen[o.Name] = true
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return ErrClosed
	}
	if err := f.stopLocked(); err != nil {
		f.log.Warn("Closing the previous forward queues", "err", err)
	}
	if err := f.startLocked(opts); err != nil {
		if rerr := f.startLocked(f.applied); rerr != nil {
			f.log.Error("Restarting the previous forward endpoints failed: nothing is forwarded", "err", rerr)
		}
		return err
	}
	f.applied = opts
	if len(opts) > 0 {
		f.log.Info("Forwarding to OTLP endpoints", "endpoints", len(opts))
	}
	return nil
}

// startLocked opens the endpoints' queues and clients and starts their senders. Called with mu
// held, nothing running.
func (f *Forwarder) startLocked(opts []EndpointOptions) error {
	var eps []*endpoint
	fail := func(err error) error {
		for _, ep := range eps {
			_ = ep.exp.close()
			_ = ep.q.Close()
		}
		return err
	}
	for _, o := range opts {
		o = o.withDefaults()
		name := o.Name
		o.Queue.Dropped = func(sig Signal, reason string, n int) { f.m.dropped(name, sig, reason, n) }
		q, err := OpenQueue(filepath.Join(f.dir, name), o.Queue, f.log.With("endpoint", name))
		if err != nil {
			return fail(err)
		}
		var exp exporter
		if o.Protocol == ProtocolHTTP {
			exp = newHTTPExporter(o)
		} else if exp, err = newGRPCExporter(o); err != nil {
			_ = q.Close()
			return fail(fmt.Errorf("forward endpoint %q: %w", name, err))
		}
		eps = append(eps, &endpoint{opts: o, q: q, exp: exp})
		f.m.set.GetOrCreateGauge(fmt.Sprintf(`vigil_forward_queue_bytes{endpoint=%q}`, name), func() float64 {
			if q := f.queue(name); q != nil {
				return float64(q.Bytes())
			}
			return 0
		})
		f.m.set.GetOrCreateGauge(fmt.Sprintf(`vigil_forward_lag_seconds{endpoint=%q}`, name), func() float64 {
			if q := f.queue(name); q != nil {
				if t := q.OldestTime(); !t.IsZero() {
					return time.Since(t).Seconds()
				}
			}
			return 0
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	f.eps = eps
	for _, ep := range eps {
		s := &sender{name: ep.opts.Name, opts: ep.opts, q: ep.q, exp: ep.exp, m: f.m, log: f.log}
		f.wg.Go(func() { s.run(ctx) })
	}
	return nil
}

// queue is the queue of the endpoint named name, for the gauges; nil if there is none.
func (f *Forwarder) queue(name string) *Queue {
	if !f.mu.TryRLock() { // Apply or Close is running: the gauge reads 0 for a moment
		return nil
	}
	defer f.mu.RUnlock()
	for _, ep := range f.eps {
		if ep.opts.Name == name {
			return ep.q
		}
	}
	return nil
}

// stopLocked stops the senders and closes the queues and clients. Called with mu held.
func (f *Forwarder) stopLocked() error {
	if f.cancel != nil {
		f.cancel()
		f.wg.Wait()
		f.cancel = nil
	}
	var errs []error
	for _, ep := range f.eps {
		errs = append(errs, ep.exp.close(), ep.q.Close())
	}
	f.eps = nil
	return errors.Join(errs...)
}

// Close stops every sender and closes the queues. What is queued stays on disk and is sent
// after the next start.
func (f *Forwarder) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	return f.stopLocked()
}

// selecting returns the endpoints that take sig, and the first refusal of an endpoint with a
// full queue in backpressure mode. Called with mu held for reading.
func (f *Forwarder) selecting(sig Signal) ([]*endpoint, error) {
	var eps []*endpoint
	for _, ep := range f.eps {
		if !ep.opts.selects(sig) {
			continue
		}
		if ep.opts.Queue.OnFull == Backpressure && ep.q.Full() {
			f.m.refused(ep.opts.Name, sig)
			return nil, &fullError{endpoint: ep.opts.Name}
		}
		eps = append(eps, ep)
	}
	return eps, nil
}

// enqueue appends the requests of one batch to ep's queue, counting what it drops.
func (f *Forwarder) enqueue(ep *endpoint, sig Signal, ps []Payload, now time.Time) error {
	if len(ps) == 0 {
		return nil
	}
	tooLarge, err := ep.q.AppendAll(sig, ps, now)
	if err != nil {
		return fmt.Errorf("queue %s for endpoint %q: %w", sig, ep.opts.Name, err)
	}
	items := 0
	for _, p := range ps {
		items += p.Items
	}
	if tooLarge > 0 {
		f.log.Error("Request larger than the forward queue: not forwarded", "endpoint", ep.opts.Name, "signal", sig, "items", tooLarge, "max_size", ep.opts.Queue.MaxBytes)
		f.m.dropped(ep.opts.Name, sig, "too_large", tooLarge)
	}
	f.m.queued(ep.opts.Name, sig, items-tooLarge)
	return nil
}

// MetricsWriter is what the OTLP metrics receiver asks of a forwarder (ingest declares the
// same hook); the Forwarder is one.
var _ interface {
	AdmitMetrics(context.Context) (bool, error)
	ForwardMetrics(context.Context, pmetric.Metrics) error
} = (*Forwarder)(nil)

// AdmitMetrics reports whether any endpoint takes metrics, and refuses, before anything is
// stored, an OTLP metrics request while one in backpressure mode has a full queue.
func (f *Forwarder) AdmitMetrics(context.Context) (bool, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	eps, err := f.selecting(SignalMetrics)
	return len(eps) > 0, err
}
