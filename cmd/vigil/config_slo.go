package main

import (
	"path/filepath"

	"github.com/vigilhq/vigil/slo"
)

// SLOConfig is the SLO specs and the default golden-signal alerts.
type SLOConfig struct {
	// Files are globs of SLO spec files (OpenSLO v1 or Vigil's short form), relative to the
	// config file's directory.
	Files         []string          `yaml:"files"`
	GoldenSignals slo.GoldenSignals `yaml:"golden_signals"`
}

// DefaultSLOConfig holds the documented defaults.
func DefaultSLOConfig() SLOConfig {
	return SLOConfig{GoldenSignals: slo.DefaultGoldenSignals()}
}

func (c *SLOConfig) validate(bad func(key, format string, args ...any)) {
	for i, g := range c.Files {
		if _, err := filepath.Match(g, ""); err != nil {
			bad("slo.files", "glob %d %q: %v", i, g, err)
		}
	}
	if err := c.GoldenSignals.Validate(); err != nil {
		bad("slo.golden_signals", "%v", err)
	}
}

func (c *SLOConfig) resolvePaths(dir string) {
	for i, g := range c.Files {
		if !filepath.IsAbs(g) {
			c.Files[i] = filepath.Join(dir, g)
		}
	}
}
