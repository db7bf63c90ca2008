package ingest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/vigilhq/vigil/logs"
)

// behindSink behaves as logs.Store does when indexing falls behind: it holds the writer until
// its context ends, then returns ErrBusy having stored nothing.
type behindSink struct{ calls int }

func (s *behindSink) WriteLogs(ctx context.Context, _ []logs.Record) error {
	s.calls++
	<-ctx.Done()
	return fmt.Errorf("write logs: %w (1 bytes wait to be indexed): %w", logs.ErrBusy, ctx.Err())
}

// A log store that is behind gets every log protocol a 429 with Retry-After (gRPC:
// ResourceExhausted with RetryInfo) after MaxStoreWait, not a request held until the client
// gives up.
func TestLogsStoreBehindAnswers429(t *testing.T) {
	opts := testLogsOptions()
	opts.MaxStoreWait = 20 * time.Millisecond
	line := `{"msg":"hello","level":"info"}`
	otlpBody, err := plogotlp.NewExportRequestFromLogs(oneLog()).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		protocol, path, contentType, body, wantInBody string
		handler                                       func(LogSink, *metrics.Set) http.Handler
	}{
		{protocol: protoJSONLines, path: "/api/v1/logs", body: line, wantInBody: "retry later",
			handler: func(s LogSink, set *metrics.Set) http.Handler { return NewJSONLinesHandler(s, opts, set, nil) }},
		{protocol: protoLoki, path: "/loki/api/v1/push", contentType: "application/json", wantInBody: "retry later",
			body:    `{"streams":[{"stream":{"service":"a"},"values":[["1700000000000000000","hello"]]}]}`,
			handler: func(s LogSink, set *metrics.Set) http.Handler { return NewLokiPushHandler(s, opts, set, nil) }},
		{protocol: protoESBulk, path: "/_bulk", contentType: "application/x-ndjson", wantInBody: "es_rejected_execution_exception",
			body:    "{\"index\":{\"_index\":\"app\"}}\n" + line + "\n",
			handler: func(s LogSink, set *metrics.Set) http.Handler { return NewElasticsearchHandler(s, opts, set, nil) }},
		{protocol: protoOTLPHTTP, path: "/v1/logs", contentType: "application/json", body: string(otlpBody), wantInBody: "retry later",
			handler: func(s LogSink, set *metrics.Set) http.Handler { return NewOTLPLogs(s, opts, set, nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.protocol, func(t *testing.T) {
			set := metrics.NewSet()
			sink := &behindSink{}
			srv := httptest.NewServer(tt.handler(sink, set))
			defer srv.Close()
			resp, err := http.Post(srv.URL+tt.path, tt.contentType, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body := readAll(t, resp)
			if resp.StatusCode != http.StatusTooManyRequests {
				t.Fatalf("status %d, want 429: %s", resp.StatusCode, body)
			}
			if resp.Header.Get("Retry-After") != "5" {
				t.Errorf("Retry-After = %q, want 5", resp.Header.Get("Retry-After"))
			}
			if !strings.Contains(body, tt.wantInBody) {
				t.Errorf("body %s lacks %q", body, tt.wantInBody)
			}
			if sink.calls != 1 {
				t.Errorf("sink called %d times", sink.calls)
			}
			if got := counterValue(set, logsRejectedName(tt.protocol, reasonStoreBusy)); got != 1 {
				t.Errorf("rejected{reason=store_busy} = %d, want 1", got)
			}
		})
	}

	t.Run("otlp_grpc", func(t *testing.T) {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		gs := grpc.NewServer()
		plogotlp.RegisterGRPCServer(gs, NewOTLPLogs(&behindSink{}, opts, metrics.NewSet(), nil))
		go func() { _ = gs.Serve(lis) }()
		defer gs.Stop()
		conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_, err = plogotlp.NewGRPCClient(conn).Export(context.Background(), plogotlp.NewExportRequestFromLogs(oneLog()))
		st := status.Convert(err)
		if st.Code() != codes.ResourceExhausted {
			t.Fatalf("export: %v, want ResourceExhausted", err)
		}
		var delay time.Duration
		for _, d := range st.Details() {
			if ri, ok := d.(*errdetails.RetryInfo); ok {
				delay = ri.GetRetryDelay().AsDuration()
			}
		}
		if delay != storeBusyRetry {
			t.Errorf("RetryInfo delay = %v, want %v", delay, storeBusyRetry)
		}
	})
}

func oneLog() plog.Logs {
	ld := plog.NewLogs()
	lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.Body().SetStr("hello")
	lr.SetTimestamp(1_700_000_000_000_000_000)
	return ld
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
