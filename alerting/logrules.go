package alerting

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/rules"
)

// LogsLabel is the reserved label that makes a PromQL selector read logs instead of metrics:
// count_over_time({__logs__="level:error AND service:checkout"}[5m]) > 10 counts the log
// records matching the query over the last 5 minutes (see the package doc).
const LogsLabel = "__logs__"

// logCount is a log rule's expression: count the records matching query over window, keep
// the count if it compares (op) with threshold, or always if op is 0.
type logCount struct {
	query     string
	window    time.Duration
	op        parser.ItemType
	threshold float64
}

const logShape = `log rules read logs only as count_over_time({` + LogsLabel + `="<log query>"}[<range>]), optionally compared with a number: count_over_time({` + LogsLabel + `="level:error"}[5m]) > 10`

// logCountOf reports whether e reads logs and, if it does, what it counts. An expression that
// mentions LogsLabel anywhere but not in the one supported shape is an error.
func logCountOf(e parser.Expr) (logCount, bool, error) {
	if !readsLogs(e) {
		return logCount{}, false, nil
	}
	var lc logCount
	if b, ok := unparen(e).(*parser.BinaryExpr); ok {
		num, isNum := unparen(b.RHS).(*parser.NumberLiteral)
		if !b.Op.IsComparisonOperator() || b.ReturnBool || !isNum {
			return logCount{}, true, errors.New(logShape)
		}
		lc.op, lc.threshold = b.Op, num.Val
		e = b.LHS
	}
	call, ok := unparen(e).(*parser.Call)
	if !ok || call.Func.Name != "count_over_time" || len(call.Args) != 1 {
		return logCount{}, true, errors.New(logShape)
	}
	ms, ok := call.Args[0].(*parser.MatrixSelector)
	if !ok || ms.RangeExpr != nil || ms.Range <= 0 {
		return logCount{}, true, errors.New(logShape)
	}
	vs, ok := ms.VectorSelector.(*parser.VectorSelector)
	if !ok || vs.Name != "" || len(vs.LabelMatchers) != 1 {
		return logCount{}, true, fmt.Errorf("%s (and no other label matcher)", logShape)
	}
	m := vs.LabelMatchers[0]
	if m.Name != LogsLabel || m.Type != labels.MatchEqual {
		return logCount{}, true, fmt.Errorf("the %s matcher must be =, not %s", LogsLabel, m.Type)
	}
	if vs.OriginalOffset != 0 || vs.OriginalOffsetExpr != nil || vs.Timestamp != nil || vs.StartOrEnd != 0 {
		return logCount{}, true, fmt.Errorf("log rules take no offset or @ modifier (use the group's query_offset)")
	}
	lc.query, lc.window = m.Value, ms.Range
	return lc, true, nil
}

func readsLogs(e parser.Expr) bool {
	found := false
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			for _, m := range vs.LabelMatchers {
				if m.Name == LogsLabel {
					found = true
				}
			}
		}
		return nil
	})
	return found
}

func unparen(e parser.Expr) parser.Expr {
	for {
		p, ok := e.(*parser.ParenExpr)
		if !ok {
			return e
		}
		e = p.Expr
	}
}

func (lc logCount) keep(v float64) bool {
	switch lc.op {
	case 0:
		return true
	case parser.EQLC:
		return v == lc.threshold
	case parser.NEQ:
		return v != lc.threshold
	case parser.GTR:
		return v > lc.threshold
	case parser.LSS:
		return v < lc.threshold
	case parser.GTE:
		return v >= lc.threshold
	case parser.LTE:
		return v <= lc.threshold
	}
	return false
}

// ruleParser is the PromQL parser rule files are read with. It parses every expression with
// Prometheus's parser, and holds those reading logs to the one shape Vigil evaluates, so that
// rulefmt reports a bad log rule with its file and line like any bad expression.
type ruleParser struct {
	parser.Parser
	logs LogCounter // nil: log rules are refused
}

func (p ruleParser) ParseExpr(in string) (parser.Expr, error) {
	e, err := p.Parser.ParseExpr(in)
	if err != nil {
		return e, err
	}
	lc, isLog, err := logCountOf(e)
	switch {
	case !isLog:
		return e, nil
	case err != nil:
		return e, err
	case p.logs == nil:
		return e, errors.New("log rules need a log store, and none is configured")
	}
	if v, ok := p.logs.(LogQueryValidator); ok {
		if err := v.ValidateLogQuery(lc.query); err != nil {
			return e, fmt.Errorf("log query %q: %w", lc.query, err)
		}
	}
	return e, nil
}

// logQueryFunc evaluates log rules with the LogCounter and hands every other expression to
// next. A log rule yields one sample, without labels, like count_over_time of one series.
func (r *Rules) logQueryFunc(next rules.QueryFunc) rules.QueryFunc {
	return func(ctx context.Context, qs string, t time.Time) (promql.Vector, error) {
		if !strings.Contains(qs, LogsLabel) {
			return next(ctx, qs, t)
		}
		lc, ok := r.logCountOf(qs)
		if !ok {
			return next(ctx, qs, t)
		}
		if r.deps.Logs == nil { // refused at load; kept for safety
			return nil, errors.New("log rule without a log store")
		}
		r.metrics.logQueries.Inc()
		n, err := r.deps.Logs.CountLogs(ctx, lc.query, t.Add(-lc.window), t)
		if err != nil {
			r.metrics.logQueryFailures.Inc()
			return nil, fmt.Errorf("count logs %q over %s: %w", lc.query, lc.window, err)
		}
		v := float64(n)
		if !lc.keep(v) {
			return promql.Vector{}, nil
		}
		return promql.Vector{{T: t.UnixMilli(), F: v, Metric: labels.EmptyLabels()}}, nil
	}
}

// logCountOf parses a rule's expression as the rule manager prints it. Rule files were
// checked when loaded, so an error here means qs does not read logs.
func (r *Rules) logCountOf(qs string) (logCount, bool) {
	e, err := r.parser.Parser.ParseExpr(qs)
	if err != nil {
		return logCount{}, false
	}
	lc, ok, err := logCountOf(e)
	return lc, ok && err == nil
}

// logsLink is the link to the records an alert of a log rule counted: from a window before
// the alert became active to when it was last evaluated or resolved. Times are RFC 3339.
func logsLink(externalURL string, lc logCount, a *rules.Alert) string {
	end := a.LastSentAt
	if !a.ResolvedAt.IsZero() {
		end = a.ResolvedAt
	}
	if end.IsZero() {
		end = a.ActiveAt
	}
	v := url.Values{}
	v.Set("q", lc.query)
	v.Set("start", a.ActiveAt.Add(-lc.window).UTC().Format(time.RFC3339))
	v.Set("end", end.UTC().Format(time.RFC3339))
	return externalURL + "/logs?" + v.Encode()
}
