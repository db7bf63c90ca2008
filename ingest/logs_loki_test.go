package ingest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/golang/snappy"
	"google.golang.org/protobuf/encoding/protowire"
)

// testLokiStream is a Loki push stream as a client builds it.
type testLokiStream struct {
	labels  string // {a="b", ...}; the JSON form gets the same pairs
	entries []testLokiEntry
}

type testLokiEntry struct {
	ts   time.Time
	line string
	meta [][2]string
}

// lokiPushProto encodes a PushRequest from Loki's published push.proto with protowire and
// compresses it with snappy, as Promtail and Alloy send it.
func lokiPushProto(streams []testLokiStream) []byte {
	var req []byte
	for _, s := range streams {
		var sb []byte
		sb = protowire.AppendTag(sb, 1, protowire.BytesType)
		sb = protowire.AppendString(sb, s.labels)
		for _, e := range s.entries {
			var ts []byte
			ts = protowire.AppendTag(ts, 1, protowire.VarintType)
			ts = protowire.AppendVarint(ts, uint64(e.ts.Unix()))
			ts = protowire.AppendTag(ts, 2, protowire.VarintType)
			ts = protowire.AppendVarint(ts, uint64(e.ts.Nanosecond()))
			var eb []byte
			eb = protowire.AppendTag(eb, 1, protowire.BytesType)
			eb = protowire.AppendBytes(eb, ts)
			eb = protowire.AppendTag(eb, 2, protowire.BytesType)
			eb = protowire.AppendString(eb, e.line)
			for _, kv := range e.meta {
				var pb []byte
				pb = protowire.AppendTag(pb, 1, protowire.BytesType)
				pb = protowire.AppendString(pb, kv[0])
				pb = protowire.AppendTag(pb, 2, protowire.BytesType)
				pb = protowire.AppendString(pb, kv[1])
				eb = protowire.AppendTag(eb, 3, protowire.BytesType)
				eb = protowire.AppendBytes(eb, pb)
			}
			sb = protowire.AppendTag(sb, 2, protowire.BytesType)
			sb = protowire.AppendBytes(sb, eb)
		}
		sb = protowire.AppendTag(sb, 3, protowire.VarintType) // hash, ignored
		sb = protowire.AppendVarint(sb, 12345)
		req = protowire.AppendTag(req, 1, protowire.BytesType)
		req = protowire.AppendBytes(req, sb)
	}
	return snappy.Encode(nil, req)
}

// lokiPushJSON encodes the same streams in Loki's JSON form.
func lokiPushJSON(t *testing.T, streams []testLokiStream) []byte {
	t.Helper()
	type js struct {
		Stream map[string]string `json:"stream"`
		Values [][]any           `json:"values"`
	}
	var out struct {
		Streams []js `json:"streams"`
	}
	for _, s := range streams {
		pairs, err := parseLokiLabels(s.labels)
		if err != nil {
			t.Fatal(err)
		}
		st := js{Stream: map[string]string{}}
		for _, p := range pairs {
			st.Stream[p.name] = p.value
		}
		for _, e := range s.entries {
			v := []any{strconv.FormatInt(e.ts.UnixNano(), 10), e.line}
			if len(e.meta) > 0 {
				m := map[string]string{}
				for _, kv := range e.meta {
					m[kv[0]] = kv[1]
				}
				v = append(v, m)
			}
			st.Values = append(st.Values, v)
		}
		out.Streams = append(out.Streams, st)
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Labels and metadata are in sorted order so the JSON form (a map) gives the same records.
var lokiSampleStreams = []testLokiStream{
	{
		labels: `{filename="/var/log/app.log", job="varlogs", level="info"}`,
		entries: []testLokiEntry{
			{ts: time.Date(2025, 3, 1, 10, 0, 0, 1, time.UTC),
				line: `{"ts":"2025-03-01T09:59:59Z","level":"error","msg":"db timeout","trace_id":"4BF92F3577B34DA6A3CE929D0E0E4736","db":{"host":"pg-1"}}`},
			{ts: time.Date(2025, 3, 1, 10, 0, 1, 0, time.UTC), line: "plain text line \"quoted\"",
				meta: [][2]string{{"span_id", "00f067aa0ba902b7"}, {"trace_id", "5bf92f3577b34da6a3ce929d0e0e4736"}}},
		},
	},
	{
		labels: `{env="prod", service_name="payments", weird="a\"b\\c"}`,
		entries: []testLokiEntry{
			{ts: time.Date(2025, 3, 1, 10, 0, 2, 0, time.UTC), line: `{"broken json`},
		},
	},
}

func postLoki(t *testing.T, h http.Handler, contentType, encoding string, body []byte) (int, []byte) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/loki/api/v1/push", bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if encoding != "" {
		req.Header.Set("Content-Encoding", encoding)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, got
}

func TestLokiPush(t *testing.T) {
	for _, tc := range []struct {
		name, contentType, encoding string
		body                        func(t *testing.T) []byte
	}{
		{"protobuf", "application/x-protobuf", "", func(*testing.T) []byte { return lokiPushProto(lokiSampleStreams) }},
		{"json", "application/json", "", func(t *testing.T) []byte { return lokiPushJSON(t, lokiSampleStreams) }},
		{"json_gzip", "application/json; charset=utf-8", "gzip", func(t *testing.T) []byte { return gzipBytes(t, lokiPushJSON(t, lokiSampleStreams)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink := &recordingSink{}
			set := metrics.NewSet()
			code, body := postLoki(t, NewLokiPushHandler(sink, testLogsOptions(), set, nil), tc.contentType, tc.encoding, tc.body(t))
			if code != http.StatusNoContent {
				t.Fatalf("status %d, want 204: %s", code, body)
			}
			checkGolden(t, "loki_push", code, body, sink.records())
			if got := counterValue(set, logsItemsName(protoLoki)); got != 3 {
				t.Errorf("items = %d, want 3", got)
			}
		})
	}
}

func TestLokiPushPartial(t *testing.T) {
	opts := testLogsOptions()
	opts.MaxLineBytes = 100
	ts := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	streams := []testLokiStream{
		{labels: `{app="web"}`, entries: []testLokiEntry{{ts: ts, line: "kept"}, {ts: ts, line: strings.Repeat("x", 101)}}},
		{labels: `{bad-label="x"}`, entries: []testLokiEntry{{ts: ts, line: "dropped"}}},
	}
	sink := &recordingSink{}
	set := metrics.NewSet()
	code, body := postLoki(t, NewLokiPushHandler(sink, opts, set, nil), "application/x-protobuf", "", lokiPushProto(streams))
	checkGolden(t, "loki_partial", code, body, sink.records())

	// JSON entries with a bad timestamp or shape are rejected alone.
	sink = &recordingSink{}
	code, body = postLoki(t, NewLokiPushHandler(sink, opts, set, nil), "application/json", "",
		[]byte(`{"streams":[{"stream":{"job":"j"},"values":[["1740823200000000000","ok"],["soon","bad time"],["1"],[1740823200000000000,"number ts"]]}]}`))
	checkGolden(t, "loki_partial_json", code, body, sink.records())
	for name, want := range map[string]uint64{
		logsRejectedItemsName(protoLoki, reasonTooLarge):   1,
		logsRejectedItemsName(protoLoki, reasonBadLabels):  1,
		logsRejectedItemsName(protoLoki, reasonBadTime):    1,
		logsRejectedItemsName(protoLoki, reasonBadRequest): 1,
		logsItemsName(protoLoki):                           3,
		logsRequestsName(protoLoki, "400"):                 2,
	} {
		if got := counterValue(set, name); got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
}

func TestLokiPushRefusals(t *testing.T) {
	valid := lokiPushProto(lokiSampleStreams)
	for _, tc := range []struct {
		name, contentType string
		body              []byte
		limit             int64
		want              int
	}{
		{"broken snappy", "application/x-protobuf", []byte("\xff\xff\xff\xff\xffnot snappy"), 0, 400},
		{"snappy of garbage", "application/x-protobuf", snappy.Encode(nil, []byte("\x0a\xff\xff\xff\xff\x0f")), 0, 400},
		{"bad JSON", "application/json", []byte(`{"streams":[`), 0, 400},
		{"decoded over limit", "application/x-protobuf", snappy.Encode(nil, bytes.Repeat([]byte{0}, 5000)), 1000, 413},
		{"wire over limit", "application/x-protobuf", valid, int64(len(valid) - 1), 413},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink := &recordingSink{}
			opts := testLogsOptions()
			opts.MaxRequestBytes = tc.limit
			code, body := postLoki(t, NewLokiPushHandler(sink, opts, nil, nil), tc.contentType, "", tc.body)
			if code != tc.want {
				t.Fatalf("status %d, want %d: %s", code, tc.want, body)
			}
			if n := len(sink.records()); n != 0 {
				t.Errorf("%d records stored", n)
			}
		})
	}
}

func TestParseLokiLabels(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		got, err := parseLokiLabels(in)
		if err != nil {
			if want != "error" {
				t.Errorf("parseLokiLabels(%q): %v", in, err)
			}
			return
		}
		if want == "error" {
			t.Errorf("parseLokiLabels(%q) = %v, want an error", in, got)
			return
		}
		var parts []string
		for _, p := range got {
			parts = append(parts, p.name+"="+p.value)
		}
		if s := strings.Join(parts, ";"); s != want {
			t.Errorf("parseLokiLabels(%q) = %s, want %s", in, s, want)
		}
	}
	f(`{}`, "")
	f(`{a="b"}`, "a=b")
	f(` { a = "b" , c="d\"e\\f\n" } `, "a=b;c=d\"e\\f\n")
	f(`{a="b",}`, "a=b")
	f(`{a="b" c="d"}`, "error")
	f(`{a=b}`, "error")
	f(`{a="b}`, "error")
	f(`{1a="b"}`, "error")
	f(`a="b"`, "error")
	f(``, "error")
}
