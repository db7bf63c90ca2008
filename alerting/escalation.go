package alerting

// Escalation and acknowledgement are Vigil's own: Alertmanager has neither (it notifies a
// group's receiver, and repeats at repeat_interval, until the group resolves or is silenced).
// They are built on Alertmanager's parts rather than beside them: the groups come from the
// dispatcher, and an escalation notification goes through the same notification pipeline
// (inhibition, time intervals, silences, dedup against the notification log, retries), so a
// restart does not page a step's receiver again, and a silence stops escalation too.
//
// In a cluster (cluster.go) every peer escalates, and the pair still pages a step's receiver
// once: an escalation goes through the same gossip settle stage, wait for the peer's turn
// (Position × PeerTimeout) and dedup against the gossiped notification log as the route's own
// notifications. That is chosen over "only the first peer escalates" because it needs no
// leader: when the first peer dies between two evaluations, the next one escalates after its
// wait, exactly as it takes over the route's pages. Acknowledgements are gossiped too
// ("vigil_ack"), so acknowledging on either peer stops escalation on both.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/prometheus/alertmanager/alert"
	"github.com/prometheus/alertmanager/dispatch"
	"github.com/prometheus/alertmanager/notify"
	"github.com/prometheus/common/model"
)

// ErrGroupNotFound is returned when acknowledging a group that is not firing.
var ErrGroupNotFound = errors.New("alert group not found")

// GroupID is a short, URL-safe name for an aggregation group key.
func GroupID(groupKey string) string {
	h := sha256.Sum256([]byte(groupKey))
	return hex.EncodeToString(h[:8])
}

// escalator evaluates escalation policies at an interval.
type escalator struct {
	r *Router

	mu        sync.Mutex
	escalated map[string]*escalatedGroup // by group key
	present   map[string]bool            // groups firing at the last evaluation
	inflight  map[string]bool            // group key + receiver
	wg        sync.WaitGroup
}

// escalatedGroup remembers what step receivers were told, to tell them when it resolves.
type escalatedGroup struct {
	labels    model.LabelSet
	receivers map[string]bool
	alerts    []*alert.Alert
}

func newEscalator(r *Router) *escalator {
	return &escalator{r: r, escalated: map[string]*escalatedGroup{}, present: map[string]bool{}, inflight: map[string]bool{}}
}

// run evaluates at every multiple of every since the Unix epoch, rather than every after the
// start: the peers of a cluster then evaluate at the same moments, and the one waiting its turn
// (PeerTimeout later) finds the first one's send in the gossiped log. With free-running
// tickers, a second peer's check could land just as the first one sends, and page twice.
func (e *escalator) run(ctx context.Context, every time.Duration) {
	defer e.wg.Wait()
	t := time.NewTimer(time.Until(time.Now().Truncate(every).Add(every)))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			now := time.Now()
			t.Reset(time.Until(now.Truncate(every).Add(every)))
			e.evaluate(ctx, now.Truncate(every))
		}
	}
}

// evaluate sends each firing, unacknowledged group under a policy to the receivers of the
// steps whose delay has passed, and tells them when a group they were told about resolves.
func (e *escalator) evaluate(ctx context.Context, now time.Time) {
	cfg, stage, _ := e.r.current()
	active := func(a *alert.Alert, now time.Time) (alert.AlertStatus, bool) {
		return alert.AlertStatus{}, !a.Resolved()
	}
	groups, _, err := e.r.groups(ctx, func(*dispatch.Route) bool { return true }, active)
	if err != nil {
		e.r.log.Warn("escalation: list alert groups", "err", err)
		return
	}
	seen := make(map[string]bool, len(groups))
	for _, g := range groups {
		seen[g.GroupKey] = true
		name, ok := g.RouteLabels[EscalationPolicyLabel]
		if !ok || len(g.Alerts) == 0 || e.r.acks.acked(g.GroupKey) {
			continue
		}
		p, ok := cfg.policy(string(name))
		if !ok {
			e.r.log.Warn("escalation: route names an undefined policy", "policy", name, "group", g.GroupKey)
			continue
		}
		since := g.Alerts[0].StartsAt
		for _, a := range g.Alerts {
			if a.StartsAt.Before(since) {
				since = a.StartsAt
			}
		}
		alerts := make([]*alert.Alert, 0, len(g.Alerts))
		for _, a := range g.Alerts {
			c := *a
			c.EndsAt = time.Time{} // as the dispatcher's flush: firing alerts do not resolve in flight
			alerts = append(alerts, &c)
		}
		for _, s := range p.Steps {
			if now.Sub(since) < time.Duration(s.After) {
				break
			}
			e.remember(g.GroupKey, g.Labels, s.Receiver, alerts)
			e.send(ctx, stage, g.GroupKey, g.Labels, g.RouteLabels, s.Receiver, time.Duration(p.RepeatInterval), now, alerts)
		}
	}
	// Groups gone (resolved and flushed) or without firing alerts: resolve at the step
	// receivers, and forget the acknowledgement so the next incident escalates again.
	e.mu.Lock()
	var gone []string
	for key := range e.escalated {
		if !seen[key] {
			gone = append(gone, key)
		}
	}
	e.mu.Unlock()
	for _, key := range gone {
		e.mu.Lock()
		eg := e.escalated[key]
		delete(e.escalated, key)
		e.mu.Unlock()
		resolved := make([]*alert.Alert, 0, len(eg.alerts))
		for _, a := range eg.alerts {
			c := *a
			c.EndsAt = now
			resolved = append(resolved, &c)
		}
		for rcv := range eg.receivers {
			e.send(ctx, stage, key, eg.labels, nil, rcv, 0, now, resolved)
		}
	}
	// An acknowledgement ends with its incident: when a group seen firing since this process
	// started stops firing. (Alerts are not persisted, so after a restart a group is absent
	// until its rules fire again; its acknowledgement waits for it, up to the retention.)
	e.mu.Lock()
	var ended []string
	for key := range e.present {
		if !seen[key] {
			ended = append(ended, key)
			delete(e.present, key)
		}
	}
	for key := range seen {
		e.present[key] = true
	}
	e.mu.Unlock()
	e.r.acks.forget(ended, now.Add(-e.r.opts.Retention))
}

func (e *escalator) remember(key string, labels model.LabelSet, rcv string, alerts []*alert.Alert) {
	e.mu.Lock()
	defer e.mu.Unlock()
	eg := e.escalated[key]
	if eg == nil {
		eg = &escalatedGroup{labels: labels, receivers: map[string]bool{}}
		e.escalated[key] = eg
	}
	eg.receivers[rcv] = true
	eg.alerts = alerts
}

// send runs the notification pipeline for one receiver in the background, so a slow receiver
// delays nobody; a second send for the same group and receiver waits for the first to end.
func (e *escalator) send(ctx context.Context, stage notify.RoutingStage, key string, labels, routeLabels model.LabelSet,
	rcv string, repeat time.Duration, now time.Time, alerts []*alert.Alert) {
	id := key + "\xff" + rcv
	e.mu.Lock()
	if e.inflight[id] {
		e.mu.Unlock()
		return
	}
	e.inflight[id] = true
	e.mu.Unlock()
	if repeat <= 0 {
		repeat = time.Duration(defaultEscalationRepeat)
	}
	e.wg.Go(func() {
		defer func() {
			e.mu.Lock()
			delete(e.inflight, id)
			e.mu.Unlock()
		}()
		// The pipeline waits this peer's turn in a cluster before deduplicating (cluster.go).
		ctx, cancel := context.WithTimeout(ctx, max(e.r.opts.EscalationInterval, notify.MinTimeout)+e.r.wait())
		defer cancel()
		ctx = notify.WithNow(ctx, now)
		ctx = notify.WithGroupKey(ctx, key)
		ctx = notify.WithGroupLabels(ctx, labels)
		ctx = notify.WithRouteLabels(ctx, routeLabels)
		ctx = notify.WithReceiverName(ctx, rcv)
		ctx = notify.WithRepeatInterval(ctx, repeat)
		if _, _, err := stage.Exec(ctx, e.r.log, alerts...); err != nil && ctx.Err() == nil {
			e.r.log.Warn("escalation: notify failed", "receiver", rcv, "group", key, "err", err)
		}
		e.r.set.GetOrCreateCounter(fmt.Sprintf(`vigil_alerting_escalations_total{receiver=%q}`, rcv)).Inc()
	})
}

// Ack acknowledges the group whose key or GroupID is given: its escalation stops until it
// resolves. The acknowledgement is written to disk before Ack returns.
func (r *Router) Ack(ctx context.Context, group, by string) (groupKey string, err error) {
	groups, _, err := r.groups(ctx, func(*dispatch.Route) bool { return true },
		func(a *alert.Alert, _ time.Time) (alert.AlertStatus, bool) { return alert.AlertStatus{}, true })
	if err != nil {
		return "", fmt.Errorf("list alert groups: %w", err)
	}
	for _, g := range groups {
		if g.GroupKey == group || GroupID(g.GroupKey) == group {
			return g.GroupKey, r.acks.ack(g.GroupKey, by, time.Now())
		}
	}
	return "", fmt.Errorf("%w: %s", ErrGroupNotFound, group)
}

// ackStore keeps acknowledgements in a JSON file, rewritten atomically on each change.
type ackStore struct {
	path string
	mu   sync.Mutex
	acks map[string]Ack
	// In a cluster (cluster_acks.go): when each group's acknowledgement was forgotten here, so
	// a peer's older copy does not bring it back; and how changes are broadcast.
	forgotten map[string]time.Time
	broadcast func([]byte)
}

// Ack is one acknowledgement.
type Ack struct {
	At time.Time `json:"at"`
	By string    `json:"by,omitempty"`
}

func openAckStore(path string) (*ackStore, error) {
	s := &ackStore{path: path, acks: map[string]Ack{}, forgotten: map[string]time.Time{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read acknowledgements: %w", err)
	}
	if err := json.Unmarshal(b, &s.acks); err != nil {
		return nil, fmt.Errorf("decode acknowledgements %s: %w", path, err)
	}
	return s, nil
}

func (s *ackStore) acked(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.acks[key]
	return ok
}

func (s *ackStore) get(key string) (Ack, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.acks[key]
	return a, ok
}

func (s *ackStore) ack(key, by string, at time.Time) error {
	s.mu.Lock()
	s.acks[key] = Ack{At: at, By: by}
	bcast := s.broadcast
	s.mu.Unlock()
	if bcast != nil {
		bcast(encodeAckState(map[string]Ack{key: {At: at, By: by}}, nil))
	}
	return s.save()
}

// forget drops the acknowledgements of the ended groups, and any made before cutoff.
func (s *ackStore) forget(ended []string, cutoff time.Time) {
	s.mu.Lock()
	changed := false
	now := time.Now()
	for _, k := range ended {
		if _, ok := s.acks[k]; ok {
			delete(s.acks, k)
			s.forgotten[k] = now
			changed = true
		}
	}
	for k, a := range s.acks {
		if a.At.Before(cutoff) {
			delete(s.acks, k)
			changed = true
		}
	}
	for k, at := range s.forgotten {
		if at.Before(cutoff) {
			delete(s.forgotten, k)
		}
	}
	s.mu.Unlock()
	if changed {
		_ = s.save() // retried at the next change or at Stop
	}
}

func (s *ackStore) save() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := json.Marshal(s.acks)
	if err != nil {
		return fmt.Errorf("encode acknowledgements: %w", err)
	}
	tmp := s.path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("write acknowledgements: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("write acknowledgements: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync acknowledgements: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close acknowledgements: %w", err)
	}
	if err := os.Rename(tmp, s.path); err != nil {
		return fmt.Errorf("replace acknowledgements: %w", err)
	}
	return nil
}
