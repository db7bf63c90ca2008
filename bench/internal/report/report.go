// Package report collects the figures of a bench/ driver — one value per target and round —
// and prints them as tables: each target's median over the rounds, min..max, and the ratio of
// medians against the reference peer. It also holds the latency quantiles the drivers use.
package report

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
)

// Results holds every figure, per metric and target, one value per round.
type Results struct {
	targets  []string // column order
	peer     string   // ratios are against this target's median
	order    []string // metric titles in first-seen order
	metrics  map[string]*metric
	failures []string
}

type metric struct {
	title, unit string
	better      Better
	values      map[string][]float64
}

// Better says which way a figure should go.
type Better int

const (
	Lower  Better = iota
	Higher        // throughput
	Check         // neither: equal values across targets are the point (e.g. hit counts)
)

func (b Better) String() string {
	switch b {
	case Higher:
		return "higher is better"
	case Check:
		return "a check: should be equal"
	}
	return "lower is better"
}

// New returns empty results for targets, with ratios against peer.
func New(targets []string, peer string) *Results {
	return &Results{targets: targets, peer: peer, metrics: map[string]*metric{}}
}

// Add records target's value of the metric title in one round.
func (r *Results) Add(title, unit string, better Better, target string, v float64) {
	m := r.metrics[title]
	if m == nil {
		m = &metric{title: title, unit: unit, better: better, values: map[string][]float64{}}
		r.metrics[title] = m
		r.order = append(r.order, title)
	}
	m.values[target] = append(m.values[target], v)
}

// Failure records something that did not finish and so has no figure.
func (r *Results) Failure(s string) { r.failures = append(r.failures, s) }

// Print writes one table per metric.
func (r *Results) Print(w io.Writer) {
	for _, title := range r.order {
		m := r.metrics[title]
		fmt.Fprintf(w, "\n## %s (%s, %s)\n", m.title, m.unit, m.better)
		fmt.Fprintf(w, "%-14s %14s %24s %16s\n", "system", "median", "min..max", "vs "+r.peer)
		ref, haveRef := m.values[r.peer]
		for _, t := range r.targets {
			vs, ok := m.values[t]
			if !ok {
				continue
			}
			med := Median(vs)
			spread := ""
			if len(vs) > 1 {
				spread = fmt.Sprintf("%s..%s", Num(slices.Min(vs)), Num(slices.Max(vs)))
			}
			fmt.Fprintf(w, "%-14s %14s %24s %16s\n", t, Num(med), spread, ratio(med, Median(ref), haveRef))
		}
	}
	if len(r.failures) > 0 {
		fmt.Fprintf(w, "\n## Failed runs (no figures recorded for what did not finish)\n")
		for _, f := range r.failures {
			fmt.Fprintf(w, "- %s\n", f)
		}
	}
}

func ratio(v, ref float64, have bool) string {
	if !have || ref == 0 || math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.2fx", v/ref)
}

// Num formats a figure with a precision that suits its size.
func Num(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e5:
		return fmt.Sprintf("%.0f", v)
	case a >= 100:
		return fmt.Sprintf("%.1f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3f", v)
	}
}

// Median of xs (0 for none).
func Median(xs []float64) float64 { return Quantile(xs, 0.5) }

// Quantile by nearest rank (p99 of 20 runs is the slowest one).
func Quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	i := int(float64(len(s))*q+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}
