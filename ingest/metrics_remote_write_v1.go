package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/golang/snappy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/timestamp"
	"github.com/prometheus/prometheus/storage"
)

// The remote write 1.0 fast path. Prometheus's receiver decodes a request
// into prompb structs (an allocation per label string), builds labels and
// appends every sample with ref 0, so the head hashes and looks up the
// labels of every sample. This path decodes the wire format in place,
// resolves series through seriesRefCache, and appends with the cached ref
// and labels. What it stores and answers is what the previous path (wire
// checks, then Prometheus's receiver) stored and answered:
// TestRemoteWriteV1Differential holds it to that.

const (
	// promMaxDecodedSize is the body limit of Prometheus's receiver
	// (client_golang exp/api/remote), compressed and decompressed.
	promMaxDecodedSize = 32 << 20
	// maxAheadTime is how far in the future Prometheus's receiver accepts
	// samples, histograms and exemplars (storage/remote's maxAheadTime).
	maxAheadTime = 10 * time.Minute
	// maxPooledBuffer caps the buffers a request returns to the pool.
	maxPooledBuffer = 8 << 20
)

// rwV1Request is the per-request state, pooled: buffers for the body as
// sent and decompressed, and the decoded series pointing into them.
type rwV1Request struct {
	body    []byte
	decoded []byte
	series  []rwV1Series
	samples []rwV1Sample
	keys    []byte // label fields of series sent interleaved
	pairs   [][4]int
	updates []seriesRefUpdate
	builder labels.ScratchBuilder
	exemps  []exemplar.Exemplar
}

var rwV1Pool = sync.Pool{New: func() any { return new(rwV1Request) }}

// key is the label fields of s as sent.
func (r *rwV1Request) key(s *rwV1Series) []byte {
	if s.keyScratch {
		return r.keys[s.keyOff : s.keyOff+s.keyLen]
	}
	return r.decoded[s.keyOff : s.keyOff+s.keyLen]
}

func (r *rwV1Request) release() {
	clear(r.series) // labels, prompb series
	clear(r.updates)
	clear(r.exemps)
	r.series, r.samples, r.keys = r.series[:0], r.samples[:0], r.keys[:0]
	r.pairs, r.updates, r.exemps = r.pairs[:0], r.updates[:0], r.exemps[:0]
	if cap(r.body) > maxPooledBuffer {
		r.body = nil
	}
	if cap(r.decoded) > maxPooledBuffer {
		r.decoded = nil
	}
	if cap(r.samples) > maxPooledBuffer/16 {
		r.samples = nil
	}
	r.builder.Reset()
	rwV1Pool.Put(r)
}

// readBody reads the whole body into r.body, at most limit bytes, with the
// errors of readMetricsBody.
func (r *rwV1Request) readBody(w http.ResponseWriter, req *http.Request, limit int64) error {
	b := r.body[:0]
	if n := req.ContentLength; n > 0 && n < limit && int(n) >= cap(b) {
		// +1: see EOF without growing. A declared length is not trusted
		// beyond 1 MiB: appending grows the buffer as bytes arrive.
		b = make([]byte, 0, min(n+1, 1<<20))
	}
	rd := http.MaxBytesReader(w, req.Body, limit)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := rd.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			r.body = b
			return nil
		}
		if err != nil {
			r.body = b
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return fmt.Errorf("%w: limit is %d bytes", errBodyTooLarge, mbe.Limit)
			}
			return fmt.Errorf("read request body: %w", err)
		}
	}
}

// serveV1 answers a remote write 1.0 request.
func (h *remoteWriteHandler) serveV1(w http.ResponseWriter, r *http.Request) (int, rejectReason) {
	req := rwV1Pool.Get().(*rwV1Request)
	defer req.release()

	err := req.readBody(w, r, h.opts.MaxRequestBytes)
	switch {
	case errors.Is(err, errBodyTooLarge):
		return h.fail(w, http.StatusRequestEntityTooLarge, reasonTooLarge, err)
	case err != nil:
		return h.fail(w, http.StatusBadRequest, reasonBadRequest, err)
	case len(req.body) > promMaxDecodedSize:
		return h.fail(w, http.StatusRequestEntityTooLarge, reasonTooLarge,
			fmt.Errorf("request body exceeds the %v bytes limit", promMaxDecodedSize))
	}
	size, err := snappy.DecodedLen(req.body)
	switch {
	case err != nil:
		return h.fail(w, http.StatusBadRequest, reasonBadRequest, fmt.Errorf("snappy decode: %w", err))
	case int64(size) > h.opts.MaxRequestBytes:
		return h.fail(w, http.StatusRequestEntityTooLarge, reasonTooLarge,
			fmt.Errorf("%w: decompressed body of %d bytes, limit is %d", errBodyTooLarge, size, h.opts.MaxRequestBytes))
	case size > promMaxDecodedSize:
		return h.fail(w, http.StatusBadRequest, reasonBadRequest,
			fmt.Errorf("decoded size exceeds the %v bytes limit", promMaxDecodedSize))
	}
	if cap(req.decoded) < size {
		req.decoded = make([]byte, size)
	}
	req.decoded, err = snappy.Decode(req.decoded[:cap(req.decoded)], req.body)
	if err != nil {
		return h.fail(w, http.StatusBadRequest, reasonBadRequest, fmt.Errorf("snappy decode: %w", err))
	}

	tooMany, err := req.decodeWriteRequest(req.decoded, h.opts.MaxSeriesPerRequest)
	var chk rwV1Check
	if err == nil {
		h.cache.lookup(req)
		chk, err = req.checkSeries(h.opts)
	}
	switch {
	case err != nil:
		return h.fail(w, http.StatusBadRequest, reasonBadRequest, fmt.Errorf("decode %s: %w", "prometheus.WriteRequest", err))
	case tooMany:
		return h.fail(w, http.StatusRequestEntityTooLarge, reasonTooManySeries,
			fmt.Errorf("%w: more than %d series", errTooManySeries, h.opts.MaxSeriesPerRequest))
	case chk.limitErr != nil:
		return h.fail(w, http.StatusBadRequest, reasonBadLabels, chk.limitErr)
	}

	tally := &appendTally{}
	if err := h.appendV1(withTally(r.Context(), tally), req); err != nil {
		code := http.StatusInternalServerError
		if isPermanentRemoteWriteError(err) {
			code = http.StatusBadRequest
		}
		reason := reasonStorage
		switch {
		case code/100 == 5:
			h.log.Error("Remote write storage failure", "status", code, "err", err)
		case tally.reason != "":
			reason = tally.reason
		case chk.invalid > 0:
			reason = reasonBadLabels
		default:
			reason = reasonBadRequest
		}
		h.log.Debug("Remote write request rejected", "status", code, "err", err)
		http.Error(w, err.Error(), code)
		return code, reason
	}
	if chk.invalid > 0 {
		return h.fail(w, http.StatusBadRequest, reasonBadLabels, fmt.Errorf(
			"%d series dropped for invalid labels (first: %s); the other series were written", chk.invalid, chk.firstInvalid))
	}
	if tally.reason == reasonSeriesLimit {
		return h.fail(w, http.StatusBadRequest, reasonSeriesLimit, fmt.Errorf(
			"new series refused: %w; the samples of the series Vigil already holds were written", tally.firstErr))
	}
	w.WriteHeader(http.StatusNoContent)
	return http.StatusNoContent, ""
}

// isPermanentRemoteWriteError is how Prometheus's 1.0 receiver tells a 400
// from a 500.
func isPermanentRemoteWriteError(err error) bool {
	var herr histogram.Error
	return errors.Is(err, storage.ErrOutOfOrderSample) ||
		errors.Is(err, storage.ErrOutOfBounds) ||
		errors.Is(err, storage.ErrDuplicateSampleForTimestamp) ||
		errors.Is(err, storage.ErrTooOldSample) ||
		errors.As(err, &herr)
}

// rwV1Check is what checking the labels of a request found.
type rwV1Check struct {
	invalid      int
	firstInvalid string
	limitErr     error // the first label-limit violation
}

// checkSeries decodes the labels of every series the cache did not know,
// applies Vigil's label limits and Prometheus's validity rules, and builds
// the labels. It returns an error for a malformed Label message.
func (r *rwV1Request) checkSeries(o MetricsIngestOptions) (rwV1Check, error) {
	var c rwV1Check
	for i := range r.series {
		s := &r.series[i]
		if s.hit {
			continue // passed all of this when it was cached
		}
		key := r.key(s)
		r.pairs = r.pairs[:0]
		err := forEachLabel(key, func(ns, ne, vs, ve int) {
			r.pairs = append(r.pairs, [4]int{ns, ne, vs, ve})
		})
		if err != nil {
			return c, err
		}
		if c.limitErr == nil {
			c.limitErr = labelLimitError(key, r.pairs, o)
		}
		if c.limitErr != nil {
			continue // the request fails; only decode errors matter now
		}
		keyStr := string(key)
		r.builder.Reset()
		for _, p := range r.pairs {
			r.builder.Add(keyStr[p[0]:p[1]], keyStr[p[2]:p[3]])
		}
		r.builder.Sort()
		s.ls, s.key = r.builder.Labels(), keyStr
		// Prometheus's rules for a 1.0 series (storage/remote's write).
		if why := invalidSeries(s.ls); why != "" {
			s.invalid = true
			if c.invalid == 0 {
				c.firstInvalid = why
			}
			c.invalid++
		}
	}
	return c, nil
}

// labelLimitError checks the label limits of a series, as the wire scan
// of other requests does (checkSeries in metrics_remote_write_scan.go).
func labelLimitError(key []byte, pairs [][4]int, o MetricsIngestOptions) error {
	if len(pairs) > o.MaxLabelsPerSeries {
		return fmt.Errorf("%w: series has %d labels, limit is %d", errLabelLimit, len(pairs), o.MaxLabelsPerSeries)
	}
	for _, p := range pairs {
		if nl, vl := p[1]-p[0], p[3]-p[2]; nl > o.MaxLabelNameLength || vl > o.MaxLabelValueLength {
			return checkLabelPair(nl, vl, string(key[p[0]:p[1]]), o)
		}
	}
	return nil
}

// invalidSeries says why Prometheus's 1.0 receiver drops a series with
// these labels, or "" if it does not: a metric name, valid UTF-8 names and
// values (model.UTF8Validation), no duplicate names.
func invalidSeries(ls labels.Labels) string {
	if ls.Has(labels.MetricName) && ls.IsValid(model.UTF8Validation) {
		if name, dup := ls.HasDuplicateLabelNames(); dup {
			return fmt.Sprintf("duplicate label name %q", name)
		}
		return ""
	}
	why := "series without a metric name"
	ls.Range(func(l labels.Label) {
		switch {
		case why != "series without a metric name":
		case l.Name == "" || !utf8.ValidString(l.Name):
			why = fmt.Sprintf("invalid label name %q", l.Name)
		case !utf8.ValidString(l.Value):
			why = fmt.Sprintf("label %q has a non-UTF-8 value", l.Name)
		case l.Name == labels.MetricName && l.Value == "":
			why = "empty metric name"
		}
	})
	return why
}

var errTooFarInFuture = fmt.Errorf("%w: timestamp is too far in the future", storage.ErrOutOfBounds)

// appendV1 appends the checked request in one transaction, with the
// semantics of Prometheus's 1.0 receiver: invalid series are skipped, the
// first failed sample aborts and rolls back the whole request, exemplar
// failures are logged and ignored. On commit it records new series refs.
func (h *remoteWriteHandler) appendV1(ctx context.Context, req *rwV1Request) (err error) {
	appended := 0
	appV2 := h.tapp.AppenderV2(ctx)
	defer func() {
		if err != nil {
			_ = appV2.Rollback()
			return
		}
		if err = appV2.Commit(); err != nil {
			h.promCounters.withoutMetadata.Add(float64(appended))
			return
		}
		h.cache.store(req.updates)
	}()
	app, ok := appV2.(storage.ExemplarAppenderV2)
	if !ok {
		return fmt.Errorf("remote write 1.0 receiver requires a storage.ExemplarAppenderV2, got %T", appV2)
	}
	maxTime := timestamp.FromTime(time.Now().Add(maxAheadTime))

	invalid := 0
	for i := range req.series {
		s := &req.series[i]
		if s.invalid {
			h.log.Warn("Invalid metric names or labels", "got", s.ls.String())
			invalid++
			continue
		}
		ref := s.ref
		if s.slow == nil {
			for _, smp := range req.samples[s.samplesLo:s.samplesHi] {
				if smp.t > maxTime {
					err = errTooFarInFuture
				} else {
					ref, err = app.Append(ref, s.ls, 0, smp.t, smp.v, nil, nil, storage.AOptions{})
				}
				if err != nil {
					if errors.Is(err, (*storage.AppendPartialError)(nil)) {
						err = nil
						continue
					}
					if errors.Is(err, errSeriesLimit) {
						// A new series over the cap: skip it, write the others (the handler
						// answers 400 after the commit, as for invalid labels).
						err = nil
						break
					}
					h.logOutOfOrder(err, "Out of order sample from remote write", s.ls, smp.t)
					return err
				}
			}
			appended += s.samplesHi - s.samplesLo
		} else if ref, err = h.appendV1Slow(app, req, s, ref, maxTime, &appended); errors.Is(err, errSeriesLimit) {
			err = nil
			continue
		} else if err != nil {
			return err
		}
		if ref != 0 && ref != s.ref {
			key := s.key
			if s.hit {
				key = string(req.key(s)) // a stale ref, renewed
			}
			req.updates = append(req.updates, seriesRefUpdate{key: key, cachedSeries: cachedSeries{ref: ref, ls: s.ls}})
		}
	}
	if invalid > 0 {
		h.promCounters.invalidLabels.Add(float64(invalid))
	}
	return nil
}

// appendV1Slow appends a series carrying native histograms or exemplars
// from its prompb form, as Prometheus's receiver does.
func (h *remoteWriteHandler) appendV1Slow(app storage.ExemplarAppenderV2, req *rwV1Request, s *rwV1Series, ref storage.SeriesRef, maxTime int64, appended *int) (_ storage.SeriesRef, err error) {
	ts := s.slow
	for _, smp := range ts.Samples {
		if smp.Timestamp > maxTime {
			ref, err = 0, errTooFarInFuture
		} else {
			ref, err = app.Append(ref, s.ls, 0, smp.Timestamp, smp.Value, nil, nil, storage.AOptions{})
		}
		if err != nil && !errors.Is(err, (*storage.AppendPartialError)(nil)) {
			h.logOutOfOrder(err, "Out of order sample from remote write", s.ls, smp.Timestamp)
			return ref, err
		}
	}
	*appended += len(ts.Samples)
	for _, hp := range ts.Histograms {
		var (
			ih *histogram.Histogram
			fh *histogram.FloatHistogram
		)
		if hp.IsFloatHistogram() {
			fh = hp.ToFloatHistogram()
		} else {
			ih = hp.ToIntHistogram()
		}
		ref, err = appendV1Histogram(app, ref, s.ls, hp.Timestamp, ih, fh, maxTime)
		if err != nil && !errors.Is(err, (*storage.AppendPartialError)(nil)) {
			h.logOutOfOrder(err, "Out of order histogram from remote write", s.ls, hp.Timestamp)
			return ref, err
		}
	}
	*appended += len(ts.Histograms)
	if len(ts.Exemplars) == 0 {
		return ref, nil
	}
	req.exemps = req.exemps[:0]
	for _, ep := range ts.Exemplars {
		req.exemps = append(req.exemps, ep.ToExemplar(&req.builder, nil))
	}
	// AppendExemplars requires exemplars sorted by timestamp.
	slices.SortFunc(req.exemps, exemplar.Compare)
	valid := req.exemps
	for i, e := range valid {
		if e.Ts > maxTime { // sorted: the rest are later still
			valid = valid[:i]
			break
		}
	}
	if len(valid) > 0 {
		// Exemplar storage is experimental: failures do not fail the request.
		if _, err := app.AppendExemplars(ref, s.ls, valid); err != nil {
			h.log.Debug("Error while adding exemplars", "series", s.ls.String(), "err", err)
		}
	}
	if len(valid) < len(req.exemps) {
		h.log.Debug("Error while adding exemplars", "series", s.ls.String(), "err", errTooFarInFuture)
	}
	return ref, nil
}

// appendV1Histogram appends a native histogram sample, with the future
// limit and the resolution reduction of Prometheus's receiver.
func appendV1Histogram(app storage.AppenderV2, ref storage.SeriesRef, ls labels.Labels, t int64, h *histogram.Histogram, fh *histogram.FloatHistogram, maxTime int64) (storage.SeriesRef, error) {
	if t > maxTime {
		return 0, errTooFarInFuture
	}
	if h != nil && histogram.IsExponentialSchemaReserved(h.Schema) && h.Schema > histogram.ExponentialSchemaMax {
		if err := h.ReduceResolution(histogram.ExponentialSchemaMax); err != nil {
			return 0, err
		}
	}
	if fh != nil && histogram.IsExponentialSchemaReserved(fh.Schema) && fh.Schema > histogram.ExponentialSchemaMax {
		if err := fh.ReduceResolution(histogram.ExponentialSchemaMax); err != nil {
			return 0, err
		}
	}
	return app.Append(ref, ls, 0, t, 0, h, fh, storage.AOptions{})
}

func (h *remoteWriteHandler) logOutOfOrder(err error, msg string, ls labels.Labels, t int64) {
	if errors.Is(err, storage.ErrOutOfOrderSample) || errors.Is(err, storage.ErrOutOfBounds) ||
		errors.Is(err, storage.ErrDuplicateSampleForTimestamp) || errors.Is(err, storage.ErrTooOldSample) {
		h.log.Error(msg, "err", err.Error(), "series", ls.String(), "timestamp", t)
	}
}

// promWriteCounters are the counters Prometheus's remote-write receiver
// registers; the 1.0 path counts into the same ones.
type promWriteCounters struct {
	invalidLabels   prometheus.Counter // prometheus_api_remote_write_invalid_labels_samples_total
	withoutMetadata prometheus.Counter // prometheus_api_remote_write_without_metadata_appended_samples_total
}

// counterTap is the Registerer handed to remote.NewWriteHandler: it passes
// registrations on to reg, if any, and keeps the receiver's counters.
type counterTap struct {
	reg prometheus.Registerer
	promWriteCounters
}

func newCounterTap(reg prometheus.Registerer) *counterTap {
	unregistered := func() prometheus.Counter { return prometheus.NewCounter(prometheus.CounterOpts{Name: "unused"}) }
	return &counterTap{reg: reg, promWriteCounters: promWriteCounters{unregistered(), unregistered()}}
}

func (t *counterTap) keep(c prometheus.Collector) {
	ctr, ok := c.(prometheus.Counter)
	if !ok {
		return
	}
	switch desc := ctr.Desc().String(); {
	case strings.Contains(desc, `"prometheus_api_remote_write_invalid_labels_samples_total"`):
		t.invalidLabels = ctr
	case strings.Contains(desc, `"prometheus_api_remote_write_without_metadata_appended_samples_total"`):
		t.withoutMetadata = ctr
	}
}

func (t *counterTap) Register(c prometheus.Collector) error {
	t.keep(c)
	if t.reg == nil {
		return nil
	}
	return t.reg.Register(c)
}

func (t *counterTap) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		t.keep(c)
	}
	if t.reg != nil {
		t.reg.MustRegister(cs...)
	}
}

func (t *counterTap) Unregister(c prometheus.Collector) bool {
	return t.reg != nil && t.reg.Unregister(c)
}
