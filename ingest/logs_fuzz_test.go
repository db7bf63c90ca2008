package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/golang/snappy"

	"github.com/vigilhq/vigil/logs"
)

// The log fuzz targets check that no input crashes a parser or is mistaken for a storage
// failure, that what reaches the sink is well formed, and that the answer's counts match it.

// checkFuzzRecords checks what a handler gave the sink.
func checkFuzzRecords(t *testing.T, recs []logs.Record, rawIsJSON bool) {
	t.Helper()
	for i, r := range recs {
		if len(r.Raw) == 0 {
			t.Fatalf("record %d has no Raw", i)
		}
		if rawIsJSON && !json.Valid(r.Raw) {
			t.Fatalf("record %d: Raw is not JSON: %q", i, r.Raw)
		}
		if r.Time.IsZero() {
			t.Fatalf("record %d has no time", i)
		}
		if !json.Valid(appendRecordJSON(nil, &r)) {
			t.Fatalf("record %d renders to invalid JSON: %q", i, appendRecordJSON(nil, &r))
		}
	}
}

func fuzzLogsOptions() LogsIngestOptions {
	o := testLogsOptions()
	o.MaxLineBytes = 4096
	o.MaxRequestBytes = 1 << 20
	return o
}

func FuzzJSONLines(f *testing.F) {
	for _, s := range jsonLinesFuzzSeeds() {
		f.Add(s)
	}
	opts := fuzzLogsOptions()
	f.Fuzz(func(t *testing.T, body []byte) {
		sink := &recordingSink{}
		h := NewJSONLinesHandler(sink, opts, nil, nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/v1/logs", bytes.NewReader(body)))
		if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		var resp logsIngestResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
			t.Fatalf("answer is not JSON: %v: %s", err, rec.Body)
		}
		recs := sink.records()
		if resp.Accepted != len(recs) {
			t.Fatalf("answer says %d accepted, sink got %d", resp.Accepted, len(recs))
		}
		for i, r := range recs {
			if len(r.Raw) > opts.MaxLineBytes || !json.Valid(r.Raw) {
				t.Fatalf("record %d: Raw over the limit or not JSON: %q", i, r.Raw)
			}
		}
		checkFuzzRecords(t, recs, true)
	})
}

func FuzzLokiPush(f *testing.F) {
	for _, s := range lokiFuzzSeeds() {
		f.Add(s.body, s.json)
	}
	opts := fuzzLogsOptions()
	f.Fuzz(func(t *testing.T, body []byte, asJSON bool) {
		sink := &recordingSink{}
		h := NewLokiPushHandler(sink, opts, nil, nil)
		ct := "application/json"
		if !asJSON {
			ct = "application/x-protobuf"
			body = snappy.Encode(nil, body) // fuzz the protobuf decoder, not snappy
		}
		req := httptest.NewRequest(http.MethodPost, "/loki/api/v1/push", bytes.NewReader(body))
		req.Header.Set("Content-Type", ct)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusNoContent, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		checkFuzzRecords(t, sink.records(), true)
	})
}

func FuzzESBulk(f *testing.F) {
	for _, s := range esBulkFuzzSeeds(f) {
		f.Add(s)
	}
	opts := fuzzLogsOptions()
	f.Fuzz(func(t *testing.T, body []byte) {
		sink := &recordingSink{}
		h := NewElasticsearchHandler(sink, opts, nil, nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/idx/_bulk", bytes.NewReader(body)))
		recs := sink.records()
		switch rec.Code {
		case http.StatusOK:
			var resp esBulkResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
				t.Fatalf("answer is not a bulk response: %v: %s", err, rec.Body)
			}
			created := 0
			for _, item := range resp.Items {
				for _, it := range item {
					if it.Status == http.StatusCreated {
						created++
					}
				}
			}
			if created != len(recs) {
				t.Fatalf("%d items created, sink got %d", created, len(recs))
			}
		case http.StatusBadRequest:
			if len(recs) != 0 {
				t.Fatalf("400 but %d records stored", len(recs))
			}
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		checkFuzzRecords(t, recs, true)
	})
}

func jsonLinesFuzzSeeds() [][]byte {
	return [][]byte{
		[]byte(jsonLinesSample),
		[]byte(`[{"msg":"a","level":"info"},{"msg":"b","ts":1740823200123}]`),
		[]byte("{\"a\":{\"b\":{\"c\":[1,{\"d\":null}]}},\"time\":\"2025-03-01T10:00:00Z\"}\n42\n{\"msg\":\"x\""),
		[]byte(`{"ts":"1740823200.5","lvl":50,"trace_id":"ABCDEF","k":"\ud83d\ude00 \u0000"}`),
	}
}

type lokiFuzzSeed struct {
	body []byte
	json bool
}

func lokiFuzzSeeds() []lokiFuzzSeed {
	proto, _ := snappy.Decode(nil, lokiPushProto(lokiSampleStreams))
	return []lokiFuzzSeed{
		{proto, false},
		{[]byte(`{"streams":[{"stream":{"job":"j","level":"warn"},"values":[["1740823200000000000","{\"msg\":\"hi\"}",{"trace_id":"abc"}],["1","plain"]]}]}`), true},
		{lokiPushProto([]testLokiStream{{labels: `{a="b"}`, entries: []testLokiEntry{{ts: time.Unix(0, 5), line: "x"}}}}), false},
		{[]byte(`{"streams":[{"stream":{},"values":[["x"]]}]}`), true},
	}
}

func esBulkFuzzSeeds(t testing.TB) [][]byte {
	filebeat, err := os.ReadFile(filepath.Join("testdata", "logs", "filebeat_bulk.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	return [][]byte{
		filebeat,
		[]byte("{\"index\":{\"_index\":\"a\",\"_id\":\"1\"}}\n{\"msg\":\"x\"}\n{\"delete\":{\"_id\":\"1\"}}\n{\"update\":{}}\n{\"doc\":{}}\n"),
		[]byte("{\"create\":{}}\n[1,2]\n{\"index\":{}}\n{\"@timestamp\":\"nope\"}\n"),
	}
}

// TestLogsFuzzSeedCorpora keeps testdata/fuzz/Fuzz{JSONLines,LokiPush,ESBulk} in step with the
// seeds above (so `go test -fuzz` starts from them); -update-logs rewrites them.
func TestLogsFuzzSeedCorpora(t *testing.T) {
	corpora := map[string][]string{}
	for _, s := range jsonLinesFuzzSeeds() {
		corpora["FuzzJSONLines"] = append(corpora["FuzzJSONLines"], fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s))
	}
	for _, s := range lokiFuzzSeeds() {
		corpora["FuzzLokiPush"] = append(corpora["FuzzLokiPush"], fmt.Sprintf("go test fuzz v1\n[]byte(%q)\nbool(%t)\n", s.body, s.json))
	}
	for _, s := range esBulkFuzzSeeds(t) {
		corpora["FuzzESBulk"] = append(corpora["FuzzESBulk"], fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s))
	}
	for name, files := range corpora {
		dir := filepath.Join("testdata", "fuzz", name)
		for i, want := range files {
			path := filepath.Join(dir, fmt.Sprintf("seed-%d", i))
			if *updateLogsGolden {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(path)
			if err != nil || string(got) != want {
				t.Errorf("%s is missing or stale (run with -update-logs): %v", path, err)
			}
		}
	}
}
