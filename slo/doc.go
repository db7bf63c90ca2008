// Package slo turns service-level objective specs (OpenSLO v1 and Vigil's short form) into
// SLIs: recording rules for the error ratio over each window, error budgets, burn rates, and
// the multi-window multi-burn-rate alerts of the Google SRE Workbook, plus the default
// golden-signal alerts for every service. Its alerts go to the alerting package's router.
//
// It speaks PromQL and rule groups only; it must not know how metrics are stored or how alerts
// are delivered.
package slo
