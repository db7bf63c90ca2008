// Package traces is Vigil's span store: durable under <data-dir>/traces, with every span of a
// trace in one range read, search by time window, service, span name, duration, status and
// attributes, the service and operation lists, retention by whole time ranges, and the span
// metrics (RED) and service-graph edges it derives from every span for the metrics store.
//
// It owns its value types (traces.Span) and its directory. It must not know OTLP or Zipkin wire
// formats (the ingest package decodes them), HTTP routing, or how the metrics store keeps the
// span metrics it hands over through an interface declared here.
package traces
