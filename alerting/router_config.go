package alerting

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/dispatch"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// ErrInvalidConfig wraps every reason a router configuration is refused.
var ErrInvalidConfig = errors.New("invalid alerting configuration")

// EscalationPolicyLabel is the route label that names an escalation policy. Route labels are
// Alertmanager's own (`labels:` on a route, inherited by child routes), so a route names its
// policy without any field Alertmanager's strict parser would reject.
const EscalationPolicyLabel = "escalation_policy"

// routerConfig is one parsed configuration file: Alertmanager's part, parsed by Alertmanager's
// own strict parser, and Vigil's `vigil:` section.
type routerConfig struct {
	source string // file name, or "<default>"
	am     *config.Config
	vigil  vigilSection
}

// vigilSection is the top-level `vigil:` key of an alerting configuration file. Alertmanager's
// parser rejects unknown keys, so the section is cut out (its lines blanked, so that line
// numbers in Alertmanager's error messages still point into the real file) before the rest
// is handed to config.Load.
type vigilSection struct {
	EscalationPolicies []EscalationPolicy `yaml:"escalation_policies"`
}

// EscalationPolicy is an ordered list of steps. A group routed by a route whose
// `escalation_policy` label names this policy is notified by its route's receiver as usual;
// once the group has been firing, unacknowledged, for a step's After, that step's receiver is
// notified as well (and re-notified at RepeatInterval while it stays so).
type EscalationPolicy struct {
	Name           string           `yaml:"name"`
	Steps          []EscalationStep `yaml:"steps"`
	RepeatInterval model.Duration   `yaml:"repeat_interval,omitempty"` // default 4h, as Alertmanager's routes
}

// EscalationStep notifies Receiver once the group has fired for After.
type EscalationStep struct {
	After    model.Duration `yaml:"after"`
	Receiver string         `yaml:"receiver"`
}

const defaultEscalationRepeat = model.Duration(4 * time.Hour)

// loadRouterConfigFile reads and validates a configuration file.
// extra are escalation policies from Vigil's own configuration, added to the file's.
func loadRouterConfigFile(path string, extra []EscalationPolicy) (*routerConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: read %s: %w", ErrInvalidConfig, path, err)
	}
	cfg, err := parseRouterConfig(data, path, extra...)
	if err != nil {
		return nil, err
	}
	// Alertmanager's LoadFile resolves relative template paths against the file's directory;
	// config.Load (which we must use, having cut the vigil section out) does not.
	for i, t := range cfg.am.Templates {
		if t != "" && !filepath.IsAbs(t) {
			cfg.am.Templates[i] = filepath.Join(filepath.Dir(path), t)
		}
	}
	return cfg, nil
}

// parseRouterConfig parses a configuration; source names it in errors.
func parseRouterConfig(data []byte, source string, extra ...EscalationPolicy) (*routerConfig, error) {
	amText, vigilText, err := splitVigilSection(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidConfig, source, err)
	}
	am, err := config.Load(amText)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidConfig, source, err)
	}
	defaultPagerDutySeverity(am)
	cfg := &routerConfig{source: source, am: am}
	if vigilText != "" {
		var wrap struct {
			Vigil vigilSection `yaml:"vigil"`
		}
		dec := yaml.NewDecoder(strings.NewReader(vigilText))
		dec.KnownFields(true)
		if err := dec.Decode(&wrap); err != nil {
			return nil, fmt.Errorf("%w: %s: vigil section: %w", ErrInvalidConfig, source, err)
		}
		cfg.vigil = wrap.Vigil
	}
	if len(extra) > 0 {
		cfg.vigil.EscalationPolicies = append(cfg.vigil.EscalationPolicies, extra...)
		source += " with alerting.escalation_policies"
	}
	if err := cfg.validateEscalation(); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidConfig, source, err)
	}
	return cfg, nil
}

// pagerDutySeverity maps the alert's severity label onto PagerDuty's four (vigil.tmpl).
const pagerDutySeverity = `{{ template "vigil.pagerduty.severity" . }}`

// defaultPagerDutySeverity gives every PagerDuty receiver that sets no severity Vigil's
// mapping of the `severity` label (critical, high → error, medium → warning, low → info)
// instead of Alertmanager's fixed "error", so a page's urgency follows the alert's severity
// without each configuration repeating the template.
func defaultPagerDutySeverity(am *config.Config) {
	for _, r := range am.Receivers {
		for _, pd := range r.PagerdutyConfigs {
			if pd.Severity == "" {
				pd.Severity = pagerDutySeverity
			}
		}
	}
}

// splitVigilSection returns the file with its top-level `vigil:` block blanked out, and that
// block alone, preceded by as many empty lines as it had before it so that YAML errors in
// either part name the real line.
func splitVigilSection(data []byte) (amText, vigilText string, err error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return "", "", err
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return string(data), "", nil // let Alertmanager's parser explain
	}
	root := doc.Content[0]
	start, end := -1, -1 // 1-based lines of the vigil block, end exclusive (0 = to EOF)
	for i := 0; i+1 < len(root.Content); i += 2 {
		k := root.Content[i]
		if k.Value != "vigil" {
			continue
		}
		if root.Style&yaml.FlowStyle != 0 {
			return "", "", errors.New("the vigil section needs a block-style top-level mapping")
		}
		start, end = k.Line, 0
		if i+2 < len(root.Content) {
			end = root.Content[i+2].Line
		}
	}
	if start < 0 {
		return string(data), "", nil
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	var am, vg strings.Builder
	for i, l := range lines {
		n := i + 1
		if n >= start && (end == 0 || n < end) {
			vg.Write(l)
			if bytes.HasSuffix(l, []byte("\n")) {
				am.WriteByte('\n')
			}
			continue
		}
		am.Write(l)
		if n < start {
			vg.WriteByte('\n')
		}
	}
	return am.String(), vg.String(), nil
}

// validateEscalation checks the policies and the routes naming them.
func (c *routerConfig) validateEscalation() error {
	receivers := make(map[string]bool, len(c.am.Receivers))
	for _, r := range c.am.Receivers {
		receivers[r.Name] = true
	}
	policies := make(map[string]bool, len(c.vigil.EscalationPolicies))
	for i, p := range c.vigil.EscalationPolicies {
		switch {
		case p.Name == "":
			return fmt.Errorf("vigil.escalation_policies[%d]: missing name", i)
		case policies[p.Name]:
			return fmt.Errorf("vigil.escalation_policies: duplicate policy %q", p.Name)
		case len(p.Steps) == 0:
			return fmt.Errorf("escalation policy %q: no steps", p.Name)
		}
		policies[p.Name] = true
		var prev model.Duration
		for j, s := range p.Steps {
			if !receivers[s.Receiver] {
				return fmt.Errorf("escalation policy %q step %d: undefined receiver %q", p.Name, j+1, s.Receiver)
			}
			if s.After <= 0 || s.After < prev {
				return fmt.Errorf("escalation policy %q step %d: after must be positive and not before the previous step's", p.Name, j+1)
			}
			prev = s.After
		}
	}
	var err error
	dispatch.NewRoute(c.am.Route, nil).Walk(func(r *dispatch.Route) {
		name, ok := r.RouteOpts.Labels[EscalationPolicyLabel]
		if !ok || strings.Contains(string(name), "{{") || err != nil {
			return // templated names are checked when a group is escalated
		}
		if !policies[string(name)] {
			err = fmt.Errorf("route %s: undefined escalation policy %q", r.Key(), name)
		}
	})
	return err
}

// policy returns the named policy.
func (c *routerConfig) policy(name string) (EscalationPolicy, bool) {
	for _, p := range c.vigil.EscalationPolicies {
		if p.Name == name {
			if p.RepeatInterval <= 0 {
				p.RepeatInterval = defaultEscalationRepeat
			}
			return p, true
		}
	}
	return EscalationPolicy{}, false
}
