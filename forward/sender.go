package forward

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"
)

// sender moves one endpoint's queue to the endpoint: batches from the head, sent until the
// endpoint accepts or permanently refuses them, then acknowledged.
type sender struct {
	name string
	opts EndpointOptions
	q    *Queue
	exp  exporter
	m    *selfMetrics
	log  *slog.Logger
}

func (s *sender) run(ctx context.Context) {
	defer s.q.closeReader()
	for {
		b, err := s.q.Next(ctx, s.opts.MaxBatchBytes)
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, ErrClosed) {
				s.log.Error("Forward queue unreadable; sender stopped", "err", err)
			}
			return
		}
		req := b.Payloads[0]
		if len(b.Payloads) > 1 {
			// Concatenated export requests are one request with all their resources: the
			// message has one repeated field, and protobuf merges repeated fields.
			req = make([]byte, 0, b.Bytes)
			for _, p := range b.Payloads {
				req = append(req, p...)
			}
		}
		refused, ok := s.send(ctx, b.Signal, b.Items, req)
		if !ok {
			return
		}
		if refused != nil && len(b.Payloads) > 1 {
			// The endpoint may refuse the merge (413 for its size) or one request in it: send
			// the requests one by one, so that only what it refuses by itself is dropped.
			var lastRefusal error
			items := 0
			for i, p := range b.Payloads {
				if refused, ok = s.send(ctx, b.Signal, b.items[i], p); !ok {
					return
				}
				if refused != nil {
					lastRefusal, items = refused, items+b.items[i]
				}
			}
			if lastRefusal != nil { // logged once, not once per request
				s.drop(b.Signal, items, lastRefusal)
			}
		} else if refused != nil {
			s.drop(b.Signal, b.Items, refused)
		}
		if err := s.q.Ack(b); err != nil && !errors.Is(err, ErrClosed) {
			s.log.Warn("Forward queue head not saved: after a restart some batches are sent again", "err", err)
		}
	}
}

// drop counts and logs items the endpoint refused.
func (s *sender) drop(sig Signal, items int, err error) {
	s.log.Error("Forwarded batch refused by the endpoint; dropped", "endpoint", s.name, "signal", sig, "items", items, "err", err)
	s.m.dropped(s.name, sig, "rejected", items)
}

// send delivers one request of items of sig, retrying with backoff until it is sent or
// permanently refused (refused: the endpoint's error); ok is false when ctx ended first.
func (s *sender) send(ctx context.Context, sig Signal, items int, req []byte) (refused error, ok bool) {
	backoff := s.opts.RetryInitial
	for {
		actx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
		err := s.exp.export(actx, sig, req)
		cancel()
		if err == nil {
			s.m.sent(s.name, sig, items)
			return nil, true
		}
		if ctx.Err() != nil {
			return nil, false
		}
		if isPermanent(err) {
			return err, true
		}
		s.m.retry(s.name, sig)
		// Jittered by ±50% around the backoff, so senders that failed together do not retry
		// together; a delay the endpoint asked for is honoured whole.
		wait := time.Duration(rand.Int64N(int64(backoff))) + backoff/2
		if ra := retryAfterOf(err); ra > 0 {
			wait = min(ra, retryAfterCap)
		}
		s.log.Warn("Forwarding failed; retrying", "endpoint", s.name, "signal", sig, "items", items, "in", wait, "err", err)
		backoff = min(2*backoff, s.opts.RetryMax)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, false
		case <-t.C:
		}
	}
}
