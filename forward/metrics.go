package forward

import (
	"fmt"

	"github.com/VictoriaMetrics/metrics"
)

// selfMetrics are the forwarder's vigil_forward_* metrics.
type selfMetrics struct{ set *metrics.Set }

func (m *selfMetrics) counter(name, endpoint string, sig Signal, extra string) *metrics.Counter {
	return m.set.GetOrCreateCounter(fmt.Sprintf(`%s{endpoint=%q,signal=%q%s}`, name, endpoint, sig, extra))
}

// queued counts items appended to an endpoint's queue.
func (m *selfMetrics) queued(endpoint string, sig Signal, n int) {
	m.counter("vigil_forward_queued_total", endpoint, sig, "").Add(n)
}

// sent counts items the endpoint accepted.
func (m *selfMetrics) sent(endpoint string, sig Signal, n int) {
	m.counter("vigil_forward_sent_total", endpoint, sig, "").Add(n)
}

// dropped counts items that will never reach the endpoint: queue_full (drop_oldest),
// rejected (a permanent error from the endpoint), too_large (a batch over the whole queue),
// corrupt (an unreadable entry; signal unknown, counted once per entry).
func (m *selfMetrics) dropped(endpoint string, sig Signal, reason string, n int) {
	m.counter("vigil_forward_dropped_total", endpoint, sig, fmt.Sprintf(",reason=%q", reason)).Add(n)
}

func (m *selfMetrics) retry(endpoint string, sig Signal) {
	m.counter("vigil_forward_retries_total", endpoint, sig, "").Inc()
}

// refused counts ingest batches refused because the endpoint's queue was full (backpressure).
func (m *selfMetrics) refused(endpoint string, sig Signal) {
	m.counter("vigil_forward_refused_batches_total", endpoint, sig, "").Inc()
}
