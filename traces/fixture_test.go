package traces

import (
	"context"
	"testing"
	"time"
)

// base is the fixed start of every fixture (deterministic golden files).
var base = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func tid(b byte) TraceID { return TraceID{0x0a, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, b} }
func sid(b byte) SpanID  { return SpanID{0x0b, 0, 0, 0, 0, 0, 0, b} }

func openTestDB(t testing.TB, dir string, opts Options) *DB {
	t.Helper()
	db, err := Open(dir, opts, nil, nil)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return db
}

// fixtureTrace is a checkout trace across three services:
//
//	frontend GET /checkout (server, 0-100ms)
//	  frontend POST /pay (client, 10-60ms) -> payment POST /pay (server, 12-58ms, error)
//	      payment SELECT (client, 20-30ms, db.system=postgres)
//	  frontend GET /cart (client, 65-90ms)  -> cart GET /cart (server, 66-89ms)
func fixtureTrace(id byte, at time.Time) []Span {
	ms := func(n int) time.Time { return at.Add(time.Duration(n) * time.Millisecond) }
	res := func(svc string) []Attribute {
		return []Attribute{{Key: "host.name", Value: StringValue(svc + "-1")}}
	}
	return []Span{
		{TraceID: tid(id), SpanID: sid(1), Service: "frontend", Name: "GET /checkout", Kind: SpanKindServer,
			Start: ms(0), End: ms(100), Flags: 1, Resource: res("frontend"), Scope: Scope{Name: "net/http", Version: "1.0"},
			Attributes: []Attribute{{Key: "http.method", Value: StringValue("GET")}, {Key: "http.status_code", Value: IntValue(200)}},
			Events:     []Event{{Time: ms(5), Name: "cart loaded", Attributes: []Attribute{{Key: "items", Value: IntValue(3)}}}}},
		{TraceID: tid(id), SpanID: sid(2), ParentSpanID: sid(1), Service: "frontend", Name: "POST /pay", Kind: SpanKindClient,
			Start: ms(10), End: ms(60), Resource: res("frontend"), StatusCode: StatusError,
			Attributes: []Attribute{{Key: "peer.service", Value: StringValue("payment")}}},
		{TraceID: tid(id), SpanID: sid(3), ParentSpanID: sid(2), Service: "payment", Name: "POST /pay", Kind: SpanKindServer,
			Start: ms(12), End: ms(58), Resource: res("payment"), StatusCode: StatusError, StatusMessage: "card declined",
			Attributes: []Attribute{{Key: "amount", Value: FloatValue(12.5)}, {Key: "retry", Value: BoolValue(false)}}},
		{TraceID: tid(id), SpanID: sid(4), ParentSpanID: sid(3), Service: "payment", Name: "SELECT", Kind: SpanKindClient,
			Start: ms(20), End: ms(30), Resource: res("payment"),
			Attributes: []Attribute{{Key: "db.system", Value: StringValue("postgres")}},
			Links:      []Link{{TraceID: tid(99), SpanID: sid(9)}}},
		{TraceID: tid(id), SpanID: sid(5), ParentSpanID: sid(1), Service: "frontend", Name: "GET /cart", Kind: SpanKindClient,
			Start: ms(65), End: ms(90), Resource: res("frontend"), StatusCode: StatusOK},
		{TraceID: tid(id), SpanID: sid(6), ParentSpanID: sid(5), Service: "cart", Name: "GET /cart", Kind: SpanKindServer,
			Start: ms(66), End: ms(89), Resource: res("cart")},
	}
}

func mustWrite(t testing.TB, db *DB, spans []Span) {
	t.Helper()
	if err := db.WriteSpans(context.Background(), spans); err != nil {
		t.Fatalf("write spans: %v", err)
	}
}
