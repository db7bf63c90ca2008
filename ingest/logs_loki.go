package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/VictoriaMetrics/metrics"
	"github.com/golang/snappy"

	"github.com/vigilhq/vigil/logs"
)

// lokiHandler serves POST /loki/api/v1/push.
type lokiHandler struct {
	sink LogSink
	opts LogsIngestOptions
	self logsSelfMetrics
	log  *slog.Logger
}

// NewLokiPushHandler serves Loki's push API, POST /loki/api/v1/push on the main port, so
// Promtail, Grafana Alloy, Fluent Bit's loki output and Vector can send to Vigil:
// Content-Type application/json ({"streams":[{"stream":{...},"values":[["<ns>","<line>",
// {structured metadata}?]]}]}), anything else snappy-compressed protobuf (PushRequest), as Loki
// decides; Content-Encoding gzip or zstd on top.
//
// Each entry becomes a logs.Record: Time is the entry's timestamp; a line that is a JSON
// object is parsed as a JSON line (its time keys stay fields), any other line is the Message;
// then structured metadata and stream labels are added as fields, the recognised names filling
// what the line left empty (level, trace_id, service or service_name); with no service, the
// job or app label names it (and stays a field). Raw is the JSON rendering of appendRecordJSON.
//
// Success is 204, as in Loki. Entries with a bad timestamp, a malformed JSON entry, stream
// labels that do not parse, or a line over MaxLineBytes are rejected alone and the rest stored;
// then, as Loki does, the answer is 400 (clients do not retry it) with the JSON tally of
// /api/v1/logs as body. Whole-request refusals are those of /api/v1/logs, plus broken snappy
// or protobuf 400.
func NewLokiPushHandler(sink LogSink, opts LogsIngestOptions, set *metrics.Set, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &lokiHandler{sink: sink, opts: opts.withDefaults(), self: newLogsSelfMetrics(set, protoLoki), log: log}
}

func (h *lokiHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	code, reason := h.serve(w, r)
	h.self.request(strconv.Itoa(code))
	if reason != "" {
		h.self.rejected(reason)
	}
}

func (h *lokiHandler) serve(w http.ResponseWriter, r *http.Request) (int, rejectReason) {
	fail := func(code int, reason rejectReason, err error) (int, rejectReason) {
		if code >= 500 {
			h.log.Error("Loki push failed", "err", err)
		} else {
			h.log.Debug("Loki push rejected", "status", code, "err", err)
		}
		writeJSON(w, code, logsIngestResponse{Error: err.Error()})
		return code, reason
	}
	if r.Method != http.MethodPost {
		return fail(http.StatusMethodNotAllowed, reasonBadRequest, errors.New("Loki push takes POST"))
	}
	body, err := readLogsBody(w, r, h.opts.MaxRequestBytes)
	if err != nil {
		code, reason := bodyErrStatus(err)
		return fail(code, reason, err)
	}
	var streams []lokiStream
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/json" {
		streams, err = decodeLokiJSON(body)
		if err != nil {
			return fail(http.StatusBadRequest, reasonBadJSON, err)
		}
	} else {
		size, err := snappy.DecodedLen(body)
		if err != nil {
			return fail(http.StatusBadRequest, reasonBadEncoding, fmt.Errorf("snappy decode: %w", err))
		}
		if int64(size) > h.opts.MaxRequestBytes {
			return fail(http.StatusRequestEntityTooLarge, reasonTooLarge,
				fmt.Errorf("%w: decompressed body of %d bytes, limit is %d", errBodyTooLarge, size, h.opts.MaxRequestBytes))
		}
		plain, err := snappy.Decode(nil, body)
		if err != nil {
			return fail(http.StatusBadRequest, reasonBadEncoding, fmt.Errorf("snappy decode: %w", err))
		}
		streams, err = decodeLokiProto(plain)
		if err != nil {
			return fail(http.StatusBadRequest, reasonBadRequest, fmt.Errorf("decode Loki push protobuf: %w", err))
		}
	}

	tally := newLineTally(h.opts.MaxErrorsReported)
	recs := convertLokiStreams(streams, h.opts, tally)
	tally.accepted = len(recs)
	if len(recs) > 0 {
		if err := h.opts.writeLogs(r.Context(), h.sink, recs); storeBusy(err) {
			w.Header().Set("Retry-After", retryAfterSeconds(storeBusyRetry))
			return fail(http.StatusTooManyRequests, reasonStoreBusy, fmt.Errorf("log store is behind, nothing was stored: retry later: %w", err))
		} else if errors.Is(err, errTooManyLines) {
			return fail(http.StatusRequestEntityTooLarge, reasonTooLarge, err)
		} else if err != nil {
			return fail(http.StatusServiceUnavailable, reasonStorage, fmt.Errorf("store logs: %w", err))
		}
	}
	tally.record(h.self)
	if tally.rejected > 0 {
		writeJSON(w, http.StatusBadRequest, tally.response())
		return http.StatusBadRequest, tally.firstReason
	}
	w.WriteHeader(http.StatusNoContent)
	return http.StatusNoContent, ""
}

// convertLokiStreams turns entries into records; entry indexes count across streams.
func convertLokiStreams(streams []lokiStream, opts LogsIngestOptions, tally *lineTally) []logs.Record {
	n := 0
	for _, s := range streams {
		n += len(s.entries)
	}
	recs := make([]logs.Record, 0, n)
	var b recordBuilder
	var raw []byte
	idx := -1
	for _, s := range streams {
		fallbackService := ""
		for _, name := range []string{"job", "app"} {
			if i := slices.IndexFunc(s.labels, func(p lokiLabel) bool { return p.name == name }); i >= 0 && fallbackService == "" {
				fallbackService = s.labels[i].value
			}
		}
		for _, e := range s.entries {
			idx++
			switch {
			case s.labelsErr != nil:
				tally.reject(idx, reasonBadLabels, s.labelsErr)
				continue
			case e.err != nil:
				tally.reject(idx, e.reason, e.err)
				continue
			case len(e.line) > opts.MaxLineBytes:
				tally.reject(idx, reasonTooLarge, fmt.Errorf("line of %d bytes is over the limit of %d bytes", len(e.line), opts.MaxLineBytes))
				continue
			}
			b.reset(true)
			if t := bytes.TrimSpace(e.line); len(t) > 0 && t[0] == '{' {
				if _, err := parseJSONObject(t, &b); err != nil {
					b.reset(true)
					b.rec.Message = string(e.line)
				}
			} else {
				b.rec.Message = string(e.line)
			}
			for _, p := range e.meta {
				b.add(p.name, p.value, logs.KindString)
			}
			for _, p := range s.labels {
				b.add(p.name, p.value, logs.KindString)
			}
			if b.rec.Service == "" {
				b.rec.Service = fallbackService
			}
			rec := b.finish(e.ts, nil)
			raw = appendRecordJSON(raw[:0], &rec)
			rec.Raw = append([]byte(nil), raw...)
			recs = append(recs, rec)
		}
	}
	return recs
}

func sortLabelPairs(ps []lokiLabel) {
	slices.SortFunc(ps, func(a, b lokiLabel) int { return strings.Compare(a.name, b.name) })
}
