package main

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// The generated traces look like a shop's request paths: a root span in frontend, 5–30
// spans over 3–6 services, each span with about 10 attributes (HTTP, network, code, user,
// request id), one resource per service per batch with the usual SDK and k8s attributes.
//
// Building pdata for every request would cost more CPU than the target gets, so each sender
// pre-builds a few batch templates of exactly -batch spans and, before each send, rewrites
// only what must differ: the first 8 bytes of every trace id (a bijective hash of the batch's
// sequence number, so no two sends share a trace and ids stay random-looking, as stores see
// them in production) and the span times (the batch's place in the window).

var services = []string{"frontend", "checkout", "payment", "inventory", "shipping", "auth",
	"catalog", "recommendation", "email", "currency"}

var routes = map[string][]string{
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

// The search the driver times: a checkout server span on /api/checkout, at least minDur.
const (
	searchService = "checkout"
	searchTagKey  = "http.route"
	searchTagVal  = "/api/checkout"
)

// template is one pre-built batch and where its trace ids and times live.
type template struct {
	td     ptrace.Traces
	spans  []ptrace.Span
	starts []int64 // span start, ns after the batch's base time
	durs   []int64
	// spanTrace is the index in traces of each span's trace.
	spanTrace []int
	traces    []traceInfo
}

// traceInfo is one trace of a template: its random id half and its span count.
type traceInfo struct {
	idTail [8]byte
	spans  int
}

// newTemplate builds a batch of exactly n spans of whole traces.
func newTemplate(r *rand.Rand, n int) *template {
	tp := &template{td: ptrace.NewTraces()}
	resources := map[string]ptrace.SpanSlice{}
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
		tp.addTrace(r, size, resources)
	}
	return tp
}

func (tp *template) addTrace(r *rand.Rand, n int, resources map[string]ptrace.SpanSlice) {
	var ti traceInfo
	binary.BigEndian.PutUint64(ti.idTail[:], r.Uint64())
	ti.spans = n
	tp.traces = append(tp.traces, ti)
	traceIdx := len(tp.traces) - 1

	// Services: frontend first, then 2–5 others; checkout in about half the traces.
	k := 3 + r.IntN(4)
	svcs := []string{"frontend"}
	for _, i := range r.Perm(len(services) - 1)[:k-1] {
		svcs = append(svcs, services[i+1])
	}
	traceStart := int64(r.IntN(int(time.Second)))
	type node struct {
		svc        string
		id         [8]byte
		start, dur int64
	}
	nodes := make([]node, 0, n)
	for j := range n {
		var nd node
		binary.BigEndian.PutUint64(nd.id[:], r.Uint64()|1)
		parent := -1
		kind := ptrace.SpanKindServer
		if j == 0 {
			nd.svc = "frontend"
			// Root durations from 2 ms to about 2 s, most of them short.
			nd.dur = int64(2*time.Millisecond) + int64(r.ExpFloat64()*float64(150*time.Millisecond))
			nd.start = traceStart
		} else {
			parent = r.IntN(j)
			p := nodes[parent]
			nd.svc = svcs[min(j*len(svcs)/n+r.IntN(2), len(svcs)-1)]
			if nd.svc == p.svc {
				kind = []ptrace.SpanKind{ptrace.SpanKindInternal, ptrace.SpanKindClient}[r.IntN(2)]
			}
			nd.start = p.start + r.Int64N(p.dur/4+1)
			nd.dur = max(p.dur/2+r.Int64N(p.dur/2+1)-(nd.start-p.start), 50_000)
		}
		nodes = append(nodes, nd)

		ss, ok := resources[nd.svc]
		if !ok {
			rs := tp.td.ResourceSpans().AppendEmpty()
			setResource(r, rs.Resource().Attributes(), nd.svc)
			sc := rs.ScopeSpans().AppendEmpty()
			sc.Scope().SetName("io.opentelemetry.contrib.http")
			sc.Scope().SetVersion("0.52.0")
			ss = sc.Spans()
			resources[nd.svc] = ss
		}
		s := ss.AppendEmpty()
		s.SetSpanID(pcommon.SpanID(nd.id))
		if parent >= 0 {
			s.SetParentSpanID(pcommon.SpanID(nodes[parent].id))
		}
		s.SetKind(kind)
		route := routes[nd.svc][r.IntN(len(routes[nd.svc]))]
		if nd.svc == searchService && kind == ptrace.SpanKindServer {
			route = searchTagVal
		}
		method := []string{"GET", "GET", "GET", "POST"}[r.IntN(4)]
		switch kind {
		case ptrace.SpanKindInternal:
			s.SetName("process " + route)
		default:
			s.SetName(method + " " + route)
		}
		status := 200
		if r.IntN(50) == 0 {
			status = 500
			s.Status().SetCode(ptrace.StatusCodeError)
			s.Status().SetMessage("upstream returned 500")
		}
		a := s.Attributes()
		a.EnsureCapacity(10)
		a.PutStr("http.request.method", method)
		a.PutStr("http.route", route)
		a.PutInt("http.response.status_code", int64(status))
		a.PutStr("url.scheme", "http")
		a.PutStr("server.address", nd.svc+".shop.svc.cluster.local")
		a.PutInt("server.port", 8080)
		a.PutStr("network.peer.address", fmt.Sprintf("10.%d.%d.%d", r.IntN(4), r.IntN(256), r.IntN(256)))
		a.PutStr("user.id", fmt.Sprintf("u-%06d", r.IntN(1000000)))
		a.PutStr("code.function", "handle"+route[1:min(len(route), 8)])
		a.PutStr("app.request_id", fmt.Sprintf("%016x", r.Uint64()))

		tp.spans = append(tp.spans, s)
		tp.starts = append(tp.starts, nd.start)
		tp.durs = append(tp.durs, nd.dur)
	}
	tp.spanTrace = append(tp.spanTrace, repeat(traceIdx, n)...)
}

func repeat(v, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func setResource(r *rand.Rand, a pcommon.Map, svc string) {
	a.PutStr("service.name", svc)
	a.PutStr("service.version", fmt.Sprintf("1.%d.%d", r.IntN(20), r.IntN(10)))
	a.PutStr("service.namespace", "shop")
	a.PutStr("deployment.environment.name", "production")
	a.PutStr("host.name", fmt.Sprintf("%s-%x-%05d", svc, r.Uint32()&0xffffff, r.IntN(100000)))
	a.PutStr("k8s.namespace.name", "shop")
	a.PutStr("k8s.pod.name", fmt.Sprintf("%s-%x", svc, r.Uint32()))
	a.PutStr("telemetry.sdk.language", "go")
	a.PutStr("telemetry.sdk.name", "opentelemetry")
	a.PutStr("telemetry.sdk.version", "1.38.0")
}

// stamp rewrites the template for batch seq: trace ids and times.
func (tp *template) stamp(seq uint64, base int64) {
	for i, s := range tp.spans {
		s.SetTraceID(tp.traceID(seq, tp.spanTrace[i]))
		st := base + tp.starts[i]
		s.SetStartTimestamp(pcommon.Timestamp(st))
		s.SetEndTimestamp(pcommon.Timestamp(st + tp.durs[i]))
	}
}

func (tp *template) traceID(seq uint64, trace int) pcommon.TraceID {
	var id [16]byte
	binary.BigEndian.PutUint64(id[:8], splitmix64(seq))
	copy(id[8:], tp.traces[trace].idTail[:])
	return id
}

// splitmix64 is a bijection on uint64 that looks random.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
