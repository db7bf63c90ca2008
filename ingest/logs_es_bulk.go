package ingest

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/vigilhq/vigil/logs"
)

// esActionMeta is the metadata of one bulk action line, {"index":{"_index":..,"_id":..}}.
type esActionMeta struct {
	Index string `json:"_index"`
	ID    string `json:"_id"`
}

// esBulkItem is one entry of a bulk response's items, under its action name.
type esBulkItem struct {
	Index       string     `json:"_index"`
	ID          string     `json:"_id,omitempty"`
	Version     int        `json:"_version,omitempty"`
	Result      string     `json:"result,omitempty"`
	Shards      *esShards  `json:"_shards,omitempty"`
	SeqNo       *int       `json:"_seq_no,omitempty"`
	PrimaryTerm int        `json:"_primary_term,omitempty"`
	Status      int        `json:"status"`
	Error       *esErrInfo `json:"error,omitempty"`
}

type esShards struct {
	Total      int `json:"total"`
	Successful int `json:"successful"`
	Failed     int `json:"failed"`
}

type esErrInfo struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
}

// esBulkResponse is the answer shippers parse: they retry items by status and log errors.
type esBulkResponse struct {
	Took   int64                   `json:"took"`
	Errors bool                    `json:"errors"`
	Items  []map[string]esBulkItem `json:"items"`
}

// errESMalformed fails a whole bulk request, as Elasticsearch does for a broken action line.
var errESMalformed = errors.New("malformed bulk request")

// serveBulk answers POST /_bulk and /{index}/_bulk: NDJSON action/document pairs. index and
// create store the document (201 "created"); delete and update are answered per item with
// 400, since logs are append-only. A document that is not a JSON object, is over MaxLineBytes
// or has a bad time gets a per-item 400 while the rest is stored; like Elasticsearch, the
// answer is then still 200 with "errors":true. A malformed action line fails the request (400);
// a sink failure answers 503 and shippers retry the batch.
func (h *esHandler) serveBulk(w http.ResponseWriter, r *http.Request) (int, rejectReason) {
	start := time.Now()
	body, err := readLogsBody(w, r, h.opts.MaxRequestBytes)
	if err != nil {
		code, reason := bodyErrStatus(err)
		esError(w, code, esErrorType(code), err.Error())
		return code, reason
	}
	p := esBulkParser{opts: h.opts, defaultIndex: chi.URLParam(r, "index"), now: h.opts.now(), newID: h.newID, tally: newLineTally(1)}
	if err := p.parse(body); err != nil {
		esError(w, http.StatusBadRequest, "illegal_argument_exception", err.Error())
		return http.StatusBadRequest, reasonBadRequest
	}
	p.tally.accepted = len(p.recs)
	if len(p.recs) > 0 {
		if err := h.opts.writeLogs(r.Context(), h.sink, p.recs); storeBusy(err) {
			// Elasticsearch's own answer when its write queue is full; shippers back off on it.
			w.Header().Set("Retry-After", retryAfterSeconds(storeBusyRetry))
			esError(w, http.StatusTooManyRequests, "es_rejected_execution_exception", fmt.Sprintf("log store is behind: %v", err))
			return http.StatusTooManyRequests, reasonStoreBusy
		} else if errors.Is(err, errTooManyLines) {
			esError(w, http.StatusRequestEntityTooLarge, "content_too_long_exception", err.Error())
			return http.StatusRequestEntityTooLarge, reasonTooLarge
		} else if err != nil {
			h.log.Error("Elasticsearch bulk logs not stored", "docs", len(p.recs), "err", err)
			esError(w, http.StatusServiceUnavailable, "unavailable_shards_exception", fmt.Sprintf("store logs: %v", err))
			return http.StatusServiceUnavailable, reasonStorage
		}
	}
	p.tally.record(h.self)
	writeJSON(w, http.StatusOK, esBulkResponse{
		Took:   time.Since(start).Milliseconds(),
		Errors: p.tally.rejected > 0,
		Items:  p.items,
	})
	return http.StatusOK, p.tally.firstReason
}

// esBulkParser turns a bulk body into records and per-item answers.
type esBulkParser struct {
	opts         LogsIngestOptions
	defaultIndex string
	now          time.Time
	newID        func() string
	tally        *lineTally
	b            recordBuilder
	recs         []logs.Record
	items        []map[string]esBulkItem
}

func (p *esBulkParser) parse(body []byte) error {
	lineNo := 0
	next := func() ([]byte, bool) {
		for len(body) > 0 {
			line := body
			if n := bytes.IndexByte(body, '\n'); n >= 0 {
				line, body = body[:n], body[n+1:]
			} else {
				body = nil
			}
			lineNo++
			if line = bytes.TrimSpace(line); len(line) > 0 {
				return line, true
			}
		}
		return nil, false
	}
	for {
		actionLine, ok := next()
		if !ok {
			break
		}
		action, meta, err := parseESAction(actionLine)
		if err != nil {
			return fmt.Errorf("%w: action/metadata line [%d]: %v", errESMalformed, lineNo, err)
		}
		if meta.Index == "" {
			meta.Index = p.defaultIndex
		}
		var doc []byte
		if action != "delete" {
			if doc, ok = next(); !ok {
				return fmt.Errorf("%w: action/metadata line [%d] has no document; the bulk request must be terminated by a newline", errESMalformed, lineNo)
			}
		}
		p.item(action, meta, doc)
	}
	if len(p.items) == 0 {
		return fmt.Errorf("%w: no requests added", errESMalformed)
	}
	return nil
}

// item stores or rejects one document and records its answer.
func (p *esBulkParser) item(action string, meta esActionMeta, doc []byte) {
	idx := len(p.items)
	fail := func(status int, reason rejectReason, typ string, err error) {
		p.tally.reject(idx, reason, err)
		p.items = append(p.items, map[string]esBulkItem{action: {
			Index: meta.Index, ID: meta.ID, Status: status,
			Error: &esErrInfo{Type: typ, Reason: err.Error()},
		}})
	}
	switch {
	case action == "delete" || action == "update":
		fail(http.StatusBadRequest, reasonUnsupportedAction, "illegal_argument_exception",
			fmt.Errorf("%s is not supported: Vigil's log store is append-only", action))
		return
	case meta.Index == "":
		fail(http.StatusBadRequest, reasonBadRequest, "action_request_validation_exception", errors.New("index is missing"))
		return
	case len(doc) > p.opts.MaxLineBytes:
		fail(http.StatusBadRequest, reasonTooLarge, "illegal_argument_exception",
			fmt.Errorf("document of %d bytes is over the limit of %d bytes", len(doc), p.opts.MaxLineBytes))
		return
	}
	p.b.reset(false)
	if reason, err := parseJSONObject(doc, &p.b); err != nil {
		fail(http.StatusBadRequest, reason, "document_parsing_exception", fmt.Errorf("failed to parse document: %w", err))
		return
	}
	if p.b.err != nil {
		fail(http.StatusBadRequest, p.b.reason, "document_parsing_exception", p.b.err)
		return
	}
	p.b.add("_index", meta.Index, logs.KindString)
	p.recs = append(p.recs, p.b.finish(p.now, doc))
	if meta.ID == "" {
		meta.ID = p.newID()
	}
	seq := len(p.recs) - 1
	p.items = append(p.items, map[string]esBulkItem{action: {
		Index: meta.Index, ID: meta.ID, Version: 1, Result: "created",
		Shards: &esShards{Total: 1, Successful: 1}, SeqNo: &seq, PrimaryTerm: 1,
		Status: http.StatusCreated,
	}})
}

// parseESAction reads {"<action>":{...meta...}}.
func parseESAction(line []byte) (string, esActionMeta, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(line, &m); err != nil {
		return "", esActionMeta{}, fmt.Errorf("expected an object: %v", err)
	}
	if len(m) != 1 {
		return "", esActionMeta{}, fmt.Errorf("expected one action, found %d keys", len(m))
	}
	for action, raw := range m {
		switch action {
		case "index", "create", "update", "delete":
		default:
			return "", esActionMeta{}, fmt.Errorf("expected field [create], [delete], [index] or [update] but found [%s]", truncateMessage(action, 64))
		}
		var meta esActionMeta
		if err := json.Unmarshal(raw, &meta); err != nil {
			return "", esActionMeta{}, fmt.Errorf("action [%s]: %v", action, err)
		}
		return action, meta, nil
	}
	return "", esActionMeta{}, errors.New("expected one action") // not reached: len(m) == 1
}

// newESDocID returns a random 20-character id in the style of Elasticsearch's own.
func newESDocID() string {
	var b [15]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand documents it)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// esError answers in Elasticsearch's error shape.
func esError(w http.ResponseWriter, code int, typ, reason string) {
	info := esErrInfo{Type: typ, Reason: reason}
	writeJSON(w, code, map[string]any{
		"error":  map[string]any{"root_cause": []esErrInfo{info}, "type": typ, "reason": reason},
		"status": code,
	})
}

func esErrorType(code int) string {
	switch code {
	case http.StatusRequestEntityTooLarge:
		return "content_too_long_exception"
	case http.StatusUnsupportedMediaType:
		return "media_type_header_exception"
	default:
		return "parse_exception"
	}
}
