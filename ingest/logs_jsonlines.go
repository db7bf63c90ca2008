package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/vigilhq/vigil/logs"
)

// jsonLinesHandler serves POST /api/v1/logs.
type jsonLinesHandler struct {
	sink LogSink
	opts LogsIngestOptions
	self logsSelfMetrics
	log  *slog.Logger
}

// NewJSONLinesHandler serves POST /api/v1/logs on the main port: JSON lines (one object per
// line) or one JSON array of objects, optionally Content-Encoding gzip or zstd.
//
// Each object becomes a logs.Record: time from timestamp, time, ts or @timestamp (RFC 3339, or
// epoch s/ms/µs/ns by magnitude; missing: the receive time), level from level, severity or lvl
// (lower-cased; warning→warn, pino's 30→info ...), message from message or msg, and service,
// trace_id, span_id (also the ECS names log.level, service.name, trace.id, span.id); every
// other field is kept, nested objects flattened with dots. Raw is the line's bytes without
// surrounding white space (for an array, the element's bytes).
//
// Query parameters set defaults for lines that lack them: service=<name>, and
// _field.<name>=<value> for any field (_field.env=prod; recognised names too, e.g.
// _field.level=info). Other parameters are ignored.
//
// A line that is not a JSON object, longer than MaxLineBytes or with an unparseable time is
// rejected alone; the answer is 200 with {"accepted":N,"rejected":M,"errors":[{"line":i,
// "reason":...,"error":...}]} (the first MaxErrorsReported errors, i 0-based), or 400 with the
// same body if no line was accepted. Whole-request refusals: body over MaxRequestBytes (as sent
// or decompressed) 413, broken gzip/zstd or a malformed JSON array 400, another
// Content-Encoding 415, a sink failure 503 (retry). Blank lines are skipped.
func NewJSONLinesHandler(sink LogSink, opts LogsIngestOptions, set *metrics.Set, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &jsonLinesHandler{sink: sink, opts: opts.withDefaults(), self: newLogsSelfMetrics(set, protoJSONLines), log: log}
}

func (h *jsonLinesHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	code, reason := h.serve(w, r)
	h.self.request(strconv.Itoa(code))
	if reason != "" {
		h.self.rejected(reason)
	}
}

func (h *jsonLinesHandler) serve(w http.ResponseWriter, r *http.Request) (int, rejectReason) {
	fail := func(code int, reason rejectReason, err error) (int, rejectReason) {
		if code >= 500 {
			h.log.Error("JSON-lines log request failed", "err", err)
		} else {
			h.log.Debug("JSON-lines log request rejected", "status", code, "err", err)
		}
		writeJSON(w, code, logsIngestResponse{Error: err.Error()})
		return code, reason
	}
	if r.Method != http.MethodPost {
		return fail(http.StatusMethodNotAllowed, reasonBadRequest, errors.New("logs take POST"))
	}
	defaults, err := parseLogDefaults(r.URL.Query())
	if err != nil {
		return fail(http.StatusBadRequest, reasonBadRequest, err)
	}
	body, err := readLogsBody(w, r, h.opts.MaxRequestBytes)
	if err != nil {
		code, reason := bodyErrStatus(err)
		return fail(code, reason, err)
	}
	p := jsonLinesParser{opts: h.opts, defaults: defaults, now: h.opts.now(), tally: newLineTally(h.opts.MaxErrorsReported)}
	if err := p.parse(body); err != nil {
		return fail(http.StatusBadRequest, reasonBadJSON, err)
	}
	return storeLogBatch(w, r, h.opts, h.sink, p.recs, p.tally, h.self, h.log)
}

// storeLogBatch hands the accepted records to the sink and answers with the tally: 200, 400
// if lines were sent and none was accepted, 503 if the sink failed.
func storeLogBatch(w http.ResponseWriter, r *http.Request, opts LogsIngestOptions, sink LogSink, recs []logs.Record, tally *lineTally, self logsSelfMetrics, log *slog.Logger) (int, rejectReason) {
	tally.accepted = len(recs)
	if len(recs) > 0 {
		if err := opts.writeLogs(r.Context(), sink, recs); storeBusy(err) {
			w.Header().Set("Retry-After", retryAfterSeconds(storeBusyRetry))
			writeJSON(w, http.StatusTooManyRequests, logsIngestResponse{Error: fmt.Sprintf("log store is behind, nothing was stored: retry later: %v", err)})
			return http.StatusTooManyRequests, reasonStoreBusy
		} else if errors.Is(err, errTooManyLines) {
			writeJSON(w, http.StatusRequestEntityTooLarge, logsIngestResponse{Error: err.Error()})
			return http.StatusRequestEntityTooLarge, reasonTooLarge
		} else if err != nil {
			log.Error("Logs not stored", "protocol", self.protocol, "lines", len(recs), "err", err)
			writeJSON(w, http.StatusServiceUnavailable, logsIngestResponse{Error: fmt.Sprintf("store logs: %v", err)})
			return http.StatusServiceUnavailable, reasonStorage
		}
	}
	tally.record(self)
	code := http.StatusOK
	if tally.accepted == 0 && tally.rejected > 0 {
		code = http.StatusBadRequest
	}
	writeJSON(w, code, tally.response())
	return code, tally.firstReason
}

// logDefaults are the query-parameter defaults of a JSON-lines request.
type logDefaults struct {
	service string
	fields  []logs.Field
}

func parseLogDefaults(q url.Values) (logDefaults, error) {
	var d logDefaults
	d.service = q.Get("service")
	for k, vs := range q {
		name, ok := strings.CutPrefix(k, "_field.")
		if !ok {
			continue
		}
		if name == "" {
			return d, errors.New("query parameter _field. needs a field name: _field.<name>=<value>")
		}
		for _, v := range vs {
			d.fields = append(d.fields, logs.Field{Key: name, Value: v, Kind: logs.KindString})
		}
	}
	// Map order is random; keep the answer deterministic.
	sortFields(d.fields)
	return d, nil
}

// apply fills what the line left empty.
func (d *logDefaults) apply(b *recordBuilder) {
	for _, f := range d.fields {
		if !b.hasField(f.Key) {
			b.add(f.Key, f.Value, f.Kind)
		}
	}
	if b.rec.Service == "" {
		b.rec.Service = d.service
	}
}

// jsonLinesParser turns one request body into records and rejections.
type jsonLinesParser struct {
	opts     LogsIngestOptions
	defaults logDefaults
	now      time.Time
	tally    *lineTally
	b        recordBuilder
	recs     []logs.Record
}

// parse reads body as a JSON array or as JSON lines. Only a malformed array is an error.
func (p *jsonLinesParser) parse(body []byte) error {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '[' {
		return p.parseArray(trimmed)
	}
	p.recs = make([]logs.Record, 0, bytes.Count(body, []byte{'\n'})+1)
	for i := 0; len(body) > 0; i++ {
		line := body
		if n := bytes.IndexByte(body, '\n'); n >= 0 {
			line, body = body[:n], body[n+1:]
		} else {
			body = nil
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		p.line(i, line)
	}
	return nil
}

func (p *jsonLinesParser) parseArray(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("read JSON array: %w", err)
	}
	for i := 0; dec.More(); i++ {
		start := dec.InputOffset()
		var elem json.RawMessage
		if err := dec.Decode(&elem); err != nil {
			return fmt.Errorf("read JSON array element %d: %w", i, err)
		}
		// Point Raw into the body rather than at the decoder's copy.
		end := dec.InputOffset()
		p.line(i, bytes.TrimLeft(bytes.TrimSpace(body[start:end]), ","))
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("read JSON array: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("read JSON array: data after the closing bracket")
	}
	return nil
}

// line parses one line (or array element) into a record or a rejection.
func (p *jsonLinesParser) line(i int, line []byte) {
	line = bytes.TrimSpace(line)
	if len(line) > p.opts.MaxLineBytes {
		p.tally.reject(i, reasonTooLarge, fmt.Errorf("line of %d bytes is over the limit of %d bytes", len(line), p.opts.MaxLineBytes))
		return
	}
	p.b.reset(false)
	if reason, err := parseJSONObject(line, &p.b); err != nil {
		p.tally.reject(i, reason, err)
		return
	}
	if p.b.err != nil {
		p.tally.reject(i, p.b.reason, p.b.err)
		return
	}
	p.defaults.apply(&p.b)
	p.recs = append(p.recs, p.b.finish(p.now, line))
}

func sortFields(fs []logs.Field) {
	slices.SortStableFunc(fs, func(a, b logs.Field) int { return strings.Compare(a.Key, b.Key) })
}
