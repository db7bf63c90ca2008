package main

import "path/filepath"

// WebConfig is the web UI's configuration.
type WebConfig struct {
	// DashboardsDir holds the dashboard files (JSON or YAML) the UI lists and saves into;
	// relative to the config file's directory. Empty: <data_dir>/dashboards.
	DashboardsDir string `yaml:"dashboards_dir"`
}

// DefaultWebConfig holds the documented defaults.
func DefaultWebConfig() WebConfig { return WebConfig{} }

func (c *WebConfig) resolvePaths(dir string) {
	c.DashboardsDir = resolvePath(dir, c.DashboardsDir)
}

// dashboardsDir is the folder the dashboards API serves.
func (c Config) dashboardsDir() string {
	if c.Web.DashboardsDir != "" {
		return c.Web.DashboardsDir
	}
	return filepath.Join(c.DataDir, "dashboards")
}
