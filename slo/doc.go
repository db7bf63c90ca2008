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
// The SLO window (30d by default) is not read from raw samples at every evaluation: its
// recorded ratio is derived from series the group records at 5m (rules.go, spec.go's
// recordedRatioOver), as Sloth derives its period ratio from its 5m series. For an SLI of
// events counted by occurrences the group also records the 5m event rate
// (slo:sli_total:rate5m) and failed-event rate (slo:sli_error:rate5m, the 5m ratio times the
// events, absent while there are none), and the window's ratio is
// sum_over_time(errors[30d]) / sum_over_time(events[30d]): weighted by events, as the raw
// ratio is. Time slices and SLIs of time (saturation, thresholds) average the 5m ratio over
// the window, which is their exact answer. Sloth's plain average of the 5m ratio for events
// was measured too and rejected: it weighs a quiet night like a busy noon. Against the raw
// value over the synthetic 7d histories of the tests (TestWindowFromRecordedSeries, 5m rules
// evaluated every minute: go test ./slo/ -run TestWindowFromRecordedSeries -v
// -args -window-eval-step=1m), in percentage points of budget remaining:
//
//	history                                        raw       event-weighted   5m-ratio average
//	steady traffic, 0.1% errors for 3.5 of 7 days  50.0250%  +0.0050          +0.0299
//	time slices, 50 bad minutes of 10080           50.3968%  (n/a)            +0.0000
//	10x day/night swing, 2% errors at night        88.2087%  +0.0020          -38.9561
//
// Cost of one evaluation of the 30d window's ratio over 50 series of 1m data
// (BenchmarkWindowRule; samples from the engine's query statistics): 3,240,000 samples read
// from raw data, 86,400 (two per minute of the window, whatever the number of series) from
// the recorded rates, 37.5x fewer. The recorded series hold only what the rules have
// recorded: until they reach back to the start of the window (within 0.1% of it or 10
// minutes, a tenth of a shorter window; the first window after an SLO is added, or a gap in recording) the API reads the
// window's ratio from raw samples instead and says so (window_source); the recorded window
// series itself, which the burn-down chart plots, is then the ratio since recording began.
// A window equal to a burn-alert or fixed window (say 3d) stays raw: alerts need the exact
// value from their first evaluation. Calendar periods use the recorded 5m series the same
// way once they cover the period's start and at least an hour of it has elapsed.
//
// Invariants: an invalid spec never reaches the rules (Load refuses it with file, line,
// field and reason, and keeps the valid ones); the generated file always passes
// rulefmt.Parse; the package holds no global state and imports no Vigil package.
package slo
