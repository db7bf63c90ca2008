package slo

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// SLO is one validated service-level objective, whatever form it was written in.
type SLO struct {
	// Name is unique in a Set; it is the value of the `slo` label of every series and alert.
	Name        string
	Service     string
	Description string
	// Objective is the target fraction of good events (or good time slices), in (0, 1).
	Objective float64
	Window    Window
	Budgeting Budgeting
	SLI       SLI
	// BurnAlerts are the multi-window burn-rate alerts; empty when disabled.
	BurnAlerts []BurnAlert
	// Labels are added to every series and alert of the SLO.
	Labels map[string]string
	// File and Line are where the spec was read.
	File string
	Line int
}

// ErrorBudget is 1 - objective.
func (s *SLO) ErrorBudget() float64 { return round12(1 - s.Objective) }

// Window is the period an SLO is measured over: rolling (the last Rolling) or a calendar
// period (the current day, week starting Monday, or month, in UTC).
type Window struct {
	Rolling  time.Duration
	Calendar Calendar
}

// Calendar is a calendar period, or "" for a rolling window.
type Calendar string

const (
	CalendarDay   Calendar = "day"
	CalendarWeek  Calendar = "week"
	CalendarMonth Calendar = "month"
)

func (w Window) String() string {
	if w.Calendar != "" {
		return "calendar " + string(w.Calendar)
	}
	return promDuration(w.Rolling)
}

// Start returns the start of the calendar period holding t, in UTC.
func (c Calendar) Start(t time.Time) time.Time {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	switch c {
	case CalendarWeek:
		return day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
	case CalendarMonth:
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	default:
		return day
	}
}

// Length is the nominal length of the period, used to name its recorded series.
func (c Calendar) Length() time.Duration {
	switch c {
	case CalendarWeek:
		return 7 * 24 * time.Hour
	case CalendarMonth:
		return 30 * 24 * time.Hour
	default:
		return 24 * time.Hour
	}
}

// Budgeting is how errors are counted: occurrences (bad events over all events) or time
// slices (bad slices over all slices; a slice is good when its good-event ratio reaches
// SliceTarget).
type Budgeting struct {
	Timeslices  bool
	SliceWindow time.Duration
	SliceTarget float64
}

// SLIKind names where an SLI comes from.
type SLIKind string

const (
	SLIAvailability SLIKind = "availability" // error and total event queries
	SLIRatio        SLIKind = "ratio"        // OpenSLO ratioMetric
	SLILatency      SLIKind = "latency"      // a histogram and a threshold
	SLISaturation   SLIKind = "saturation"   // a resource query and a limit
	SLIThreshold    SLIKind = "threshold"    // OpenSLO thresholdMetric
	SLISpanErrors   SLIKind = "span_errors"  // span metrics, by status code
	SLISpanLatency  SLIKind = "span_latency" // span metrics, duration histogram
)

// SLI is an indicator as a PromQL template of its error ratio over a range: every
// {{.window}} in ErrorRatio is replaced by the range ("5m", "30d").
type SLI struct {
	Kind       SLIKind
	ErrorRatio string
	// Events is a PromQL template of the SLI's event count (or rate) over {{.window}}, the
	// denominator of ErrorRatio; "" for an SLI of time rather than events (saturation,
	// threshold). With it the SLO window's ratio is weighted by events (see windowExpr).
	Events string
}

var windowPlaceholder = regexp.MustCompile(`\{\{\s*\.window\s*\}\}`)

// ErrorRatioOver returns the SLI's error-ratio expression over the range d, as occurrences
// or time slices.
func (s *SLO) ErrorRatioOver(d time.Duration) string {
	r := promDuration(d)
	expr := windowPlaceholder.ReplaceAllLiteralString(s.SLI.ErrorRatio, r)
	if !s.Budgeting.Timeslices {
		return expr
	}
	slice := promDuration(s.Budgeting.SliceWindow)
	inSlice := windowPlaceholder.ReplaceAllLiteralString(s.SLI.ErrorRatio, slice)
	return fmt.Sprintf("avg_over_time(((%s) > bool %s)[%s:%s])", inSlice, formatFloat(round12(1-s.Budgeting.SliceTarget)), r, slice)
}

// BurnAlert is one multi-window burn-rate alert: it fires while the burn rate over both the
// long and the short window exceeds Factor.
type BurnAlert struct {
	Long, Short time.Duration
	Factor      float64
	Severity    string
}

// DefaultBurnAlerts are the Google SRE Workbook's (chapter 5, table 5-8): two that page and
// two that open a ticket.
func DefaultBurnAlerts() []BurnAlert {
	return []BurnAlert{
		{Long: time.Hour, Short: 5 * time.Minute, Factor: 14.4, Severity: "critical"},
		{Long: 6 * time.Hour, Short: 30 * time.Minute, Factor: 6, Severity: "critical"},
		{Long: 24 * time.Hour, Short: 2 * time.Hour, Factor: 3, Severity: "medium"},
		{Long: 72 * time.Hour, Short: 6 * time.Hour, Factor: 1, Severity: "medium"},
	}
}

// Severities are the alert router's.
var severities = map[string]bool{"critical": true, "high": true, "medium": true, "low": true}

// recordedWindows are the error-ratio ranges recorded for every SLO, besides its window and
// any burn-alert window.
var recordedWindows = []time.Duration{
	5 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 6 * time.Hour, 24 * time.Hour, 72 * time.Hour,
}

// Windows returns the ranges whose error ratio is recorded for s, shortest first.
func (s *SLO) Windows() []time.Duration {
	seen := map[time.Duration]bool{}
	var out []time.Duration
	add := func(d time.Duration) {
		if d > 0 && !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	for _, d := range recordedWindows {
		add(d)
	}
	for _, a := range s.BurnAlerts {
		add(a.Long)
		add(a.Short)
	}
	add(s.windowRange())
	sortDurations(out)
	return out
}

// windowRange is the range recorded as the SLO window: the rolling window, or the nominal
// length of the calendar period (the API computes the calendar period exactly).
func (s *SLO) windowRange() time.Duration {
	if s.Window.Calendar != "" {
		return s.Window.Calendar.Length()
	}
	return s.Window.Rolling
}

func sortDurations(ds []time.Duration) {
	for i := 1; i < len(ds); i++ {
		for j := i; j > 0 && ds[j] < ds[j-1]; j-- {
			ds[j], ds[j-1] = ds[j-1], ds[j]
		}
	}
}

// baseWindow is the shortest fixed recorded window; the SLO window's ratio is derived from
// its series.
const baseWindow = 5 * time.Minute

// Names of the event rates recorded over the base window, from which the SLO window's ratio
// of an SLI of events is derived.
const (
	// EventsRateMetric is the SLI's events per second (or per base window) over 5m.
	EventsRateMetric = "slo:sli_total:rate5m"
	// ErrorsRateMetric is its failed events over 5m: the 5m error ratio times the events,
	// recorded only while there are events (so that an idle 5m, 0/0, leaves a gap rather
	// than a NaN that would poison every sum over the window).
	ErrorsRateMetric = "slo:sli_error:rate5m"
)

// windowFromRecorded reports whether the SLO window's error ratio is derived from the
// recorded 5m series rather than read from raw samples: it is when the window is longer than
// 5m and no fixed recorded window or burn-rate alert uses the same range (an alert needs the
// exact value from its first evaluation, not the ratio since recording began).
func (s *SLO) windowFromRecorded() bool {
	w := s.windowRange()
	if w <= baseWindow {
		return false
	}
	for _, d := range recordedWindows {
		if d == w {
			return false
		}
	}
	for _, a := range s.BurnAlerts {
		if a.Long == w || a.Short == w {
			return false
		}
	}
	return true
}

// eventWeighted reports whether the window's ratio is failed events over events (an SLI of
// events counted by occurrences) rather than the time average of the 5m ratio (time slices,
// saturation, thresholds: SLIs of time, where the time average is the exact answer).
func (s *SLO) eventWeighted() bool { return !s.Budgeting.Timeslices && s.SLI.Events != "" }

// recordedRatioOver is the error ratio over rng from the series recorded at 5m: the failed
// events over the events in the range (sum_over_time of both rates, each evaluation weighing
// as much as its traffic), or the average of the 5m ratio. Reading one sample per evaluation
// instead of every raw sample of every source series is what makes a 30d window cheap; the
// price is that the range only holds what the rules have recorded (see the API's fallback).
func (s *SLO) recordedRatioOver(rng time.Duration) string {
	sel := "{slo=" + quoteLabel(s.Name) + "}"
	r := promDuration(rng)
	if s.eventWeighted() {
		return fmt.Sprintf("sum_over_time(%s%s[%s])\n/\nsum_over_time(%s%s[%s])", ErrorsRateMetric, sel, r, EventsRateMetric, sel, r)
	}
	return fmt.Sprintf("avg_over_time(%s%s[%s])", ErrorRatioMetric(baseWindow), sel, r)
}

// ErrorRatioMetric is the name of the recorded error ratio over d.
func ErrorRatioMetric(d time.Duration) string { return "slo:sli_error:ratio_rate" + promDuration(d) }

func promDuration(d time.Duration) string { return model.Duration(d).String() }

func round12(v float64) float64 { return math.Round(v*1e12) / 1e12 }

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// quoteLabel quotes a label value for PromQL.
func quoteLabel(v string) string { return strconv.Quote(v) }

var nameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.:-]*$`)

func validName(s string) bool { return nameRE.MatchString(s) && !strings.Contains(s, "..") }

func modelParseDuration(s string) (time.Duration, error) {
	d, err := model.ParseDuration(s)
	return time.Duration(d), err
}
