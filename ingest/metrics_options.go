package ingest

import "github.com/prometheus/client_golang/prometheus"

// MetricsIngestOptions bounds what one metrics write request (remote write,
// OTLP metrics, text import) may carry. A zero or negative field means "use the
// default" from DefaultMetricsIngestOptions.
type MetricsIngestOptions struct {
	// MaxRequestBytes caps the request body, both as sent and after
	// decompression. Larger requests are answered 413. Prometheus's
	// remote-write receiver caps the decompressed body at 32 MiB on its own,
	// so values above that only raise the limit for OTLP and import.
	MaxRequestBytes int64
	// MaxSeriesPerRequest caps the distinct series in one request. Larger
	// requests are rejected whole (413 over HTTP, InvalidArgument over gRPC)
	// before anything is written.
	MaxSeriesPerRequest int
	// MaxLabelNameLength, MaxLabelValueLength and MaxLabelsPerSeries bound
	// every series, metric name included. Violations are "bad_labels".
	MaxLabelNameLength  int
	MaxLabelValueLength int
	MaxLabelsPerSeries  int
	// MaxActiveSeries caps the series the store holds in memory (0: no cap). Past it, samples
	// of series the store already has keep flowing and new series are refused: remote write
	// answers 400 naming the cap after writing the rest, OTLP reports them in its partial
	// success. Reason "series_limit". The store must report its count (ActiveSeries).
	MaxActiveSeries int

	// RemoteWriteSeriesCacheSize bounds the remote write 1.0 series-ref
	// cache: it remembers between this many and twice this many series
	// (default 1Mi, roughly 250 bytes each plus their labels).
	RemoteWriteSeriesCacheSize int

	// Registerer, if not nil, receives the Prometheus library's own handler
	// metrics (prometheus_api_remote_write_*, prometheus_api_otlp_*). Build
	// each handler kind once per Registerer: registering twice panics inside
	// the Prometheus library. Nil keeps them unregistered.
	Registerer prometheus.Registerer
}

// DefaultMetricsIngestOptions returns the limits Vigil uses unless configured.
// Label limits follow Mimir's defaults except MaxLabelsPerSeries, which is
// higher because OTLP resource attributes all land on target_info.
func DefaultMetricsIngestOptions() MetricsIngestOptions {
	return MetricsIngestOptions{
		MaxRequestBytes:     32 << 20,
		MaxSeriesPerRequest: 100_000,
		MaxLabelNameLength:  1024,
		MaxLabelValueLength: 2048,
		MaxLabelsPerSeries:  64,
	}
}

// withDefaults replaces zero or negative fields with the defaults, so a
// partly filled struct from config is always usable.
func (o MetricsIngestOptions) withDefaults() MetricsIngestOptions {
	d := DefaultMetricsIngestOptions()
	if o.MaxRequestBytes <= 0 {
		o.MaxRequestBytes = d.MaxRequestBytes
	}
	if o.MaxSeriesPerRequest <= 0 {
		o.MaxSeriesPerRequest = d.MaxSeriesPerRequest
	}
	if o.MaxLabelNameLength <= 0 {
		o.MaxLabelNameLength = d.MaxLabelNameLength
	}
	if o.MaxLabelValueLength <= 0 {
		o.MaxLabelValueLength = d.MaxLabelValueLength
	}
	if o.MaxLabelsPerSeries <= 0 {
		o.MaxLabelsPerSeries = d.MaxLabelsPerSeries
	}
	return o
}
