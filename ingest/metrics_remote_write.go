package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/VictoriaMetrics/metrics"
	"github.com/golang/snappy"
	remoteapi "github.com/prometheus/client_golang/exp/api/remote"
	"github.com/prometheus/prometheus/storage/remote"
)

// remoteWriteHandler puts Vigil's limits and self-metrics around
// Prometheus's own remote-write receiver (storage/remote.NewWriteHandler).
type remoteWriteHandler struct {
	opts  MetricsIngestOptions
	inner http.Handler // Prometheus's receiver: 2.0 requests
	self  *ingestSelfMetrics
	log   *slog.Logger

	// The 1.0 fast path (metrics_remote_write_v1*.go). A nil cache sends
	// 1.0 requests to Prometheus's receiver too, as tests compare.
	tapp         *tallyingAppendable
	cache        *seriesRefCache
	promCounters *promWriteCounters
}

// NewRemoteWriteHandler serves POST /api/v1/write: Prometheus remote write
// 1.0 (prometheus.WriteRequest) and 2.0 (io.prometheus.write.v2.Request,
// answered with the X-Prometheus-Remote-Write-*-Written headers), snappy
// compressed, decoded and stored by Prometheus's own receiver into app.
//
// Before Prometheus's receiver runs, the request is checked on the wire:
//   - Content-Type other than application/x-protobuf[;proto=...], or
//     Content-Encoding other than snappy: 415.
//   - Body over opts.MaxRequestBytes, compressed or decompressed: 413.
//   - Broken snappy or protobuf: 400.
//   - More than opts.MaxSeriesPerRequest series: 413, nothing written. 413,
//     not 400, because the request is well-formed but too big, as Thanos
//     Receive answers for its per-request series limit; senders treat both
//     as non-retryable.
//   - A series over a label limit: 400, nothing written.
//
// Partly bad requests then behave as in Prometheus: series with invalid
// labels (missing __name__, empty or non-UTF-8 names, duplicate names) are
// dropped and the rest written; out-of-order samples are 400. For 1.0 the
// answer is 400 when series were dropped, where Prometheus answers 204: the
// 1.0 spec asks for 400 and Prometheus's own code carries a TODO saying so.
//
// 1.0 requests do not go through Prometheus's receiver but through Vigil's
// own decoder and append loop (metrics_remote_write_v1*.go), which stores
// and answers the same, faster: no prompb structs, and known series are
// appended by their cached series ref. opts.RemoteWriteSeriesCacheSize
// bounds that cache.
func NewRemoteWriteHandler(app MetricsAppendable, opts MetricsIngestOptions, set *metrics.Set, log *slog.Logger) http.Handler {
	opts = opts.withDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	self := newIngestSelfMetrics(set, "metrics", protoRemoteWrite)
	tapp := &tallyingAppendable{next: app, policy: appendPolicy{opts: opts}, self: self}
	accepted := remoteapi.MessageTypes{remoteapi.WriteV1MessageType, remoteapi.WriteV2MessageType}
	tap := newCounterTap(opts.Registerer)
	return &remoteWriteHandler{
		opts:         opts,
		inner:        remote.NewWriteHandler(log, tap, tapp, accepted, false, false),
		self:         self,
		log:          log,
		tapp:         tapp,
		cache:        newSeriesRefCache(opts.RemoteWriteSeriesCacheSize),
		promCounters: &tap.promWriteCounters,
	}
}

func (h *remoteWriteHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	code, reason := h.serve(w, r)
	h.self.request(strconv.Itoa(code))
	if reason != "" {
		h.self.rejected(reason)
	}
}

// serve answers the request and reports the status and, for a rejection in
// full or in part, its reason.
func (h *remoteWriteHandler) serve(w http.ResponseWriter, r *http.Request) (int, rejectReason) {
	fail := func(code int, reason rejectReason, err error) (int, rejectReason) {
		return h.fail(w, code, reason, err)
	}
	if r.Method != http.MethodPost {
		return fail(http.StatusMethodNotAllowed, reasonBadRequest, errors.New("remote write takes POST"))
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		ct = "application/x-protobuf" // as Prometheus's receiver assumes
	}
	msgType, err := remoteapi.ParseProtoMsg(ct)
	if err != nil {
		return fail(http.StatusUnsupportedMediaType, reasonUnsupportedMedia, err)
	}
	if enc := r.Header.Get("Content-Encoding"); enc != "" && enc != string(remoteapi.SnappyBlockCompression) {
		return fail(http.StatusUnsupportedMediaType, reasonUnsupportedMedia,
			fmt.Errorf("%s encoding (compression) is not accepted by this server; only snappy is acceptable", enc))
	}
	if msgType == remoteapi.WriteV1MessageType && h.cache != nil {
		return h.serveV1(w, r)
	}

	compressed, err := readMetricsBody(w, r, h.opts.MaxRequestBytes)
	switch {
	case errors.Is(err, errBodyTooLarge):
		return fail(http.StatusRequestEntityTooLarge, reasonTooLarge, err)
	case err != nil:
		return fail(http.StatusBadRequest, reasonBadRequest, err)
	}
	size, err := snappy.DecodedLen(compressed)
	if err != nil {
		return fail(http.StatusBadRequest, reasonBadRequest, fmt.Errorf("snappy decode: %w", err))
	}
	if int64(size) > h.opts.MaxRequestBytes {
		return fail(http.StatusRequestEntityTooLarge, reasonTooLarge,
			fmt.Errorf("%w: decompressed body of %d bytes, limit is %d", errBodyTooLarge, size, h.opts.MaxRequestBytes))
	}
	decoded, err := snappy.Decode(nil, compressed)
	if err != nil {
		return fail(http.StatusBadRequest, reasonBadRequest, fmt.Errorf("snappy decode: %w", err))
	}
	scan, err := scanRemoteWrite(decoded, msgType, h.opts)
	switch {
	case err != nil:
		return fail(http.StatusBadRequest, reasonBadRequest, fmt.Errorf("decode %s: %w", msgType, err))
	case scan.tooMany:
		return fail(http.StatusRequestEntityTooLarge, reasonTooManySeries,
			fmt.Errorf("%w: more than %d series", errTooManySeries, h.opts.MaxSeriesPerRequest))
	case scan.limitErr != nil:
		return fail(http.StatusBadRequest, reasonBadLabels, scan.limitErr)
	}

	// Prometheus's receiver decodes snappy again: it has no option to take
	// a decoded body, and snappy is cheap next to the protobuf decode.
	tally := &appendTally{}
	r2 := r.WithContext(withTally(r.Context(), tally))
	r2.Body = io.NopCloser(bytes.NewReader(compressed))
	buf := newBufferedResponse()
	h.inner.ServeHTTP(buf, r2)

	code := buf.status()
	if code/100 == 2 && scan.invalid > 0 {
		for k, v := range buf.header {
			w.Header()[k] = v
		}
		return fail(http.StatusBadRequest, reasonBadLabels, fmt.Errorf(
			"%d series dropped for invalid labels (first: %s); the other series were written", scan.invalid, scan.firstInvalid))
	}
	buf.copyTo(w)
	switch {
	case code/100 == 2:
		return code, ""
	case code/100 == 5:
		h.log.Error("Remote write storage failure", "status", code, "err", buf.body.String())
		return code, reasonStorage
	case code == http.StatusUnsupportedMediaType:
		return code, reasonUnsupportedMedia
	case code == http.StatusRequestEntityTooLarge:
		return code, reasonTooLarge
	case tally.reason != "":
		return code, tally.reason
	case scan.invalid > 0:
		return code, reasonBadLabels
	default:
		return code, reasonBadRequest
	}
}

// fail answers with an error and reports the status and reason.
func (h *remoteWriteHandler) fail(w http.ResponseWriter, code int, reason rejectReason, err error) (int, rejectReason) {
	if code >= 500 {
		h.log.Error("Remote write request failed", "err", err)
	} else {
		h.log.Debug("Remote write request rejected", "status", code, "err", err)
	}
	http.Error(w, err.Error(), code)
	return code, reason
}
