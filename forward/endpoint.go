package forward

import (
	"crypto/tls"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"
)

// Protocols an endpoint speaks.
const (
	ProtocolGRPC = "grpc"
	ProtocolHTTP = "http/protobuf"
)

// EndpointOptions is one OTLP endpoint Vigil forwards to.
type EndpointOptions struct {
	// Name names the endpoint in metrics and logs and its queue directory.
	Name string
	// Protocol is ProtocolGRPC or ProtocolHTTP.
	Protocol string
	// Endpoint is host:port for gRPC (or http://host:port, plaintext, or https://host:port),
	// a base URL for OTLP/HTTP (/v1/traces, /v1/logs and /v1/metrics are appended unless the
	// signal's URL is given).
	Endpoint                       string
	TracesURL, LogsURL, MetricsURL string
	Headers                        map[string]string
	// TLS is the client TLS configuration (nil: Go's defaults when TLS is used). Insecure
	// makes a gRPC endpoint plaintext; OTLP/HTTP follows its URLs' scheme.
	TLS      *tls.Config
	Insecure bool
	// Compression is "gzip" or "none".
	Compression string
	// Signals the endpoint receives.
	Signals []Signal
	Filter  Filter
	// Queue bounds the endpoint's on-disk queue and says what it does when full; Dropped is
	// set by the forwarder.
	Queue QueueOptions
	// Timeout bounds one export call.
	Timeout time.Duration
	// RetryInitial and RetryMax bound the exponential backoff between retries (a longer
	// Retry-After or RetryInfo from the endpoint wins, up to retryAfterCap).
	RetryInitial, RetryMax time.Duration
	// MaxBatchBytes caps the queued requests merged into one export (uncompressed); a single
	// request larger than it is sent alone.
	MaxBatchBytes int
}

// retryAfterCap bounds how long an endpoint's Retry-After may hold a sender.
const retryAfterCap = 5 * time.Minute

var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// withDefaults fills zero fields.
func (o EndpointOptions) withDefaults() EndpointOptions {
	if o.Protocol == "" {
		o.Protocol = ProtocolGRPC
	}
	if o.Compression == "" {
		o.Compression = "gzip"
	}
	if len(o.Signals) == 0 {
		o.Signals = []Signal{SignalTraces, SignalLogs, SignalMetrics}
	}
	if o.Queue.MaxBytes <= 0 {
		o.Queue.MaxBytes = 1 << 30
	}
	if o.Queue.OnFull == "" {
		o.Queue.OnFull = DropOldest
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.RetryInitial <= 0 {
		o.RetryInitial = time.Second
	}
	if o.RetryMax <= 0 {
		o.RetryMax = 30 * time.Second
	}
	if o.MaxBatchBytes <= 0 {
		o.MaxBatchBytes = 2 << 20
	}
	return o
}

// Validate reports what in o cannot work.
func (o EndpointOptions) Validate() error {
	var errs []error
	if !validName.MatchString(o.Name) {
		errs = append(errs, fmt.Errorf("name %q: want 1 to 64 letters, digits, '_', '.' or '-', not starting with a punctuation mark", o.Name))
	}
	switch o.Protocol {
	case ProtocolGRPC, ProtocolHTTP, "":
	default:
		errs = append(errs, fmt.Errorf("protocol %q: want %s or %s", o.Protocol, ProtocolGRPC, ProtocolHTTP))
	}
	if o.Endpoint == "" && (o.Protocol != ProtocolHTTP || o.TracesURL == "" && o.LogsURL == "" && o.MetricsURL == "") {
		errs = append(errs, errors.New("endpoint is required"))
	}
	switch o.Compression {
	case "", "gzip", "none":
	default:
		errs = append(errs, fmt.Errorf("compression %q: want gzip or none", o.Compression))
	}
	switch o.Queue.OnFull {
	case "", DropOldest, Backpressure:
	default:
		errs = append(errs, fmt.Errorf("on_full %q: want %s or %s", o.Queue.OnFull, DropOldest, Backpressure))
	}
	return errors.Join(errs...)
}

func (o EndpointOptions) selects(s Signal) bool { return slices.Contains(o.Signals, s) }
