package ingest

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
	"github.com/prometheus/prometheus/storage"
)

// importHandler takes Prometheus text or OpenMetrics pushed by batch jobs.
type importHandler struct {
	app  *tallyingAppendable
	opts MetricsIngestOptions
	self *ingestSelfMetrics
	log  *slog.Logger
	now  func() time.Time
}

// NewImportHandler serves POST /api/v1/import/prometheus: a body in the
// Prometheus text format (Content-Type text/plain, or none, or curl's default
// application/x-www-form-urlencoded) or OpenMetrics 1.0
// (application/openmetrics-text, ending in "# EOF"). Other types are 415.
//
// Query parameters:
//   - extra_label=name=value, repeatable: added to (overriding) every series.
//   - timestamp: for samples without their own, as Prometheus's HTTP API
//     takes times (Unix seconds with decimals, or RFC 3339); default: the
//     time the request arrived.
//
// The request is all or nothing: a line that does not parse, breaks a label
// limit or is out of order is 400 naming the line, and nothing is written;
// over opts.MaxRequestBytes is 413, over MaxSeriesPerRequest 413; success
// is 204.
func NewImportHandler(app MetricsAppendable, opts MetricsIngestOptions, set *metrics.Set, log *slog.Logger) http.Handler {
	opts = opts.withDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	self := newIngestSelfMetrics(set, "metrics", protoImport)
	return &importHandler{
		app:  &tallyingAppendable{next: app, policy: appendPolicy{opts: opts, checkLimits: true}, self: self},
		opts: opts,
		self: self,
		log:  log,
		now:  time.Now,
	}
}

func (h *importHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	code, reason := h.serve(w, r)
	h.self.request(strconv.Itoa(code))
	if reason != "" {
		h.self.rejected(reason)
	}
}

func (h *importHandler) serve(w http.ResponseWriter, r *http.Request) (int, rejectReason) {
	fail := func(code int, reason rejectReason, err error) (int, rejectReason) {
		if code >= 500 {
			h.log.Error("Metrics import failed", "err", err)
		}
		http.Error(w, err.Error(), code)
		return code, reason
	}
	if r.Method != http.MethodPost {
		return fail(http.StatusMethodNotAllowed, reasonBadRequest, errors.New("import takes POST"))
	}
	contentType, err := importContentType(r.Header.Get("Content-Type"))
	if err != nil {
		return fail(http.StatusUnsupportedMediaType, reasonUnsupportedMedia, err)
	}
	extra, defaultTs, err := parseImportQuery(r.URL.Query(), h.now())
	if err != nil {
		return fail(http.StatusBadRequest, reasonBadRequest, err)
	}
	body, err := readMetricsBody(w, r, h.opts.MaxRequestBytes)
	switch {
	case errors.Is(err, errBodyTooLarge):
		return fail(http.StatusRequestEntityTooLarge, reasonTooLarge, err)
	case err != nil:
		return fail(http.StatusBadRequest, reasonBadRequest, err)
	}
	if contentType == "text/plain" && len(body) > 0 && body[len(body)-1] != '\n' {
		body = append(body, '\n') // the text parser wants every line ended
	}

	tally := &appendTally{}
	app := h.app.AppenderV2(withTally(r.Context(), tally))
	if err := importSamples(app, body, contentType, extra, defaultTs); err != nil {
		_ = app.Rollback()
		var pe *importLineError
		switch {
		case tally.storage != nil:
			return fail(http.StatusServiceUnavailable, reasonStorage, err)
		case errors.Is(err, errTooManySeries):
			return fail(http.StatusRequestEntityTooLarge, reasonTooManySeries, err)
		case errors.As(err, &pe) && pe.reason != "":
			return fail(http.StatusBadRequest, pe.reason, err)
		default:
			return fail(http.StatusBadRequest, reasonBadRequest, err)
		}
	}
	if err := app.Commit(); err != nil {
		return fail(http.StatusServiceUnavailable, reasonStorage, fmt.Errorf("commit imported samples: %w", err))
	}
	w.WriteHeader(http.StatusNoContent)
	return http.StatusNoContent, ""
}

// importContentType maps the request's Content-Type to a textparse one.
func importContentType(ct string) (string, error) {
	if ct == "" {
		return "text/plain", nil
	}
	mediaType, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", fmt.Errorf("parse Content-Type %q: %w", ct, err)
	}
	switch mediaType {
	case "text/plain", "application/x-www-form-urlencoded":
		return "text/plain", nil
	case "application/openmetrics-text":
		if v := params["version"]; v != "" && !strings.HasPrefix(v, "1.") && !strings.HasPrefix(v, "0.") {
			return "", fmt.Errorf("OpenMetrics version %q is not supported, use 1.0.0", v)
		}
		return "application/openmetrics-text", nil
	default:
		return "", fmt.Errorf("unsupported Content-Type %q: use text/plain or application/openmetrics-text", ct)
	}
}

// parseImportQuery reads extra_label and timestamp.
func parseImportQuery(q url.Values, now time.Time) (labels.Labels, int64, error) {
	b := labels.NewScratchBuilder(len(q["extra_label"]))
	for _, kv := range q["extra_label"] {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !model.UTF8Validation.IsValidLabelName(name) || name == labels.MetricName {
			return labels.EmptyLabels(), 0, fmt.Errorf("extra_label %q: want name=value with a valid label name other than __name__", kv)
		}
		b.Add(name, value)
	}
	b.Sort()
	extra := b.Labels()
	if name, dup := extra.HasDuplicateLabelNames(); dup {
		return labels.EmptyLabels(), 0, fmt.Errorf("extra_label %q given twice", name)
	}
	ts := now
	if s := q.Get("timestamp"); s != "" {
		t, err := parseImportTime(s)
		if err != nil {
			return labels.EmptyLabels(), 0, err
		}
		ts = t
	}
	return extra, ts.UnixMilli(), nil
}

// parseImportTime accepts what Prometheus's HTTP API accepts as a time.
func parseImportTime(s string) (time.Time, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(math.Round(frac*1000))*int64(time.Millisecond)), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("timestamp %q: want Unix seconds or RFC 3339", s)
}

// importLineError is a rejection tied to a line of the body.
type importLineError struct {
	line   int
	reason rejectReason // "" for a parse error
	err    error
}

func (e *importLineError) Error() string { return fmt.Sprintf("line %d: %v", e.line, e.err) }
func (e *importLineError) Unwrap() error { return e.err }

// importSamples parses body and appends every sample; the caller commits or
// rolls back.
func importSamples(app storage.AppenderV2, body []byte, contentType string, extra labels.Labels, defaultTs int64) error {
	p, err := textparse.New(body, contentType, labels.NewSymbolTable(), textparse.ParserOptions{})
	if p == nil {
		return fmt.Errorf("create parser: %w", err)
	}
	var (
		pos  bodyPosition
		lset labels.Labels
		lb   = labels.NewBuilder(labels.EmptyLabels())
		ex   exemplar.Exemplar
	)
	pos.body = body
	for {
		entry, err := p.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return &importLineError{line: pos.nextLine(), err: err}
		}
		var (
			ts   *int64
			v    float64
			opts storage.AOptions
		)
		switch entry {
		case textparse.EntrySeries:
			var series []byte
			series, ts, v = p.Series()
			pos.see(series)
		case textparse.EntryHistogram:
			series, hts, h, fh := p.Histogram()
			pos.see(series)
			if err := appendImported(app, p, lb, &lset, &ex, extra, pick(hts, defaultTs), 0, h, fh, opts, pos.line()); err != nil {
				return err
			}
			continue
		case textparse.EntryHelp:
			name, _ := p.Help()
			pos.see(name)
			continue
		case textparse.EntryType:
			name, _ := p.Type()
			pos.see(name)
			continue
		case textparse.EntryUnit:
			name, _ := p.Unit()
			pos.see(name)
			continue
		case textparse.EntryComment:
			pos.see(p.Comment())
			continue
		default:
			continue
		}
		if err := appendImported(app, p, lb, &lset, &ex, extra, pick(ts, defaultTs), v, nil, nil, opts, pos.line()); err != nil {
			return err
		}
	}
}

func pick(ts *int64, def int64) int64 {
	if ts != nil {
		return *ts
	}
	return def
}

// appendImported appends the parser's current sample with extra labels.
func appendImported(app storage.AppenderV2, p textparse.Parser, lb *labels.Builder, lset *labels.Labels, ex *exemplar.Exemplar,
	extra labels.Labels, t int64, v float64, h *histogram.Histogram, fh *histogram.FloatHistogram, opts storage.AOptions, line int,
) error {
	p.Labels(lset)
	lb.Reset(*lset)
	extra.Range(func(l labels.Label) { lb.Set(l.Name, l.Value) })
	ls := lb.Labels()
	for p.Exemplar(ex) {
		if !ex.HasTs {
			ex.Ts = t
		}
		opts.Exemplars = append(opts.Exemplars, *ex)
		*ex = exemplar.Exemplar{}
	}
	slices.SortFunc(opts.Exemplars, exemplar.Compare) // AppendV2Options wants them by time
	_, err := app.Append(0, ls, p.StartTimestamp(), t, v, h, fh, opts)
	if err == nil || errors.Is(err, (*storage.AppendPartialError)(nil)) {
		return nil // exemplar trouble never fails an import, as in scrapes
	}
	reason, permanent := classifyAppendError(err)
	if !permanent {
		return fmt.Errorf("line %d: append %s: %w", line, ls.String(), err)
	}
	if reason == reasonTooManySeries {
		return fmt.Errorf("line %d: %w", line, err)
	}
	return &importLineError{line: line, reason: reason, err: fmt.Errorf("%s: %w", ls.String(), err)}
}
