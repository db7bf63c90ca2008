package ingest

import (
	"encoding/json"
	"net/http"
)

// lineError is one rejected line in a partial-success answer.
type lineError struct {
	// Line is the 0-based index of the line in the body (of the element for a JSON array,
	// of the entry across all streams for Loki, of the record for OTLP).
	Line   int          `json:"line"`
	Reason rejectReason `json:"reason"`
	Error  string       `json:"error"`
}

// lineTally counts what one request accepted and rejected, and keeps the first few errors.
type lineTally struct {
	max         int
	accepted    int
	rejected    int
	errors      []lineError
	byReason    map[rejectReason]int
	firstReason rejectReason
}

func newLineTally(maxErrors int) *lineTally { return &lineTally{max: maxErrors} }

func (t *lineTally) reject(line int, reason rejectReason, err error) {
	t.rejected++
	if t.firstReason == "" {
		t.firstReason = reason
	}
	if t.byReason == nil {
		t.byReason = map[rejectReason]int{}
	}
	t.byReason[reason]++
	if len(t.errors) < t.max {
		t.errors = append(t.errors, lineError{Line: line, Reason: reason, Error: truncateMessage(err.Error(), 512)})
	}
}

// record counts the stored and rejected lines of a request whose batch the sink took (or
// that had nothing to store).
func (t *lineTally) record(self logsSelfMetrics) {
	self.addItems(t.accepted)
	for r, n := range t.byReason {
		self.rejectedItems(r, n)
	}
}

// logsIngestResponse is the body of a /api/v1/logs (and Loki JSON error) answer.
type logsIngestResponse struct {
	Accepted int         `json:"accepted"`
	Rejected int         `json:"rejected"`
	Errors   []lineError `json:"errors,omitempty"`
	// Error explains a request refused as a whole.
	Error string `json:"error,omitempty"`
}

func (t *lineTally) response() logsIngestResponse {
	return logsIngestResponse{Accepted: t.accepted, Rejected: t.rejected, Errors: t.errors}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
