// Package alerting evaluates Prometheus rule files (alerting and recording rules, and Vigil's
// log-query rules) against Vigil's stores, and routes the resulting alerts with the
// Alertmanager packages: route tree, grouping, inhibition, silences, notification log, plus
// escalation policies (which Alertmanager lacks), to Slack, PagerDuty and webhook receivers.
// Its state (silences, notification log, acknowledgements) lives under <data-dir>/alerting.
//
// It reads the stores only through query interfaces declared here; it must not know their
// on-disk formats, nor any ingest protocol.
package alerting
