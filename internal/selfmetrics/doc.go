// Package selfmetrics owns Vigil's own metrics registry: the VictoriaMetrics/metrics sets that
// each component writes its counters to, plus the one prometheus.Registry that the embedded
// Prometheus libraries (TSDB, PromQL, scrape, rules) insist on. Both are served together at
// /metrics in the Prometheus text format, and the same text is what Vigil stores into its own
// TSDB (job="vigil") so it can dashboard and alert on itself.
//
// It knows nothing of HTTP routing, stores or protocols: components hand it sets, it renders them.
// Metric names are a contract with dashboards and alert rules: every name starts with "vigil_"
// (the embedded libraries keep their own "prometheus_" names, and process/Go metrics keep theirs).
package selfmetrics
