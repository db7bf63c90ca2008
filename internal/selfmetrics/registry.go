package selfmetrics

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sync"

	vmetrics "github.com/VictoriaMetrics/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/vigilhq/vigil/internal/buildinfo"
)

// Registry gathers the metrics of every component. Safe for concurrent use.
type Registry struct {
	mu   sync.Mutex
	sets []*vmetrics.Set
	prom *prometheus.Registry
}

// New returns an empty registry.
func New() *Registry {
	return &Registry{prom: prometheus.NewRegistry()}
}

// NewSet returns a fresh set registered with r; a component writes its own metrics to it.
func (r *Registry) NewSet() *vmetrics.Set {
	s := vmetrics.NewSet()
	r.mu.Lock()
	r.sets = append(r.sets, s)
	r.mu.Unlock()
	return s
}

// Prometheus is the registry handed to the embedded Prometheus libraries.
func (r *Registry) Prometheus() *prometheus.Registry { return r.prom }

// WritePrometheus writes every metric in the Prometheus text exposition format.
func (r *Registry) WritePrometheus(w io.Writer) error {
	bi := buildinfo.Get()
	fmt.Fprintf(w, "vigil_build_info{version=%q,commit=%q,goversion=%q} 1\n", bi.Version, bi.Commit, bi.GoVersion)
	vmetrics.WriteProcessMetrics(w)
	r.mu.Lock()
	sets := append([]*vmetrics.Set(nil), r.sets...)
	r.mu.Unlock()
	for _, s := range sets {
		s.WritePrometheus(w)
	}
	families, err := r.prom.Gather()
	if err != nil {
		// Gather returns what it could alongside the error; write that and report the rest.
		err = fmt.Errorf("gather prometheus metrics: %w", err)
	}
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range families {
		if encErr := enc.Encode(mf); encErr != nil {
			return fmt.Errorf("encode metric family %s: %w", mf.GetName(), encErr)
		}
	}
	return err
}

// Handler serves /metrics.
func (r *Registry) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		var buf bytes.Buffer
		err := r.WritePrometheus(&buf)
		if err != nil && buf.Len() == 0 {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_, _ = w.Write(buf.Bytes())
	})
}
