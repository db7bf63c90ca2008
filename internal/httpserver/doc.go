// Package httpserver runs Vigil's HTTP listeners (the main port and OTLP/HTTP): it binds,
// serves, shuts down gracefully, and counts every request by route pattern and status in
// vigil_http_requests_total / vigil_http_request_duration_seconds; over TLS when given a
// tls.Config (whose certificates the caller may swap, see internal/tlsreload).
//
// It owns no routes: the caller hands it a handler (a chi router). Labels use the chi route
// pattern, never the raw path, so a scan of random URLs cannot blow up the metrics' cardinality.
package httpserver
