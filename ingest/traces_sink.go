package ingest

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/vigilhq/vigil/traces"
)

// TraceSink stores spans. WriteSpans returns nil only once every span in the batch is
// durable, so the edge may answer 2xx; any error means nothing can be assumed stored and the
// client should retry (503 / Unavailable). Writing the same span again replaces it, so a
// retried export is harmless. The sink must not keep spans, or anything they point to,
// after it returns. Safe for concurrent use. *traces.DB is one.
type TraceSink interface {
	WriteSpans(ctx context.Context, spans []traces.Span) error
}

// TracesIngestOptions configures the trace receivers (OTLP and Zipkin).
type TracesIngestOptions struct {
	// MaxFutureSkew: spans that start or end later than now plus this are rejected (clock
	// skew beyond it is a broken client, and such spans would escape retention).
	MaxFutureSkew time.Duration
	// MaxRequestBytes bounds one Zipkin request, as sent and once decompressed (the OTLP
	// server applies its own limit to OTLP requests).
	MaxRequestBytes int64
	// MaxAttributesPerSpan and MaxAttributeValueLength bound what one span carries, as the
	// OpenTelemetry SDKs' attribute limits do: attributes past the count (per span, resource,
	// event and link) are dropped and string values past the length are cut, at a UTF-8
	// boundary; the span itself is kept. 0 means no limit. Counted in
	// vigil_ingest_truncated_total{signal="traces",what="attribute"|"attribute_value"}.
	MaxAttributesPerSpan    int
	MaxAttributeValueLength int
	// MaxSpansPerRequest caps the spans of one request (0: no cap); a request with more is
	// refused whole: 413, gRPC ResourceExhausted without retry information (not retried).
	MaxSpansPerRequest int
}

// DefaultTracesIngestOptions returns the documented defaults.
func DefaultTracesIngestOptions() TracesIngestOptions {
	return TracesIngestOptions{MaxFutureSkew: time.Hour, MaxRequestBytes: 32 << 20,
		MaxAttributesPerSpan: 128, MaxAttributeValueLength: 16 << 10, MaxSpansPerRequest: 100_000}
}

// Validate reports the first option that cannot work.
func (o TracesIngestOptions) Validate() error {
	switch {
	case o.MaxFutureSkew <= 0:
		return errors.New("max future skew must be positive")
	case o.MaxRequestBytes <= 0:
		return errors.New("max request bytes must be positive")
	case o.MaxAttributesPerSpan < 0 || o.MaxAttributeValueLength < 0:
		return errors.New("attribute limits must not be negative")
	}
	return nil
}

// Reasons a span is rejected (the reason label of vigil_ingest_rejected_total and
// vigil_ingest_rejected_items_total).
const (
	reasonBadTraceID     rejectReason = "bad_trace_id"
	reasonBadSpanID      rejectReason = "bad_span_id"
	reasonBadParentID    rejectReason = "bad_parent_span_id"
	reasonBadLinkID      rejectReason = "bad_link_id"
	reasonMissingTime    rejectReason = "missing_timestamp"
	reasonEndBeforeStart rejectReason = "end_before_start"
	reasonFuture         rejectReason = "too_far_in_future"
)

// attrLimits are the attribute limits of TracesIngestOptions; zero fields mean no limit.
type attrLimits struct{ maxAttrs, maxValueLen, maxSpans int }

func (o TracesIngestOptions) attrLimits() attrLimits {
	return attrLimits{maxAttrs: o.MaxAttributesPerSpan, maxValueLen: o.MaxAttributeValueLength, maxSpans: o.MaxSpansPerRequest}
}

// spanCheck validates spans of one request and keeps the tally for its answer.
type spanCheck struct {
	now    time.Time
	skew   time.Duration
	limits attrLimits
	// droppedAttrs and cutValues count what the attribute limits took away.
	droppedAttrs, cutValues int
	total                   int
	rejected                int
	reason                  rejectReason // of the first rejection
	firstErr                error
	byReason                map[rejectReason]int
}

// ok reports whether s may be stored; if not it records why.
func (c *spanCheck) ok(s *traces.Span) bool {
	c.total++
	var (
		r   rejectReason
		msg string
	)
	switch {
	case s.TraceID.IsZero():
		r, msg = reasonBadTraceID, "trace id is missing or all zero"
	case s.SpanID.IsZero():
		r, msg = reasonBadSpanID, "span id is missing or all zero"
	case s.Start.UnixNano() <= 0:
		r, msg = reasonMissingTime, "start time is missing"
	case s.End.Before(s.Start):
		r, msg = reasonEndBeforeStart, fmt.Sprintf("end %s is before start %s", s.End.Format(time.RFC3339Nano), s.Start.Format(time.RFC3339Nano))
	case s.Start.After(c.now.Add(c.skew)) || s.End.After(c.now.Add(c.skew)):
		r, msg = reasonFuture, fmt.Sprintf("span ends at %s, more than %s in the future", s.End.Format(time.RFC3339Nano), c.skew)
	default:
		c.limit(s)
		return true
	}
	c.reject(r, fmt.Errorf("span %s of trace %s: %s", s.SpanID, s.TraceID, msg))
	return false
}

// limit applies the attribute limits to a span that will be stored.
func (c *spanCheck) limit(s *traces.Span) {
	if c.limits.maxAttrs == 0 && c.limits.maxValueLen == 0 {
		return
	}
	s.Attributes = c.limitAttrs(s.Attributes)
	s.Resource = c.limitAttrs(s.Resource)
	for i := range s.Events {
		s.Events[i].Attributes = c.limitAttrs(s.Events[i].Attributes)
	}
	for i := range s.Links {
		s.Links[i].Attributes = c.limitAttrs(s.Links[i].Attributes)
	}
}

func (c *spanCheck) limitAttrs(as []traces.Attribute) []traces.Attribute {
	if n := c.limits.maxAttrs; n > 0 && len(as) > n {
		c.droppedAttrs += len(as) - n
		as = as[:n]
	}
	if n := c.limits.maxValueLen; n > 0 {
		for i, a := range as {
			if a.Value.Type() == traces.ValueString && len(a.Value.Str()) > n {
				as[i].Value = traces.StringValue(cutUTF8(a.Value.Str(), n))
				c.cutValues++
			}
		}
	}
	return as
}

// cutUTF8 returns the longest prefix of s of at most n bytes that does not split a rune.
func cutUTF8(s string, n int) string {
	for n > 0 && n < len(s) && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// rejectBadID records a span dropped before decoding because an id has the wrong length.
func (c *spanCheck) rejectBadID(r rejectReason, msg string) {
	c.total++
	c.reject(r, errors.New(msg))
}

func (c *spanCheck) reject(r rejectReason, err error) {
	c.rejected++
	if c.byReason == nil {
		c.byReason = map[rejectReason]int{}
	}
	c.byReason[r]++
	if c.reason == "" {
		c.reason, c.firstErr = r, err
	}
}

// message is the partial-success text: the count and the first error.
func (c *spanCheck) message() string {
	if c.rejected == 0 {
		return ""
	}
	return truncateMessage(fmt.Sprintf("%d of %d spans rejected; first: %v", c.rejected, c.total, c.firstErr), maxPartialMessage)
}
