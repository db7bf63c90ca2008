package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/vigilhq/vigil/internal/lifecycle"
	"github.com/vigilhq/vigil/slo"
	"github.com/vigilhq/vigil/tsdb"
)

// sloWiring loads the SLO specs, turns them (and the golden-signal defaults) into a
// Prometheus rule file that the rule manager evaluates with the user's rule files, and serves
// the SLO API over the recorded series.
type sloWiring struct {
	a       *app
	metrics *metricsWiring

	api lateHandler
	set atomic.Pointer[slo.Set]
}

func (w *sloWiring) components() []lifecycle.Component {
	return []lifecycle.Component{{Name: "slo", Start: w.start}}
}

// rulesFile is where the generated SLO and golden-signal rules are written.
func (w *sloWiring) rulesFile() string {
	return filepath.Join(w.a.dir.store("alerting"), "slo-rules.yml")
}

func (w *sloWiring) start(ctx context.Context) error {
	if err := w.apply(ctx, w.a.cfg); err != nil {
		return err
	}
	db := w.metrics.db
	// X-Vigil-Sources says which metrics sources the SLO figures were read from.
	w.api.set(tsdb.ReportSources(slo.NewAPI(db.Engine(), w.metrics.query, w.set.Load)))
	return nil
}

// apply loads the specs and rewrites the rule file. Specs of a file that fails to load keep
// their previous version, and the error is reported; the other SLOs take effect.
func (w *sloWiring) apply(ctx context.Context, cfg Config) error {
	loaded, loadErr := slo.Load(ctx, cfg.SLO.Files)
	if loaded == nil {
		return fmt.Errorf("slo.files: %w", loadErr)
	}
	set := loaded.KeepFailed(w.set.Load())
	rules, err := set.RuleGroups(slo.RuleOptions{GoldenSignals: cfg.SLO.GoldenSignals})
	if err != nil {
		return err
	}
	if err := writeFileAtomic(w.rulesFile(), rules); err != nil {
		return fmt.Errorf("write SLO rules: %w", err)
	}
	w.set.Store(set)
	if loadErr != nil {
		w.a.log.Error("some SLO specs were refused; their previous versions stay", "err", loadErr)
		return fmt.Errorf("slo.files: %w", loadErr)
	}
	return nil
}

// reload re-reads the specs; the rule manager's reload, registered after it, then loads the
// rewritten rule file.
func (w *sloWiring) reload(ctx context.Context, cfg Config) error {
	if w.set.Load() == nil {
		return nil // not started: start reads the new configuration
	}
	return w.apply(ctx, cfg)
}

// writeFileAtomic replaces path with data, so a reader sees the old file or the new one.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
