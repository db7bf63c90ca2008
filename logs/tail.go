package logs

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/VictoriaMetrics/metrics"
)

// Tail returns a channel of the lines matching q that are written from now on, in the
// order WriteLogs acknowledged them. The channel is closed when ctx is done or the store
// closes. A subscriber that falls Options.TailBuffer lines behind misses lines (counted in
// vigil_logs_tail_dropped_total) rather than slowing writers down.
func (s *Store) Tail(ctx context.Context, q string) (<-chan Line, error) {
	cq, err := compileQuery(q)
	if err != nil {
		return nil, err
	}
	if s.closed.Load() {
		return nil, ErrClosed
	}
	sub := &tailSub{match: cq.match, ch: make(chan Line, s.opts.TailBuffer)}
	if !s.tails.add(sub) {
		return nil, ErrClosed
	}
	stop := context.AfterFunc(ctx, func() { s.tails.remove(sub) })
	_ = stop // the subscription ends with ctx or Close; nothing to undo earlier
	return sub.ch, nil
}

type tailSub struct {
	match matcher
	ch    chan Line
}

// tailSet holds the live subscribers. publish sends under the read lock and remove closes
// under the write lock, so a channel is never sent on after it is closed.
type tailSet struct {
	mu     sync.RWMutex
	subs   map[*tailSub]struct{}
	closed bool
	n      atomic.Int32
}

func (t *tailSet) init() { t.subs = make(map[*tailSub]struct{}) }

func (t *tailSet) active() bool { return t.n.Load() > 0 }

func (t *tailSet) add(s *tailSub) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.subs[s] = struct{}{}
	t.n.Add(1)
	return true
}

func (t *tailSet) remove(s *tailSub) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.subs[s]; ok {
		delete(t.subs, s)
		t.n.Add(-1)
		close(s.ch)
	}
}

func (t *tailSet) closeAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = true
	for s := range t.subs {
		delete(t.subs, s)
		close(s.ch)
	}
	t.n.Store(0)
}

func (t *tailSet) publish(recs []Record, keys []lineKey, dropped *metrics.Counter) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	var lv lineView
	for s := range t.subs {
		for i := range recs {
			lv.reset(&recs[i])
			if !s.match(&lv) {
				continue
			}
			select {
			case s.ch <- Line{ID: keys[i].ID(), Record: recs[i]}:
			default:
				dropped.Inc()
			}
		}
	}
}
