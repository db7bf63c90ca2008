// Package slo turns service-level objective specs (OpenSLO v1 and Vigil's short form) into
// SLIs: recording rules for the error ratio over each window, error budgets, burn rates, and
// the multi-window multi-burn-rate alerts of the Google SRE Workbook, plus the default
// golden-signal alerts for every service. Its alerts go to the alerting package's router.
//
// It speaks PromQL and rule groups only; it must not know how metrics are stored or how alerts
// are delivered.
//
// Load reads spec files (native form: load_native.go; OpenSLO v1: load_openslo.go) into an
// immutable Set; every SLI becomes a PromQL template of its error ratio over {{.window}}.
// Set.RuleGroups renders Prometheus rule groups: per SLO, slo:sli_error:ratio_rate<range>
// recording rules (5m 30m 1h 2h 6h 1d 3d, the burn-alert windows and the SLO window, all
// labelled slo and service), slo:objective:ratio, and ErrorBudgetBurn alerts (burn rate =
// error ratio / (1 - objective), over a long and a short window, no `for`); and the
// golden-signals group over the span metrics of traces/generator_span_metrics.go (SERVER
// spans). NewAPI serves /api/v1/slos from the recorded series and ALERTS.
//
// Invariants: an invalid spec never reaches the rules (Load refuses it with file, line,
// field and reason, and keeps the valid ones); the generated file always passes
// rulefmt.Parse; the package holds no global state and imports no Vigil package.
package slo
