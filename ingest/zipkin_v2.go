package ingest

import (
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"google.golang.org/grpc/codes"

	"github.com/vigilhq/vigil/traces"
)

const protoZipkin = "zipkin"

// Zipkin receives Zipkin v2 JSON spans: it is the http.Handler for POST /api/v2/spans on the
// main port (the Zipkin collector's API, so Zipkin reporters and Brave work unchanged). It
// undoes Content-Encoding: gzip itself, within MaxRequestBytes as sent and decompressed.
//
// Zipkin has no partial success: a body that does not parse answers 400 and stores
// nothing; spans that parse but are unusable (bad or zero ids, no timestamp, too far in
// the future) are dropped and counted, the rest stored and the answer is 202. If every span
// is dropped the answer is 400; a sink failure 503.
//
// Conversion follows the OpenTelemetry collector's Zipkin receiver: localEndpoint.serviceName
// is the service, the "error" tag sets an error status, annotations become events,
// remoteEndpoint becomes peer.service / net.peer.ip / net.peer.port attributes.
type Zipkin struct {
	sink TraceSink
	opts TracesIngestOptions
	self *ingestSelfMetrics
	log  *slog.Logger
	now  func() time.Time
}

// NewZipkin returns the Zipkin v2 receiver writing into sink.
func NewZipkin(sink TraceSink, opts TracesIngestOptions, set *metrics.Set, log *slog.Logger) (*Zipkin, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("new Zipkin receiver: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Zipkin{sink: sink, opts: opts, self: newIngestSelfMetrics(set, "traces", protoZipkin), log: log, now: time.Now}, nil
}

// ServeHTTP implements http.Handler.
func (z *Zipkin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	code, reason := z.serveHTTP(w, r)
	z.self.request(strconv.Itoa(code))
	if reason != "" {
		z.self.rejected(reason)
	}
}

func (z *Zipkin) serveHTTP(w http.ResponseWriter, r *http.Request) (int, rejectReason) {
	fail := func(code int, reason rejectReason, msg string) (int, rejectReason) {
		http.Error(w, msg, code)
		return code, reason
	}
	if r.Method != http.MethodPost {
		return fail(http.StatusMethodNotAllowed, reasonBadRequest, "Zipkin spans take POST")
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return fail(http.StatusUnsupportedMediaType, reasonUnsupportedMedia,
				fmt.Sprintf("unsupported content type %q: send Zipkin v2 JSON as application/json", ct))
		}
	}
	body, err := z.readBody(w, r)
	switch {
	case errors.Is(err, errBodyTooLarge):
		return fail(http.StatusRequestEntityTooLarge, reasonTooLarge, err.Error())
	case errors.Is(err, errZipkinUnsupportedEncoding):
		return fail(http.StatusUnsupportedMediaType, reasonUnsupportedMedia, err.Error())
	case err != nil:
		return fail(http.StatusBadRequest, reasonBadRequest, err.Error())
	}
	c := &spanCheck{now: z.now(), skew: z.opts.MaxFutureSkew, limits: z.opts.attrLimits()}
	spans, err := decodeZipkinV2(body, c)
	if err != nil {
		return fail(http.StatusBadRequest, reasonBadRequest, err.Error())
	}
	out := writeSpans(r.Context(), z.sink, z.log, z.self, c, spans)
	switch {
	case out.code == 0:
	case out.err != nil && out.reason == reasonStorage:
		return fail(http.StatusServiceUnavailable, out.reason, out.err.Error())
	case out.code == codes.ResourceExhausted && out.retryAfter > 0:
		w.Header().Set("Retry-After", retryAfterSeconds(out.retryAfter))
		return fail(http.StatusTooManyRequests, out.reason, out.err.Error())
	case out.code == codes.ResourceExhausted:
		return fail(http.StatusRequestEntityTooLarge, out.reason, out.err.Error())
	case out.err != nil:
		return fail(http.StatusBadRequest, out.reason, out.err.Error())
	}
	w.WriteHeader(http.StatusAccepted)
	return http.StatusAccepted, out.reason
}

var errZipkinUnsupportedEncoding = errors.New("unsupported Content-Encoding")

func (z *Zipkin) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	limit := z.opts.MaxRequestBytes
	body, err := readMetricsBody(w, r, limit)
	if err != nil {
		return nil, err
	}
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		return body, nil
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("gunzip request body: %w", err)
		}
		plain, err := io.ReadAll(io.LimitReader(zr, limit+1))
		if err != nil {
			return nil, fmt.Errorf("gunzip request body: %w", err)
		}
		if int64(len(plain)) > limit {
			return nil, fmt.Errorf("%w: decompressed body over %d bytes", errBodyTooLarge, limit)
		}
		return plain, nil
	default:
		return nil, fmt.Errorf("%w %q: send gzip or no encoding", errZipkinUnsupportedEncoding, enc)
	}
}

// zipkinSpan is a Zipkin v2 span (zipkin2.Span's JSON).
type zipkinSpan struct {
	TraceID        string             `json:"traceId"`
	ID             string             `json:"id"`
	ParentID       string             `json:"parentId"`
	Name           string             `json:"name"`
	Kind           string             `json:"kind"`
	Timestamp      int64              `json:"timestamp"` // µs
	Duration       int64              `json:"duration"`  // µs
	Debug          bool               `json:"debug"`
	Shared         bool               `json:"shared"`
	LocalEndpoint  *zipkinEndpoint    `json:"localEndpoint"`
	RemoteEndpoint *zipkinEndpoint    `json:"remoteEndpoint"`
	Annotations    []zipkinAnnotation `json:"annotations"`
	Tags           map[string]string  `json:"tags"`
}

type zipkinEndpoint struct {
	ServiceName string `json:"serviceName"`
	IPv4        string `json:"ipv4"`
	IPv6        string `json:"ipv6"`
	Port        int    `json:"port"`
}

type zipkinAnnotation struct {
	Timestamp int64  `json:"timestamp"`
	Value     string `json:"value"`
}

// decodeZipkinV2 parses a JSON array of Zipkin v2 spans and keeps those c accepts. A body
// that is not such an array is an error.
func decodeZipkinV2(body []byte, c *spanCheck) ([]traces.Span, error) {
	var zs []zipkinSpan
	if err := json.Unmarshal(body, &zs); err != nil {
		return nil, fmt.Errorf("decode Zipkin v2 JSON: %w", err)
	}
	out := make([]traces.Span, 0, len(zs))
	for i := range zs {
		s, reason, err := convertZipkin(&zs[i])
		if err != nil {
			c.total++
			c.reject(reason, fmt.Errorf("span %d: %w", i, err))
			continue
		}
		if c.ok(&s) {
			out = append(out, s)
		}
	}
	return out, nil
}

func convertZipkin(z *zipkinSpan) (traces.Span, rejectReason, error) {
	var s traces.Span
	if err := parseZipkinID(s.TraceID[:], z.TraceID, true); err != nil {
		return s, reasonBadTraceID, fmt.Errorf("traceId: %w", err)
	}
	if err := parseZipkinID(s.SpanID[:], z.ID, false); err != nil {
		return s, reasonBadSpanID, fmt.Errorf("id: %w", err)
	}
	if z.ParentID != "" {
		if err := parseZipkinID(s.ParentSpanID[:], z.ParentID, false); err != nil {
			return s, reasonBadSpanID, fmt.Errorf("parentId: %w", err)
		}
	}
	if z.Timestamp <= 0 || z.Duration < 0 {
		return s, reasonMissingTime, errors.New("timestamp missing or duration negative")
	}
	s.Name = z.Name
	s.Service = unknownService
	if z.LocalEndpoint != nil && z.LocalEndpoint.ServiceName != "" {
		s.Service = z.LocalEndpoint.ServiceName
	}
	s.Start = time.UnixMicro(z.Timestamp).UTC()
	s.End = s.Start.Add(time.Duration(z.Duration) * time.Microsecond)
	switch strings.ToUpper(z.Kind) {
	case "CLIENT":
		s.Kind = traces.SpanKindClient
	case "SERVER":
		s.Kind = traces.SpanKindServer
	case "PRODUCER":
		s.Kind = traces.SpanKindProducer
	case "CONSUMER":
		s.Kind = traces.SpanKindConsumer
	default:
		s.Kind = traces.SpanKindUnspecified
	}
	if z.Debug {
		s.Flags |= 1 // sampled
	}
	keys := make([]string, 0, len(z.Tags))
	for k := range z.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := z.Tags[k]
		switch k {
		case "error":
			s.StatusCode = traces.StatusError
			if v != "" && v != "true" {
				s.StatusMessage = v
			}
			continue
		case "otel.status_code":
			switch v {
			case "ERROR":
				s.StatusCode = traces.StatusError
			case "OK":
				s.StatusCode = traces.StatusOK
			}
			continue
		case "otel.status_description":
			s.StatusMessage = v
			continue
		}
		s.Attributes = append(s.Attributes, traces.Attribute{Key: k, Value: traces.StringValue(v)})
	}
	if re := z.RemoteEndpoint; re != nil {
		if re.ServiceName != "" {
			s.Attributes = append(s.Attributes, traces.Attribute{Key: "peer.service", Value: traces.StringValue(re.ServiceName)})
		}
		if ip := cmpOr(re.IPv4, re.IPv6); ip != "" {
			s.Attributes = append(s.Attributes, traces.Attribute{Key: "net.peer.ip", Value: traces.StringValue(ip)})
		}
		if re.Port != 0 {
			s.Attributes = append(s.Attributes, traces.Attribute{Key: "net.peer.port", Value: traces.IntValue(int64(re.Port))})
		}
	}
	if le := z.LocalEndpoint; le != nil {
		if ip := cmpOr(le.IPv4, le.IPv6); ip != "" {
			s.Resource = append(s.Resource, traces.Attribute{Key: "host.ip", Value: traces.StringValue(ip)})
		}
	}
	for _, a := range z.Annotations {
		s.Events = append(s.Events, traces.Event{Time: time.UnixMicro(a.Timestamp).UTC(), Name: a.Value})
	}
	return s, "", nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// parseZipkinID decodes a hex id into dst (8 or 16 bytes). Zipkin trace ids are 16 or 32
// hex digits; a 16-digit trace id fills the low half. Span ids are 16 digits. Shorter ids
// are left-padded with zeros, as Zipkin does.
func parseZipkinID(dst []byte, s string, trace bool) error {
	maxLen := 2 * len(dst)
	if s == "" || len(s) > maxLen {
		return fmt.Errorf("%q: want 1 to %d hex digits", s, maxLen)
	}
	if len(s)%2 == 1 {
		s = "0" + s
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return fmt.Errorf("%q: %w", s, err)
	}
	clear(dst)
	copy(dst[len(dst)-len(b):], b)
	_ = trace
	return nil
}
