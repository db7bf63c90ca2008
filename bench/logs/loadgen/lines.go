package main

import (
	"math/rand/v2"
	"strconv"
	"time"
)

// The generated lines look like a small shop's services logging JSON: ten fields
// (ts, level, service, host, trace_id, span_id, msg, status, duration_ms, user_id), about
// 300 bytes each. Line i depends only on the seed and i, so every target gets the same lines
// whatever the batching and concurrency.

var services = []string{"checkout", "payment", "inventory", "frontend", "auth", "shipping"}

// hosts are three pods per service.
var hosts = func() [][]string {
	out := make([][]string, len(services))
	r := rand.New(rand.NewPCG(7, 7))
	const alnum = "abcdefghijklmnopqrstuvwxyz0123456789"
	for i, s := range services {
		rs := strconv.FormatUint(r.Uint64()%0xfffffffff, 16)
		for range 3 {
			b := []byte(s + "-" + rs[:min(len(rs), 9)] + "-")
			for range 5 {
				b = append(b, alnum[r.IntN(len(alnum))])
			}
			out[i] = append(out[i], string(b))
		}
	}
	return out
}()

// A message template is literal parts with a random number between each.
type template struct {
	parts []string
	max   []int // upper bound (exclusive) of the number after parts[i]
}

func t(parts []string, max ...int) template { return template{parts, max} }

// Level frequencies: info 80%, debug 8%, warn 8%, error 4%. "timeout" is in about 3% of the
// lines, "connection refused" in about 2%, level:error with one service in about 0.7%.
var levels = []struct {
	name      string
	weight    int
	templates []template
}{
	{"info", 80, []template{
		t([]string{"GET /api/v1/orders/", " 200 in ", "ms"}, 9000000, 300),
		t([]string{"order ", " placed: ", " items, total ", ".", " EUR"}, 9000000, 12, 900, 100),
		t([]string{"user u-", " logged in from 10.", ".", ".", ""}, 999999, 255, 255, 255),
		t([]string{"payment authorized for order ", " via card ending ", ""}, 9000000, 10000),
		t([]string{"shipment ", " handed to carrier dhl, eta ", " days"}, 9000000, 7),
		t([]string{"published event order.created to kafka topic orders partition ", " offset ", ""}, 12, 90000000),
		t([]string{"POST /api/v1/cart/items 201 in ", "ms (", " items in cart)"}, 200, 20),
		t([]string{"health check ok: db=up cache=up queue_depth=", ""}, 50),
	}},
	{"debug", 8, []template{
		t([]string{"cache miss for key user:", ", loading from postgres"}, 999999),
		t([]string{"sql: SELECT id, status FROM orders WHERE customer_id = $1 LIMIT 50 (", "ms, ", " rows)"}, 40, 50),
		t([]string{"feature flag new-checkout-flow evaluated to true for tenant t-", ""}, 500),
	}},
	{"warn", 8, []template{
		t([]string{"slow request: POST /api/v1/checkout took ", "ms (threshold 500ms)"}, 5000),
		t([]string{"retrying call to inventory-service:9090 (attempt ", "/3): deadline exceeded"}, 3),
		t([]string{"upstream timeout after ", "ms calling payment-service:8080"}, 5000),
		t([]string{"connection pool nearly exhausted: ", "/50 in use"}, 50),
	}},
	{"error", 4, []template{
		t([]string{"payment failed: connection refused (payment-service:8080), order ", ""}, 9000000),
		t([]string{"failed to reserve stock for sku-", ": timeout waiting for lock"}, 99999),
		t([]string{"request failed: dial tcp 10.0.", ".", ":5432: connect: connection refused"}, 255, 255),
		t([]string{"unhandled exception in handler /api/v1/cart: nil pointer dereference (goroutine ", ")"}, 90000),
	}},
}

var levelByPercent = func() []int {
	var out []int
	for i, l := range levels {
		for range l.weight {
			out = append(out, i)
		}
	}
	return out
}()

var statusByLevel = map[string][]int{
	"info": {200, 200, 200, 201, 204}, "debug": {200}, "warn": {200, 429, 499}, "error": {500, 502, 503, 504},
}

const hexDigits = "0123456789abcdef"

func appendHex(b []byte, r *rand.Rand, n int) []byte {
	for n > 0 {
		v := r.Uint64()
		for i := 0; i < 16 && n > 0; i, n = i+1, n-1 {
			b = append(b, hexDigits[v&15])
			v >>= 4
		}
	}
	return b
}

// appendLine appends line i (without the newline) for a run of n lines spread evenly over
// [start, start+window).
func appendLine(b []byte, seed uint64, i, n int64, start time.Time, window time.Duration) []byte {
	r := rand.New(rand.NewPCG(seed, uint64(i)))
	ts := start.Add(time.Duration(float64(window) * float64(i) / float64(n)))
	svc := r.IntN(len(services))
	lv := levels[levelByPercent[r.IntN(len(levelByPercent))]]
	tpl := lv.templates[r.IntN(len(lv.templates))]

	b = append(b, `{"ts":"`...)
	b = ts.UTC().AppendFormat(b, "2006-01-02T15:04:05.000000Z")
	b = append(b, `","level":"`...)
	b = append(b, lv.name...)
	b = append(b, `","service":"`...)
	b = append(b, services[svc]...)
	b = append(b, `","host":"`...)
	b = append(b, hosts[svc][r.IntN(3)]...)
	b = append(b, `","trace_id":"`...)
	b = appendHex(b, r, 32)
	b = append(b, `","span_id":"`...)
	b = appendHex(b, r, 16)
	b = append(b, `","msg":"`...)
	for k, p := range tpl.parts {
		b = append(b, p...)
		if k < len(tpl.max) {
			b = strconv.AppendInt(b, int64(r.IntN(tpl.max[k])), 10)
		}
	}
	st := statusByLevel[lv.name]
	b = append(b, `","status":`...)
	b = strconv.AppendInt(b, int64(st[r.IntN(len(st))]), 10)
	b = append(b, `,"duration_ms":`...)
	b = strconv.AppendFloat(b, float64(r.IntN(250000))/100, 'f', 2, 64)
	b = append(b, `,"user_id":"u-`...)
	b = strconv.AppendInt(b, int64(r.IntN(1000000)), 10)
	b = append(b, `"}`...)
	return b
}
