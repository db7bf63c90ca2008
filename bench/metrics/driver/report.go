package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/vigilhq/vigil/bench/internal/report"
)

// results holds every figure: per series count, per metric, per target, one value per round.
type results struct {
	order    []string // metric keys in first-seen order
	metrics  map[string]*metric
	failures []string
}

type metric struct {
	series       int
	title, unit  string
	higherBetter bool
	values       map[string][]float64
}

func newResults() *results { return &results{metrics: map[string]*metric{}} }

func (r *results) add(series int, title, unit string, higherBetter bool, target string, v float64) {
	key := fmt.Sprintf("%d|%s", series, title)
	m := r.metrics[key]
	if m == nil {
		m = &metric{series: series, title: title, unit: unit, higherBetter: higherBetter, values: map[string][]float64{}}
		r.metrics[key] = m
		r.order = append(r.order, key)
	}
	m.values[target] = append(m.values[target], v)
}

func (r *results) failure(s string) { r.failures = append(r.failures, s) }

// print writes one table per metric: the median over rounds (min..max when there are several),
// and the ratio of medians against Prometheus and against VictoriaMetrics.
func (r *results) print(w io.Writer, c config) {
	fmt.Fprintf(w, "\n# Vigil metrics benchmark: %d round(s), targets in order %s, loadgen %d shards x %d samples/request\n",
		c.rounds, strings.Join(c.targets, ", "), c.shards, c.batch)
	names := append([]string{}, c.targets...)
	for _, t := range c.restartTargets {
		if !slices.Contains(names, t) {
			names = append(names, t)
		}
	}
	for _, key := range r.order {
		m := r.metrics[key]
		dir := "lower is better"
		if m.higherBetter {
			dir = "higher is better"
		}
		fmt.Fprintf(w, "\n## %s — %d active series (%s, %s)\n", m.title, m.series, m.unit, dir)
		fmt.Fprintf(w, "%-16s %14s %24s %14s %16s\n", "system", "median", "min..max", "vs prometheus", "vs victoriametr.")
		prom, vm := report.Median(m.values["prometheus"]), report.Median(m.values["victoriametrics"])
		for _, t := range names {
			vs, ok := m.values[t]
			if !ok {
				continue
			}
			med := report.Median(vs)
			spread := ""
			if len(vs) > 1 {
				spread = fmt.Sprintf("%s..%s", report.Num(slices.Min(vs)), report.Num(slices.Max(vs)))
			}
			fmt.Fprintf(w, "%-16s %14s %24s %14s %16s\n", t, report.Num(med), spread, ratio(med, prom, m.values["prometheus"] != nil), ratio(med, vm, m.values["victoriametrics"] != nil))
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
