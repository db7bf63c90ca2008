package traces

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"time"
)

// realisticBatches generates the load of bench/traces' loadgen directly as Spans: traces of
// 5-30 spans over 3-6 of 10 services (a frontend root, checkout in about half), 10
// attributes per span, one resource of 9 attributes (plus service.name) per service and
// batch, 2% errors, batches of exactly n spans of whole traces spread over one hour. It
// measures the store's own costs (bytes on disk, allocations, CPU per span) without gRPC.
type realisticGen struct {
	r    *rand.Rand
	at   time.Time
	step time.Duration
	seq  uint64
}

var realisticServices = []string{"frontend", "checkout", "payment", "inventory", "shipping", "auth",
	"catalog", "recommendation", "email", "currency"}

var realisticRoutes = map[string][]string{
	"frontend":       {"/", "/product/{id}", "/cart", "/checkout"},
	"checkout":       {"/api/checkout", "/api/checkout/quote"},
	"payment":        {"/api/charge", "/api/refund"},
	"inventory":      {"/api/stock/{sku}", "/api/reserve"},
	"shipping":       {"/api/shipping/quote", "/api/shipments"},
	"auth":           {"/api/session", "/api/token"},
	"catalog":        {"/api/products", "/api/products/{id}"},
	"recommendation": {"/api/recommendations"},
	"email":          {"/api/send"},
	"currency":       {"/api/convert", "/api/currencies"},
}

// newRealisticGen spreads totalSpans over one hour starting at base.
func newRealisticGen(seed uint64, totalSpans int) *realisticGen {
	return &realisticGen{
		r:    rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		at:   base,
		step: time.Hour / time.Duration(max(totalSpans/512, 1)),
	}
}

func (g *realisticGen) resource(svc string) []Attribute {
	r := g.r
	return []Attribute{
		{Key: "service.version", Value: StringValue(fmt.Sprintf("1.%d.%d", r.IntN(20), r.IntN(10)))},
		{Key: "service.namespace", Value: StringValue("shop")},
		{Key: "deployment.environment.name", Value: StringValue("production")},
		{Key: "host.name", Value: StringValue(fmt.Sprintf("%s-%x-%05d", svc, r.Uint32()&0xffffff, r.IntN(100000)))},
		{Key: "k8s.namespace.name", Value: StringValue("shop")},
		{Key: "k8s.pod.name", Value: StringValue(fmt.Sprintf("%s-%x", svc, r.Uint32()))},
		{Key: "telemetry.sdk.language", Value: StringValue("go")},
		{Key: "telemetry.sdk.name", Value: StringValue("opentelemetry")},
		{Key: "telemetry.sdk.version", Value: StringValue("1.38.0")},
	}
}

// batch returns the next n spans.
func (g *realisticGen) batch(n int) []Span {
	r := g.r
	out := make([]Span, 0, n)
	resources := map[string][]Attribute{}
	batchStart := g.at
	g.at = g.at.Add(g.step)
	left := n
	for left > 0 {
		size := 5 + r.IntN(26)
		switch {
		case left <= 30:
			size = left
		case left-size < 5:
			size = left / 2
		}
		left -= size
		g.seq++
		var tr TraceID
		binary.BigEndian.PutUint64(tr[:8], g.seq*0x9e3779b97f4a7c15)
		binary.BigEndian.PutUint64(tr[8:], r.Uint64())
		k := 3 + r.IntN(4)
		svcs := []string{"frontend"}
		for _, i := range r.Perm(len(realisticServices) - 1)[:k-1] {
			svcs = append(svcs, realisticServices[i+1])
		}
		traceStart := batchStart.Add(time.Duration(r.IntN(int(time.Second))))
		first := len(out)
		for j := range size {
			s := Span{TraceID: tr, Kind: SpanKindServer, Scope: Scope{Name: "io.opentelemetry.contrib.http", Version: "0.52.0"}}
			binary.BigEndian.PutUint64(s.SpanID[:], r.Uint64()|1)
			var dur time.Duration
			if j == 0 {
				s.Service = "frontend"
				dur = 2*time.Millisecond + time.Duration(r.ExpFloat64()*float64(150*time.Millisecond))
				s.Start = traceStart
			} else {
				p := &out[first+r.IntN(j)]
				s.ParentSpanID = p.SpanID
				s.Service = svcs[min(j*len(svcs)/size+r.IntN(2), len(svcs)-1)]
				if s.Service == p.Service {
					s.Kind = []SpanKind{SpanKindInternal, SpanKindClient}[r.IntN(2)]
				}
				pd := p.End.Sub(p.Start)
				s.Start = p.Start.Add(time.Duration(r.Int64N(int64(pd/4) + 1)))
				dur = max(pd/2+time.Duration(r.Int64N(int64(pd/2)+1))-s.Start.Sub(p.Start), 50*time.Microsecond)
			}
			s.End = s.Start.Add(dur)
			res, ok := resources[s.Service]
			if !ok {
				res = g.resource(s.Service)
				resources[s.Service] = res
			}
			s.Resource = res
			routes := realisticRoutes[s.Service]
			route := routes[r.IntN(len(routes))]
			if s.Service == "checkout" && s.Kind == SpanKindServer {
				route = "/api/checkout"
			}
			method := []string{"GET", "GET", "GET", "POST"}[r.IntN(4)]
			if s.Kind == SpanKindInternal {
				s.Name = "process " + route
			} else {
				s.Name = method + " " + route
			}
			status := int64(200)
			if r.IntN(50) == 0 {
				status = 500
				s.StatusCode, s.StatusMessage = StatusError, "upstream returned 500"
			}
			s.Attributes = []Attribute{
				{Key: "http.request.method", Value: StringValue(method)},
				{Key: "http.route", Value: StringValue(route)},
				{Key: "http.response.status_code", Value: IntValue(status)},
				{Key: "url.scheme", Value: StringValue("http")},
				{Key: "server.address", Value: StringValue(s.Service + ".shop.svc.cluster.local")},
				{Key: "server.port", Value: IntValue(8080)},
				{Key: "network.peer.address", Value: StringValue(fmt.Sprintf("10.%d.%d.%d", r.IntN(4), r.IntN(256), r.IntN(256)))},
				{Key: "user.id", Value: StringValue(fmt.Sprintf("u-%06d", r.IntN(1000000)))},
				{Key: "code.function", Value: StringValue("handle" + route[1:min(len(route), 8)])},
				{Key: "app.request_id", Value: StringValue(fmt.Sprintf("%016x", r.Uint64()))},
			}
			out = append(out, s)
		}
	}
	return out
}
