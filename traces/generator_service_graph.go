package traces

import (
	"sort"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/metadata"
)

// Service graph series: Tempo metrics-generator's names and labels (client, server,
// connection_type).
const (
	graphRequests      = "traces_service_graph_request_total"
	graphFailed        = "traces_service_graph_request_failed_total"
	graphServerSeconds = "traces_service_graph_request_server_seconds"
	graphClientSeconds = "traces_service_graph_request_client_seconds"
	graphUnpaired      = "traces_service_graph_unpaired_spans_total"
	graphDropped       = "traces_service_graph_dropped_spans_total"
)

type edgeKey struct {
	client, server, connection string
	overflow                   bool
}

type edgeSeries struct {
	requests, failed uint64
	server, client   []uint64 // per bound, the last is +Inf
	serverSum        float64
	clientSum        float64
}

// halfEdge is a client (or producer) span, or a server (or consumer) span, waiting for the
// other side of its call.
type halfEdge struct {
	service   string
	seconds   float64
	failed    bool
	messaging bool
	expires   time.Time
}

type pendingKey struct {
	trace TraceID
	span  SpanID // the client span's id (the server span's parent)
}

// serviceGraph pairs the client and server spans of each call, like Tempo: a CLIENT or
// PRODUCER span and a SERVER or CONSUMER span whose parent it is make one edge
// client -> server.
type serviceGraph struct {
	clients, servers map[pendingKey]halfEdge
	edges            map[edgeKey]*edgeSeries
	unpaired         map[[2]string]uint64 // {"client"|"server", service}
	dropped          map[[2]string]uint64
}

func newServiceGraph() serviceGraph {
	return serviceGraph{
		clients:  map[pendingKey]halfEdge{},
		servers:  map[pendingKey]halfEdge{},
		edges:    map[edgeKey]*edgeSeries{},
		unpaired: map[[2]string]uint64{},
		dropped:  map[[2]string]uint64{},
	}
}

// observe records s; called with g.mu held.
func (sg *serviceGraph) observe(g *Generator, s *Span, now time.Time) {
	h := halfEdge{
		service: s.Service,
		seconds: s.End.Sub(s.Start).Seconds(),
		failed:  s.StatusCode == StatusError,
		expires: now.Add(g.opts.ServiceGraphWait),
	}
	switch s.Kind {
	case SpanKindClient, SpanKindProducer:
		h.messaging = s.Kind == SpanKindProducer
		k := pendingKey{s.TraceID, s.SpanID}
		if srv, ok := sg.servers[k]; ok {
			delete(sg.servers, k)
			sg.complete(g, h, srv)
			return
		}
		sg.wait(g, sg.clients, k, h, "client")
	case SpanKindServer, SpanKindConsumer:
		if s.ParentSpanID.IsZero() {
			return // a root server span has no caller in the trace
		}
		h.messaging = s.Kind == SpanKindConsumer
		k := pendingKey{s.TraceID, s.ParentSpanID}
		if cli, ok := sg.clients[k]; ok {
			delete(sg.clients, k)
			sg.complete(g, cli, h)
			return
		}
		sg.wait(g, sg.servers, k, h, "server")
	}
}

func (sg *serviceGraph) wait(g *Generator, m map[pendingKey]halfEdge, k pendingKey, h halfEdge, side string) {
	if len(sg.clients)+len(sg.servers) >= g.opts.MaxPendingEdges {
		sg.dropped[[2]string{side, h.service}]++
		return
	}
	m[k] = h
}

func (sg *serviceGraph) complete(g *Generator, cli, srv halfEdge) {
	k := edgeKey{client: cli.service, server: srv.service}
	if cli.messaging || srv.messaging {
		k.connection = "messaging_system"
	}
	e, ok := sg.edges[k]
	if !ok {
		if len(sg.edges) >= g.opts.MaxSeries {
			g.overflow.WithLabelValues("service_graph").Inc()
			k = edgeKey{overflow: true}
			e = sg.edges[k]
		}
		if e == nil {
			n := len(g.opts.ServiceGraphBucketsSeconds) + 1
			e = &edgeSeries{server: make([]uint64, n), client: make([]uint64, n)}
			sg.edges[k] = e
		}
	}
	e.requests++
	if cli.failed || srv.failed {
		e.failed++
	}
	bounds := g.opts.ServiceGraphBucketsSeconds
	e.server[sort.SearchFloat64s(bounds, srv.seconds)]++
	e.serverSum += srv.seconds
	e.client[sort.SearchFloat64s(bounds, cli.seconds)]++
	e.clientSum += cli.seconds
}

// expire counts and forgets half-edges that waited too long; called with g.mu held.
func (sg *serviceGraph) expire(_ *Generator, now time.Time) {
	for side, m := range map[string]map[pendingKey]halfEdge{"client": sg.clients, "server": sg.servers} {
		for k, h := range m {
			if now.After(h.expires) {
				sg.unpaired[[2]string{side, h.service}]++
				delete(m, k)
			}
		}
	}
}

// write adds every service-graph series; called with g.mu held.
func (sg *serviceGraph) write(g *Generator, w *seriesWriter) {
	counter := metadata.Metadata{Type: model.MetricTypeCounter, Help: "Service graph (Tempo metrics-generator)."}
	hist := metadata.Metadata{Type: model.MetricTypeHistogram, Unit: "seconds", Help: "Service graph latency (Tempo metrics-generator)."}
	bounds := g.opts.ServiceGraphBucketsSeconds
	for k, e := range sg.edges {
		var base labels.Labels
		if k.overflow {
			base = labels.FromStrings("otel_metric_overflow", "true")
		} else {
			base = labels.FromStrings("client", k.client, "server", k.server, "connection_type", k.connection)
		}
		named := func(name string) labels.Labels {
			b := labels.NewBuilder(base)
			b.Set(labels.MetricName, name)
			return b.Labels()
		}
		w.add(named(graphRequests), float64(e.requests), graphRequests, counter, nil)
		w.add(named(graphFailed), float64(e.failed), graphFailed, counter, nil)
		w.histogram(graphServerSeconds, base, bounds, e.server, e.serverSum, hist, nil, -1)
		w.histogram(graphClientSeconds, base, bounds, e.client, e.clientSum, hist, nil, -1)
	}
	for name, m := range map[string]map[[2]string]uint64{graphUnpaired: sg.unpaired, graphDropped: sg.dropped} {
		for k, n := range m {
			w.add(labels.FromStrings(labels.MetricName, name, k[0], k[1]), float64(n), name, counter, nil)
		}
	}
}
