package ingest

import (
	"log/slog"
	"net/http"
	"strconv"

	"github.com/VictoriaMetrics/metrics"
	"github.com/go-chi/chi/v5"
)

// esHandler is the Elasticsearch-compatible surface under /es.
type esHandler struct {
	sink   LogSink
	opts   LogsIngestOptions
	self   logsSelfMetrics
	log    *slog.Logger
	router chi.Router
	newID  func() string // document ids; tests make them predictable
}

// NewElasticsearchHandler serves the part of Elasticsearch's API that log shippers (Filebeat,
// Logstash, Fluentd, Fluent Bit, Vector) use, so they send to Vigil by changing host and path.
// Mount it under a prefix with chi's Mount (r.Mount("/es", h)) or http.StripPrefix; the
// routes below are relative to the prefix:
//
//	GET|HEAD /                 version handshake: {"version":{"number":ESVersion,...},
//	                           "tagline":"You Know, for Search"}
//	POST|PUT /_bulk, /{index}/_bulk   bulk ingest (see serveBulk)
//	GET /_license, /_xpack     a basic, active license (Filebeat and Logstash probe them)
//	HEAD any path              200: index templates, ILM policies, aliases "exist"
//	PUT any other path         {"acknowledged":true}: template and policy set-up succeeds
//	anything else              404 in Elasticsearch's error shape
//
// Every answer carries X-Elastic-Product: Elasticsearch, which the Elastic clients (Logstash,
// the official client libraries) require before they talk to a server.
func NewElasticsearchHandler(sink LogSink, opts LogsIngestOptions, set *metrics.Set, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &esHandler{sink: sink, opts: opts.withDefaults(), self: newLogsSelfMetrics(set, protoESBulk), log: log, newID: newESDocID}
	r := chi.NewRouter()
	r.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Elastic-Product", "Elasticsearch")
			next.ServeHTTP(w, r)
		})
	})
	r.Get("/", h.serveInfo)
	r.Head("/", h.serveInfo)
	r.Post("/_bulk", h.bulk)
	r.Put("/_bulk", h.bulk)
	r.Post("/{index}/_bulk", h.bulk)
	r.Put("/{index}/_bulk", h.bulk)
	r.Get("/_license", h.serveLicense)
	r.Get("/_xpack", h.serveXPack)
	r.Head("/*", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	r.Put("/*", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]bool{"acknowledged": true})
	})
	notFound := func(w http.ResponseWriter, r *http.Request) {
		esError(w, http.StatusNotFound, "resource_not_found_exception", "no such endpoint in Vigil's Elasticsearch-compatible API: "+r.Method+" "+r.URL.Path)
	}
	r.NotFound(notFound)
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet { // a GET under the HEAD/PUT catch-alls: no such resource
			notFound(w, r)
			return
		}
		esError(w, http.StatusMethodNotAllowed, "method_not_allowed", "method "+r.Method+" is not allowed here")
	})
	h.router = r
	return h
}

func (h *esHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.router.ServeHTTP(w, r) }

func (h *esHandler) bulk(w http.ResponseWriter, r *http.Request) {
	code, reason := h.serveBulk(w, r)
	h.self.request(strconv.Itoa(code))
	if reason != "" {
		h.self.rejected(reason)
	}
}

// serveInfo answers the version handshake shippers make before anything else: Filebeat and
// Logstash read version.number (and refuse a major older than theirs), the Elastic clients
// check the X-Elastic-Product header.
func (h *esHandler) serveInfo(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"name":         "vigil",
		"cluster_name": "vigil",
		"cluster_uuid": "vigil-logs-0000000000",
		"version": map[string]any{
			"number":                              h.opts.ESVersion,
			"build_flavor":                        "default",
			"build_type":                          "tar",
			"build_hash":                          "vigil",
			"build_date":                          "2025-01-01T00:00:00.000Z",
			"build_snapshot":                      false,
			"lucene_version":                      "9.12.0",
			"minimum_wire_compatibility_version":  "7.17.0",
			"minimum_index_compatibility_version": "7.0.0",
		},
		"tagline": "You Know, for Search",
	})
}

var esLicense = map[string]any{
	"status": "active", "uid": "vigil", "type": "basic", "mode": "basic",
	"issue_date": "2025-01-01T00:00:00.000Z", "issue_date_in_millis": 1735689600000,
	"max_nodes": 1000, "issued_to": "vigil", "issuer": "elasticsearch", "start_date_in_millis": -1,
}

func (h *esHandler) serveLicense(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"license": esLicense})
}

func (h *esHandler) serveXPack(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"build":   map[string]any{"hash": "vigil", "date": "2025-01-01T00:00:00.000Z"},
		"license": esLicense,
		"features": map[string]any{
			"ilm":      map[string]bool{"available": true, "enabled": true},
			"security": map[string]bool{"available": false, "enabled": false},
		},
	})
}
