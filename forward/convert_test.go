package forward

import (
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/vigilhq/vigil/logs"
)

func TestLogsToPlog(t *testing.T) {
	at := time.Date(2026, 11, 27, 10, 0, 0, 123, time.UTC)
	recs := []logs.Record{
		{Time: at, Service: "checkout", Level: "error", Message: "payment failed", TraceID: "0102030405060708090a0b0c0d0e0f10", SpanID: "0102030405060708",
			Fields: []logs.Field{
				{Key: "http.status", Value: "502", Kind: logs.KindNumber},
				{Key: "ratio", Value: "0.5", Kind: logs.KindNumber},
				{Key: "cached", Value: "true", Kind: logs.KindBool},
				{Key: "event.name", Value: "payment.failed"},
				{Key: "otel.scope.name", Value: "pay"},
				{Key: "otel.scope.version", Value: "1.2"},
				{Key: "host.name", Value: "node-1"},
				{Key: "k8s.pod.name", Value: "checkout-0"},
			}},
		{Time: at, Service: "checkout", Level: "info", Message: "ok", Fields: []logs.Field{{Key: "host.name", Value: "node-1"}, {Key: "k8s.pod.name", Value: "checkout-0"}}},
		{Time: at, Service: "checkout", Level: "warn", Message: "other pod", Fields: []logs.Field{{Key: "host.name", Value: "node-2"}}},
		{Time: at, Level: "bogus", TraceID: "not-hex"},
	}
	ld := logsToPlog(recs)
	if n := ld.ResourceLogs().Len(); n != 3 {
		t.Fatalf("%d resources, want 3 (node-1 pod, node-2, none)", n)
	}
	rl := ld.ResourceLogs().At(0)
	res := rl.Resource().Attributes().AsRaw()
	if len(res) != 3 || res["service.name"] != "checkout" || res["host.name"] != "node-1" || res["k8s.pod.name"] != "checkout-0" {
		t.Errorf("resource %v", res)
	}
	if rl.ScopeLogs().Len() != 2 {
		t.Fatalf("%d scopes in the first resource, want 2 (pay 1.2 and none)", rl.ScopeLogs().Len())
	}
	sl := rl.ScopeLogs().At(0)
	if sl.Scope().Name() != "pay" || sl.Scope().Version() != "1.2" {
		t.Errorf("scope %s %s", sl.Scope().Name(), sl.Scope().Version())
	}
	lr := sl.LogRecords().At(0)
	switch {
	case lr.Timestamp().AsTime() != at:
		t.Errorf("time %v", lr.Timestamp().AsTime())
	case lr.SeverityText() != "error" || lr.SeverityNumber() != plog.SeverityNumberError:
		t.Errorf("severity %s %v", lr.SeverityText(), lr.SeverityNumber())
	case lr.Body().Str() != "payment failed":
		t.Errorf("body %v", lr.Body().AsRaw())
	case lr.TraceID().String() != "0102030405060708090a0b0c0d0e0f10" || lr.SpanID().String() != "0102030405060708":
		t.Errorf("ids %s %s", lr.TraceID(), lr.SpanID())
	case lr.EventName() != "payment.failed":
		t.Errorf("event name %q", lr.EventName())
	}
	attrs := lr.Attributes().AsRaw()
	want := map[string]any{"http.status": int64(502), "ratio": 0.5, "cached": true}
	if len(attrs) != len(want) {
		t.Errorf("attributes %v, want %v", attrs, want)
	}
	for k, v := range want {
		if attrs[k] != v {
			t.Errorf("attribute %s = %v (%T), want %v (%T)", k, attrs[k], attrs[k], v, v)
		}
	}
	last := ld.ResourceLogs().At(2)
	if last.Resource().Attributes().Len() != 0 {
		t.Errorf("a record without service has resource %v", last.Resource().Attributes().AsRaw())
	}
	lr = last.ScopeLogs().At(0).LogRecords().At(0)
	if lr.SeverityNumber() != plog.SeverityNumberUnspecified || lr.SeverityText() != "bogus" || !lr.TraceID().IsEmpty() {
		t.Errorf("unknown level / bad id: %v %q %s", lr.SeverityNumber(), lr.SeverityText(), lr.TraceID())
	}
	if ld.LogRecordCount() != len(recs) {
		t.Errorf("%d records, want %d", ld.LogRecordCount(), len(recs))
	}
}
