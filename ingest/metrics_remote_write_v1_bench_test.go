package ingest

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/golang/snappy"
	remoteapi "github.com/prometheus/client_golang/exp/api/remote"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage/remote"
	vigiltsdb "github.com/vigilhq/vigil/tsdb"
)

const (
	benchRWSeries = 100_000 // active series
	benchRWBatch  = 2_000   // samples (one per series) per request, Prometheus's max_samples_per_send
	benchRWStep   = 15_000  // ms between rounds, a 15 s scrape interval
)

// benchRWLabels returns node-exporter-like series, labels sorted as
// Prometheus sends them: 1000 instances of 100 series each.
func benchRWLabels() [][]prompb.Label {
	names := []string{
		"node_cpu_seconds_total", "node_memory_MemAvailable_bytes", "node_filesystem_avail_bytes",
		"node_network_receive_bytes_total", "node_network_transmit_bytes_total", "node_disk_read_bytes_total",
		"node_disk_written_bytes_total", "node_load1", "node_load5", "node_load15",
	}
	modes := []string{"idle", "user", "system", "iowait", "irq", "softirq", "steal", "nice", "guest", "guest_nice"}
	out := make([][]prompb.Label, 0, benchRWSeries)
	for i := range benchRWSeries {
		inst, k := i/100, i%100
		ls := []prompb.Label{
			{Name: "__name__", Value: names[k/10]},
			{Name: "cpu", Value: fmt.Sprint(k % 10)},
			{Name: "instance", Value: fmt.Sprintf("10.%d.%d.%d:9100", inst/65536, inst/256%256, inst%256)},
			{Name: "job", Value: "node"},
			{Name: "mode", Value: modes[k%10]},
		}
		out = append(out, ls)
	}
	return out
}

// benchRWBodies encodes rounds of requests: every series once per round.
type benchRWBodies struct {
	series [][]prompb.Label
	t0     int64
	bodies [][]byte // round-major
}

func (g *benchRWBodies) ensure(b *testing.B, n int) {
	perRound := benchRWSeries / benchRWBatch
	for len(g.bodies) < n {
		round, batch := len(g.bodies)/perRound, len(g.bodies)%perRound
		ts := make([]prompb.TimeSeries, 0, benchRWBatch)
		for i := batch * benchRWBatch; i < (batch+1)*benchRWBatch; i++ {
			ts = append(ts, prompb.TimeSeries{
				Labels:  g.series[i],
				Samples: []prompb.Sample{{Timestamp: g.t0 + int64(round)*benchRWStep, Value: float64(round*i%1000) / 7}},
			})
		}
		g.bodies = append(g.bodies, snappy.Encode(nil, rwV1Raw(b, ts...)))
	}
}

// BenchmarkRemoteWriteV1 measures remote write 1.0 ingest of 100k active
// series in 2000-sample requests into Vigil's store (tsdb.DB with its
// default options), after a first round has created every series:
//   - prometheus-handler: Prometheus's own receiver (storage/remote), bare;
//   - vigil-legacy: Vigil's wire checks in front of Prometheus's receiver
//     (the 1.0 path before the fast path);
//   - fast-path: NewRemoteWriteHandler.
//
// Compare them within one run (-count and benchstat), the figures are
// relative; samples/s excludes encoding the requests.
func BenchmarkRemoteWriteV1(b *testing.B) {
	gen := &benchRWBodies{series: benchRWLabels(), t0: time.Now().Add(-time.Hour).UnixMilli()}
	handlers := []struct {
		name string
		mk   func(db *vigiltsdb.DB) http.Handler
	}{
		{"prometheus-handler", func(db *vigiltsdb.DB) http.Handler {
			return remote.NewWriteHandler(discardLogger(), nil, db, remoteapi.MessageTypes{remoteapi.WriteV1MessageType}, false, false)
		}},
		{"vigil-legacy", func(db *vigiltsdb.DB) http.Handler {
			h := NewRemoteWriteHandler(db, DefaultMetricsIngestOptions(), metrics.NewSet(), nil).(*remoteWriteHandler)
			h.cache = nil
			return h
		}},
		{"fast-path", func(db *vigiltsdb.DB) http.Handler {
			return NewRemoteWriteHandler(db, DefaultMetricsIngestOptions(), metrics.NewSet(), nil)
		}},
	}
	perRound := benchRWSeries / benchRWBatch
	for _, hc := range handlers {
		b.Run(hc.name, func(b *testing.B) {
			db, err := vigiltsdb.Open(b.TempDir(), vigiltsdb.DefaultOptions(), nil, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			h := hc.mk(db)
			gen.ensure(b, perRound*(1+b.N/perRound+1))
			send := func(body []byte) {
				req := httptest.NewRequest(http.MethodPost, "/api/v1/write", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/x-protobuf")
				req.Header.Set("Content-Encoding", "snappy")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusNoContent {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
			for i := range perRound { // create the series
				send(gen.bodies[i])
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				send(gen.bodies[perRound+i])
			}
			b.ReportMetric(float64(b.N*benchRWBatch)/b.Elapsed().Seconds(), "samples/s")
		})
	}
}
