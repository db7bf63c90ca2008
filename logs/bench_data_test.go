package logs

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// realisticRecords builds n records shaped like bench/logs/loadgen's lines, as package ingest
// turns them into records (ts, level, service, trace_id, span_id and msg recognised; host,
// status, duration_ms and user_id kept as fields), spread evenly over window from start.
// Line i depends only on i. The distributions follow loadgen: "timeout" in about 3% of the
// lines, "connection refused" in about 2%, level:error with one service about 0.7%.
func realisticRecords(n int, start time.Time, window time.Duration) []Record {
	recs := make([]Record, n)
	for i := range recs {
		recs[i] = realisticRecord(int64(i), int64(n), start, window)
	}
	return recs
}

var benchServices = []string{"checkout", "payment", "inventory", "frontend", "auth", "shipping"}

type benchTemplate struct {
	parts []string
	max   []int
}

var benchLevels = []struct {
	name      string
	weight    int
	templates []benchTemplate
	status    []int
}{
	{"info", 80, []benchTemplate{
		{[]string{"GET /api/v1/orders/", " 200 in ", "ms"}, []int{9000000, 300}},
		{[]string{"order ", " placed: ", " items, total ", ".", " EUR"}, []int{9000000, 12, 900, 100}},
		{[]string{"user u-", " logged in from 10.", ".", ".", ""}, []int{999999, 255, 255, 255}},
		{[]string{"payment authorized for order ", " via card ending ", ""}, []int{9000000, 10000}},
		{[]string{"shipment ", " handed to carrier dhl, eta ", " days"}, []int{9000000, 7}},
		{[]string{"published event order.created to kafka topic orders partition ", " offset ", ""}, []int{12, 90000000}},
		{[]string{"POST /api/v1/cart/items 201 in ", "ms (", " items in cart)"}, []int{200, 20}},
		{[]string{"health check ok: db=up cache=up queue_depth=", ""}, []int{50}},
	}, []int{200, 200, 200, 201, 204}},
	{"debug", 8, []benchTemplate{
		{[]string{"cache miss for key user:", ", loading from postgres"}, []int{999999}},
		{[]string{"sql: SELECT id, status FROM orders WHERE customer_id = $1 LIMIT 50 (", "ms, ", " rows)"}, []int{40, 50}},
		{[]string{"feature flag new-checkout-flow evaluated to true for tenant t-", ""}, []int{500}},
	}, []int{200}},
	{"warn", 8, []benchTemplate{
		{[]string{"slow request: POST /api/v1/checkout took ", "ms (threshold 500ms)"}, []int{5000}},
		{[]string{"retrying call to inventory-service:9090 (attempt ", "/3): deadline exceeded"}, []int{3}},
		{[]string{"upstream timeout after ", "ms calling payment-service:8080"}, []int{5000}},
		{[]string{"connection pool nearly exhausted: ", "/50 in use"}, []int{50}},
	}, []int{200, 429, 499}},
	{"error", 4, []benchTemplate{
		{[]string{"payment failed: connection refused (payment-service:8080), order ", ""}, []int{9000000}},
		{[]string{"failed to reserve stock for sku-", ": timeout waiting for lock"}, []int{99999}},
		{[]string{"request failed: dial tcp 10.0.", ".", ":5432: connect: connection refused"}, []int{255, 255}},
		{[]string{"unhandled exception in handler /api/v1/cart: nil pointer dereference (goroutine ", ")"}, []int{90000}},
	}, []int{500, 502, 503, 504}},
}

var benchLevelByPercent = func() []int {
	var out []int
	for i, l := range benchLevels {
		for range l.weight {
			out = append(out, i)
		}
	}
	return out
}()

func benchHex(r *rand.Rand, n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 0, n)
	for n > 0 {
		v := r.Uint64()
		for i := 0; i < 16 && n > 0; i, n = i+1, n-1 {
			b = append(b, digits[v&15])
			v >>= 4
		}
	}
	return string(b)
}

func realisticRecord(i, n int64, start time.Time, window time.Duration) Record {
	r := rand.New(rand.NewPCG(1, uint64(i)))
	ts := start.Add(time.Duration(float64(window) * float64(i) / float64(n)))
	svc := benchServices[r.IntN(len(benchServices))]
	lv := benchLevels[benchLevelByPercent[r.IntN(len(benchLevelByPercent))]]
	tpl := lv.templates[r.IntN(len(lv.templates))]
	host := svc + "-5f7c9d8b4-" + strconv.Itoa(r.IntN(3))
	trace, span := benchHex(r, 32), benchHex(r, 16)
	var msg []byte
	for k, p := range tpl.parts {
		msg = append(msg, p...)
		if k < len(tpl.max) {
			msg = strconv.AppendInt(msg, int64(r.IntN(tpl.max[k])), 10)
		}
	}
	status := strconv.Itoa(lv.status[r.IntN(len(lv.status))])
	dur := strconv.FormatFloat(float64(r.IntN(250000))/100, 'f', 2, 64)
	user := "u-" + strconv.Itoa(r.IntN(1000000))
	raw := `{"ts":"` + ts.UTC().Format("2006-01-02T15:04:05.000000Z") + `","level":"` + lv.name + `","service":"` + svc +
		`","host":"` + host + `","trace_id":"` + trace + `","span_id":"` + span + `","msg":"` + string(msg) +
		`","status":` + status + `,"duration_ms":` + dur + `,"user_id":"` + user + `"}`
	return Record{
		Time: ts.Truncate(time.Microsecond), Service: svc, Level: lv.name, Message: string(msg), TraceID: trace, SpanID: span,
		Fields: []Field{{"host", host, KindString}, {"status", status, KindNumber}, {"duration_ms", dur, KindNumber}, {"user_id", user, KindString}},
		Raw:    []byte(raw),
	}
}
func benchRecords(n int, base time.Time) []Record {
	services := []string{"checkout", "payments", "gateway", "search"}
	levels := []string{"info", "info", "info", "warn", "error", "debug"}
	recs := make([]Record, n)
	for i := range recs {
		ts := base.Add(time.Duration(i) * time.Millisecond)
		svc, lvl := services[i%len(services)], levels[i%len(levels)]
		msg := fmt.Sprintf("request %d to payment-service:8080 finished with status %d after %dms", i, 200+i%5*100, i%997)
		trace := fmt.Sprintf("%032x", i*7919)
		recs[i] = Record{
			Time: ts, Service: svc, Level: lvl, Message: msg, TraceID: trace,
			Fields: []Field{{"status", strconv.Itoa(200 + i%5*100), KindNumber}, {"user", "u" + strconv.Itoa(i%1000), KindString}},
			Raw: []byte(fmt.Sprintf(`{"ts":%q,"service":%q,"level":%q,"msg":%q,"trace_id":%q,"status":%d,"user":"u%d"}`,
				ts.Format(time.RFC3339Nano), svc, lvl, msg, trace, 200+i%5*100, i%1000)),
		}
	}
	return recs
}
