package alerting

import (
	"context"
	"embed"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"

	vmetrics "github.com/VictoriaMetrics/metrics"
	"github.com/prometheus/alertmanager/alert"
	"github.com/prometheus/alertmanager/config/receiver"
	"github.com/prometheus/alertmanager/notify"
	"github.com/prometheus/alertmanager/template"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

// buildTemplate parses Alertmanager's defaults, then Vigil's (which redefine the Slack,
// PagerDuty and link templates), then the configuration's own template files.
func buildTemplate(globs []string, externalURL *url.URL) (*template.Template, error) {
	t, err := template.FromGlobs(nil)
	if err != nil {
		return nil, fmt.Errorf("parse default templates: %w", err)
	}
	f, err := templateFS.Open("templates/vigil.tmpl")
	if err != nil {
		return nil, fmt.Errorf("open Vigil templates: %w", err)
	}
	defer f.Close()
	if err := t.Parse(f); err != nil {
		return nil, fmt.Errorf("parse Vigil templates: %w", err)
	}
	for _, g := range globs {
		if err := t.FromGlob(g); err != nil {
			return nil, fmt.Errorf("parse templates %s: %w", g, err)
		}
	}
	t.ExternalURL = externalURL
	return t, nil
}

// buildReceivers builds the integrations of the named receivers with Alertmanager's own
// notifiers, each wrapped so that Vigil counts and records its deliveries.
func (r *Router) buildReceivers(cfg *routerConfig, used map[string]bool, tmpl *template.Template) (map[string][]notify.Integration, error) {
	out := make(map[string][]notify.Integration, len(used))
	for _, rc := range cfg.am.Receivers {
		if !used[rc.Name] {
			continue
		}
		integrations, err := receiver.BuildReceiverIntegrations(rc, tmpl, r.log)
		if err != nil {
			return nil, fmt.Errorf("receiver %s: %w", rc.Name, err)
		}
		wrapped := make([]notify.Integration, 0, len(integrations))
		for i := range integrations {
			in := &integrations[i]
			rn := &recordingNotifier{inner: in, receiver: rc.Name, history: r.history, set: r.set}
			wrapped = append(wrapped, notify.NewIntegration(rn, in, in.Name(), in.Index(), rc.Name))
		}
		out[rc.Name] = wrapped
	}
	return out, nil
}

// recordingNotifier counts each delivery attempt in vigil_alerting_notifications_total and
// vigil_alerting_notifications_failed_total{integration,receiver}, and keeps it in the
// notification history. Alertmanager's RetryStage calls it once per attempt.
type recordingNotifier struct {
	inner    *notify.Integration
	receiver string
	history  *notificationHistory
	set      *vmetrics.Set
}

func (n *recordingNotifier) Notify(ctx context.Context, alerts ...*alert.Alert) notify.NotifyVerdict {
	start := time.Now()
	v := n.inner.Notify(ctx, alerts...)
	labels := fmt.Sprintf(`{integration=%q,receiver=%q}`, n.inner.Name(), n.receiver)
	n.set.GetOrCreateCounter("vigil_alerting_notifications_total" + labels).Inc()
	e := Notification{
		Time:        start,
		Receiver:    n.receiver,
		Integration: n.inner.Name(),
		Alerts:      len(alerts),
		Status:      string(alert.Alerts(alerts...).Status()),
		Duration:    time.Since(start),
	}
	e.GroupKey, _ = notify.GroupKey(ctx)
	if err := v.Err(); err != nil {
		n.set.GetOrCreateCounter("vigil_alerting_notifications_failed_total" + labels).Inc()
		e.Error = err.Error()
		e.Retry = v.ShouldRetry()
	}
	n.history.add(e)
	return v
}

// Notification is one delivery attempt, as GET /api/v1/alerts/notifications shows it.
type Notification struct {
	Time        time.Time     `json:"time"`
	Receiver    string        `json:"receiver"`
	Integration string        `json:"integration"`
	GroupKey    string        `json:"groupKey"`
	Status      string        `json:"status"` // firing or resolved
	Alerts      int           `json:"alerts"`
	Duration    time.Duration `json:"durationNs"`
	Error       string        `json:"error,omitempty"`
	Retry       bool          `json:"willRetry,omitempty"`
}

// notificationHistory keeps the last attempts in a ring. Safe for concurrent use.
type notificationHistory struct {
	mu   sync.Mutex
	ring []Notification
	next int
	full bool
}

func newNotificationHistory(n int) *notificationHistory {
	return &notificationHistory{ring: make([]Notification, n)}
}

func (h *notificationHistory) add(e Notification) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ring[h.next] = e
	h.next = (h.next + 1) % len(h.ring)
	if h.next == 0 {
		h.full = true
	}
}

// list returns the attempts, newest first.
func (h *notificationHistory) list() []Notification {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := h.next
	if h.full {
		n = len(h.ring)
	}
	out := make([]Notification, 0, n)
	for i := 1; i <= n; i++ {
		out = append(out, h.ring[(h.next-i+len(h.ring))%len(h.ring)])
	}
	return out
}

// logger returns l, or a discarding logger.
func loggerOr(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
