package alerting

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"

	vmetrics "github.com/VictoriaMetrics/metrics"
	"github.com/prometheus/alertmanager/alert"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
)

// fakeReceiver is an httptest server standing in for Slack, PagerDuty or a webhook: it
// records each request body and answers 500 to the first failFirst requests.
type fakeReceiver struct {
	srv       *httptest.Server
	mu        sync.Mutex
	bodies    [][]byte
	attempts  int
	failFirst int
	okBody    string // "ok" for Slack's incoming webhooks
}

func newFakeReceiver(t *testing.T, okBody string, failFirst int) *fakeReceiver {
	t.Helper()
	f := &fakeReceiver{okBody: okBody, failFirst: failFirst}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.attempts++
		fail := f.attempts <= f.failFirst
		if !fail {
			f.bodies = append(f.bodies, b)
		}
		f.mu.Unlock()
		if fail {
			http.Error(w, "upstream exploded", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, f.okBody)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeReceiver) received() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]byte(nil), f.bodies...)
}

func (f *fakeReceiver) count() int { return len(f.received()) }

// slackMessage is the part of Slack's incoming-webhook payload the tests read.
type slackMessage struct {
	Attachments []struct {
		Title     string `json:"title"`
		TitleLink string `json:"title_link"`
		Text      string `json:"text"`
	} `json:"attachments"`
}

// pagerDutyEvent is the part of a PagerDuty Events API v2 event the tests read.
type pagerDutyEvent struct {
	RoutingKey  string `json:"routing_key"`
	EventAction string `json:"event_action"`
	DedupKey    string `json:"dedup_key"`
	Payload     struct {
		Summary       string         `json:"summary"`
		Severity      string         `json:"severity"`
		CustomDetails map[string]any `json:"custom_details"`
	} `json:"payload"`
	Links []struct {
		Href string `json:"href"`
	} `json:"links"`
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

// eventually polls cond every 20ms for up to 10s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// testRouter is a started router over a config rendered from a template with the fakes' URLs.
type testRouter struct {
	*Router
	dir string
	set *vmetrics.Set
	api *httptest.Server
}

const testExternalURL = "http://vigil.example:9700"

// startRouter writes cfg (a text/template over urls) to dir/alerting.yml and starts a router
// on dir with short intervals. A "" cfg keeps the default configuration.
func startRouter(t *testing.T, dir, cfg string, urls map[string]string, defaults DefaultReceivers) *testRouter {
	t.Helper()
	return startRouterWith(t, dir, cfg, urls, defaults, nil)
}

// startRouterWith is startRouter with escalation policies given apart from the file.
func startRouterWith(t *testing.T, dir, cfg string, urls map[string]string, defaults DefaultReceivers, policies []EscalationPolicy) *testRouter {
	t.Helper()
	set := vmetrics.NewSet()
	r, err := OpenRouter(dir, RouterOptions{
		ExternalURL:        testExternalURL,
		EscalationInterval: 50 * time.Millisecond,
		Defaults:           defaults,
		Metrics:            set,
	}, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	if cfg != "" {
		var b bytes.Buffer
		if err := template.Must(template.New("cfg").Parse(cfg)).Execute(&b, urls); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "alerting.yml")
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := r.LoadConfigWith(path, policies); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	tr := &testRouter{Router: r, dir: dir, set: set, api: httptest.NewServer(r.APIHandler())}
	t.Cleanup(func() { tr.stop(t) })
	return tr
}

func (tr *testRouter) stop(t *testing.T) {
	t.Helper()
	tr.api.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tr.Stop(ctx); err != nil {
		t.Errorf("stop router: %v", err)
	}
}

// put sends alerts given as label pairs ("alertname=X,severity=critical"), firing since
// startsAgo, with a summary annotation.
func (tr *testRouter) put(t *testing.T, startsAgo time.Duration, resolved bool, lsets ...string) {
	t.Helper()
	var as []*alert.Alert
	for _, s := range lsets {
		ls := model.LabelSet{}
		for _, kv := range strings.Split(s, ",") {
			k, v, _ := strings.Cut(kv, "=")
			ls[model.LabelName(k)] = model.LabelValue(v)
		}
		a := model.Alert{
			Labels:      ls,
			Annotations: model.LabelSet{"summary": model.LabelValue("summary of " + string(ls["alertname"]))},
			StartsAt:    time.Now().Add(-startsAgo),
		}
		if resolved {
			a.EndsAt = time.Now()
		}
		as = append(as, &alert.Alert{Alert: a})
	}
	if err := tr.PutAlerts(context.Background(), as...); err != nil {
		t.Fatal(err)
	}
}

// metric returns the text exposition of the router's vigil_ metrics.
func (tr *testRouter) metrics() string {
	var b bytes.Buffer
	tr.set.WritePrometheus(&b)
	return b.String()
}

// do sends an API request and returns the status and body.
func (tr *testRouter) do(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, tr.api.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := tr.api.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
