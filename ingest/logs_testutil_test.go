package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vigilhq/vigil/logs"
)

var updateLogsGolden = flag.Bool("update-logs", false, "rewrite ingest/testdata/logs golden files and the log fuzz seed corpora")

// recordingSink is a LogSink that keeps deep copies of what it was given.
type recordingSink struct {
	mu      sync.Mutex
	batches [][]logs.Record
	err     error // returned by WriteLogs when set
}

func (s *recordingSink) WriteLogs(_ context.Context, b []logs.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	cp := make([]logs.Record, len(b))
	for i, r := range b {
		r.Fields = slices.Clone(r.Fields)
		r.Raw = bytes.Clone(r.Raw)
		cp[i] = r
	}
	s.batches = append(s.batches, cp)
	return nil
}

func (s *recordingSink) records() []logs.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []logs.Record
	for _, b := range s.batches {
		all = append(all, b...)
	}
	return all
}

// testLogsOptions are the defaults with a fixed receive time.
func testLogsOptions() LogsIngestOptions {
	o := DefaultLogsIngestOptions()
	o.now = func() time.Time { return testReceiveTime }
	return o
}

var testReceiveTime = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// goldenRecord is the readable form of a logs.Record in golden files.
type goldenRecord struct {
	Time    string   `json:"time"`
	Service string   `json:"service,omitempty"`
	Level   string   `json:"level,omitempty"`
	Message string   `json:"message,omitempty"`
	TraceID string   `json:"trace_id,omitempty"`
	SpanID  string   `json:"span_id,omitempty"`
	Fields  []string `json:"fields,omitempty"` // "key (kind) = value"
	Raw     string   `json:"raw"`
}

var kindNames = map[logs.FieldKind]string{logs.KindString: "string", logs.KindNumber: "number", logs.KindBool: "bool"}

func toGolden(recs []logs.Record) []goldenRecord {
	out := make([]goldenRecord, 0, len(recs))
	for _, r := range recs {
		g := goldenRecord{
			Time: r.Time.UTC().Format(time.RFC3339Nano), Service: r.Service, Level: r.Level,
			Message: r.Message, TraceID: r.TraceID, SpanID: r.SpanID, Raw: string(r.Raw),
		}
		for _, f := range r.Fields {
			g.Fields = append(g.Fields, fmt.Sprintf("%s (%s) = %s", f.Key, kindNames[f.Kind], f.Value))
		}
		out = append(out, g)
	}
	return out
}

// goldenExchange is one request's outcome as stored in a golden file.
type goldenExchange struct {
	Status   int             `json:"status"`
	Response json.RawMessage `json:"response,omitempty"`
	Records  []goldenRecord  `json:"records"`
}

// checkGolden compares got with testdata/logs/<name>.json, rewriting it under -update-logs.
func checkGolden(t *testing.T, name string, status int, response []byte, recs []logs.Record) {
	t.Helper()
	ex := goldenExchange{Status: status, Records: toGolden(recs)}
	if len(bytes.TrimSpace(response)) > 0 {
		if json.Valid(response) {
			ex.Response = bytes.TrimSpace(response)
		} else {
			ex.Response, _ = json.Marshal(string(response))
		}
	}
	got, err := json.MarshalIndent(ex, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "logs", name+".json")
	if *updateLogsGolden {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update-logs to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update-logs to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func logsItemsName(protocol string) string {
	return fmt.Sprintf(`vigil_ingest_items_total{signal="logs",protocol=%q}`, protocol)
}

func logsRejectedItemsName(protocol string, reason rejectReason) string {
	return fmt.Sprintf(`vigil_ingest_rejected_items_total{signal="logs",protocol=%q,reason=%q}`, protocol, reason)
}

func logsRequestsName(protocol, code string) string {
	return fmt.Sprintf(`vigil_ingest_requests_total{signal="logs",protocol=%q,code=%q}`, protocol, code)
}

func logsRejectedName(protocol string, reason rejectReason) string {
	return fmt.Sprintf(`vigil_ingest_rejected_total{signal="logs",protocol=%q,reason=%q}`, protocol, reason)
}

// regexpTook masks the bulk response's timing.
var regexpTook = regexp.MustCompile(`"took":\d+`)
