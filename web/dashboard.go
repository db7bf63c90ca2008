package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Dashboard is one dashboard file: a title, variables the queries refer to as $name, and
// panels laid out left to right on a 12-column grid. The same shape is read from JSON and
// YAML; unknown keys are errors, so a typo does not silently drop a panel setting.
type Dashboard struct {
	Title       string     `json:"title" yaml:"title"`
	Description string     `json:"description,omitempty" yaml:"description,omitempty"`
	Variables   []Variable `json:"variables,omitempty" yaml:"variables,omitempty"`
	Panels      []Panel    `json:"panels" yaml:"panels"`
}

// Variable is a value the user picks above the panels and the queries use as $name. Its
// choices come from Query (Grafana's label_values(label) or label_values(series, label)) or
// from the fixed Values list.
type Variable struct {
	Name    string   `json:"name" yaml:"name"`
	Label   string   `json:"label,omitempty" yaml:"label,omitempty"`
	Query   string   `json:"query,omitempty" yaml:"query,omitempty"`
	Values  []string `json:"values,omitempty" yaml:"values,omitempty"`
	Default string   `json:"default,omitempty" yaml:"default,omitempty"`
}

// Panel is one box of the grid. Graph, stat and table panels run Query as PromQL (range,
// instant-at-the-end, instant); a logs panel runs it as a log query and shows its volume by
// level or its newest lines (Display). W is the width in twelfths of the row (0: 6), H the
// height in rows of 40 px (0: the type's own).
type Panel struct {
	Title   string `json:"title" yaml:"title"`
	Type    string `json:"type" yaml:"type"`
	Query   string `json:"query" yaml:"query"`
	Display string `json:"display,omitempty" yaml:"display,omitempty"`
	Unit    string `json:"unit,omitempty" yaml:"unit,omitempty"`
	W       int    `json:"w,omitempty" yaml:"w,omitempty"`
	H       int    `json:"h,omitempty" yaml:"h,omitempty"`
}

// PanelTypes are the panel types a dashboard may use; Units the value formats the UI knows.
var (
	PanelTypes  = []string{"graph", "stat", "table", "logs"}
	LogDisplays = []string{"volume", "lines"}
	Units       = []string{"", "none", "percent", "ratio", "ms", "s", "bytes", "reqps"}
)

var varName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// maxDashboardBytes bounds one dashboard file or request body: dashboards are small, and a
// request larger than this is a mistake, not a dashboard.
const maxDashboardBytes = 1 << 20

// decodeDashboard reads a dashboard from JSON (when the text starts with '{') or YAML and
// validates it. The error says where the text is wrong.
func decodeDashboard(b []byte) (Dashboard, error) {
	var d Dashboard
	if len(b) > maxDashboardBytes {
		return d, fmt.Errorf("dashboard is %d bytes, more than the %d allowed", len(b), maxDashboardBytes)
	}
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) == 0 {
		return d, errors.New("dashboard is empty")
	}
	if trimmed[0] == '{' {
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&d); err != nil {
			return d, fmt.Errorf("invalid JSON: %w", jsonPosition(trimmed, err))
		}
		if dec.More() {
			return d, errors.New("invalid JSON: more than one value")
		}
	} else {
		dec := yaml.NewDecoder(bytes.NewReader(trimmed))
		dec.KnownFields(true)
		if err := dec.Decode(&d); err != nil && !errors.Is(err, io.EOF) {
			return d, fmt.Errorf("invalid YAML: %w", err)
		}
	}
	if d.Panels == nil {
		d.Panels = []Panel{}
	}
	return d, d.Validate()
}

// jsonPosition adds the line and column to a JSON syntax error, which only carries a byte
// offset.
func jsonPosition(b []byte, err error) error {
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		return err
	}
	line := 1 + bytes.Count(b[:se.Offset], []byte("\n"))
	col := int(se.Offset) - bytes.LastIndexByte(b[:se.Offset], '\n') - 1
	return fmt.Errorf("line %d, column %d: %w", line, col, err)
}

// Validate returns every problem of d, each naming the panel or variable.
func (d *Dashboard) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if strings.TrimSpace(d.Title) == "" {
		bad("title: must not be empty")
	}
	seen := map[string]bool{}
	for i, v := range d.Variables {
		switch {
		case !varName.MatchString(v.Name):
			bad("variables[%d]: name %q must be letters, digits and _ (used as $name)", i, v.Name)
		case seen[v.Name]:
			bad("variables[%d]: name %q is used twice", i, v.Name)
		}
		seen[v.Name] = true
		if v.Query == "" && len(v.Values) == 0 {
			bad("variables[%d] (%s): needs a query (label_values(...)) or a list of values", i, v.Name)
		}
	}
	for i, p := range d.Panels {
		name := fmt.Sprintf("panels[%d]", i)
		if p.Title != "" {
			name += fmt.Sprintf(" (%q)", p.Title)
		}
		if !slices.Contains(PanelTypes, p.Type) {
			bad("%s: unknown panel type %q; one of %s", name, p.Type, strings.Join(PanelTypes, ", "))
		}
		if strings.TrimSpace(p.Query) == "" {
			bad("%s: query must not be empty", name)
		}
		if p.Type == "logs" && p.Display != "" && !slices.Contains(LogDisplays, p.Display) {
			bad("%s: display %q is not one of %s", name, p.Display, strings.Join(LogDisplays, ", "))
		}
		if p.Type != "logs" && p.Display != "" {
			bad("%s: display is for logs panels only", name)
		}
		if !slices.Contains(Units, p.Unit) {
			bad("%s: unit %q is not one of %s", name, p.Unit, strings.Join(Units[1:], ", "))
		}
		if p.W < 0 || p.W > 12 {
			bad("%s: w must be 1 to 12 (twelfths of the row), got %d", name, p.W)
		}
		if p.H < 0 || p.H > 40 {
			bad("%s: h must be 1 to 40 rows, got %d", name, p.H)
		}
	}
	return errors.Join(errs...)
}
