package tsdb

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/scrape"
)

// emptyTargets stands in for a scrape manager when Vigil runs none:
// no scrape pools, no targets, hence no target metadata.
type emptyTargets struct{}

func (emptyTargets) ScrapePools() []string                      { return []string{} }
func (emptyTargets) TargetsActive() map[string][]*scrape.Target { return map[string][]*scrape.Target{} }
func (emptyTargets) TargetsDropped() map[string][]*scrape.Target {
	return map[string][]*scrape.Target{}
}
func (emptyTargets) TargetsDroppedCounts() map[string]int { return map[string]int{} }
func (emptyTargets) ScrapePoolConfig(pool string) (*config.ScrapeConfig, error) {
	return nil, fmt.Errorf("scrape pool %q: %w", pool, errNoScrapePools)
}

var errNoScrapePools = errors.New("no scrape pools are configured")

// emptyAlertmanagers stands in for a notifier: no Alertmanagers.
type emptyAlertmanagers struct{}

func (emptyAlertmanagers) Alertmanagers() []*url.URL        { return []*url.URL{} }
func (emptyAlertmanagers) DroppedAlertmanagers() []*url.URL { return []*url.URL{} }

// emptyRules stands in for a rule manager: no groups, no alerts.
type emptyRules struct{}

func (emptyRules) RuleGroups() []*rules.Group           { return []*rules.Group{} }
func (emptyRules) AlertingRules() []*rules.AlertingRule { return []*rules.AlertingRule{} }
