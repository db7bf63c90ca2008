package main

import (
	"fmt"
	"net/http"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
)

// OTLP mode sends the same series as OTLP/HTTP protobuf export requests, as a collector's
// otlphttp exporter does: one resource per host (service.name = job, service.instance.id =
// instance, which Prometheus's translator maps back to job and instance), counters as
// cumulative monotonic sums, everything else as gauges. Each batch's pdata tree is built once
// and only its timestamps and values change from one step to the next.

type otlpBatch struct {
	md  pmetric.Metrics
	dps []pmetric.NumberDataPoint // one per series of the batch, in shard order
}

// otlpEncoder builds OTLP bodies for one shard, caching the tree of each batch.
type otlpEncoder struct {
	series  []*series
	start   pcommon.Timestamp // start time of every cumulative sum
	batches map[int]*otlpBatch
}

func newOTLPEncoder(ss []*series, start time.Time) *otlpEncoder {
	return &otlpEncoder{series: ss, start: pcommon.NewTimestampFromTime(start), batches: map[int]*otlpBatch{}}
}

func (e *otlpEncoder) build(from, to int) *otlpBatch {
	b := &otlpBatch{md: pmetric.NewMetrics()}
	scopes := map[string]pmetric.ScopeMetrics{} // instance -> scope
	metrics := map[[2]string]pmetric.Metric{}   // instance, name -> metric
	for _, s := range e.series[from:to] {
		var name, job, instance string
		for _, l := range s.labels {
			switch l.Name {
			case "__name__":
				name = l.Value
			case "job":
				job = l.Value
			case "instance":
				instance = l.Value
			}
		}
		sm, ok := scopes[instance]
		if !ok {
			rm := b.md.ResourceMetrics().AppendEmpty()
			rm.Resource().Attributes().PutStr("service.name", job)
			rm.Resource().Attributes().PutStr("service.instance.id", instance)
			rm.Resource().Attributes().PutStr("host.name", instance[:len(instance)-len(":9100")])
			sm = rm.ScopeMetrics().AppendEmpty()
			sm.Scope().SetName("github.com/prometheus/node_exporter")
			scopes[instance] = sm
		}
		m, ok := metrics[[2]string{instance, name}]
		if !ok {
			m = sm.Metrics().AppendEmpty()
			m.SetName(otlpName(name, s.counter))
			if s.counter {
				sum := m.SetEmptySum()
				sum.SetIsMonotonic(true)
				sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			} else {
				m.SetEmptyGauge()
			}
			metrics[[2]string{instance, name}] = m
		}
		var dp pmetric.NumberDataPoint
		if s.counter {
			dp = m.Sum().DataPoints().AppendEmpty()
			dp.SetStartTimestamp(e.start)
		} else {
			dp = m.Gauge().DataPoints().AppendEmpty()
		}
		for _, l := range s.labels {
			if l.Name != "__name__" && l.Name != "job" && l.Name != "instance" {
				dp.Attributes().PutStr(l.Name, l.Value)
			}
		}
		b.dps = append(b.dps, dp)
	}
	return b
}

// encode returns the protobuf body for series [from, to) of the shard with values vs at ts.
func (e *otlpEncoder) encode(from, to int, vs []float64, ts int64) ([]byte, error) {
	b, ok := e.batches[from]
	if !ok {
		b = e.build(from, to)
		e.batches[from] = b
	}
	t := pcommon.Timestamp(ts * int64(time.Millisecond))
	for i, dp := range b.dps {
		dp.SetTimestamp(t)
		dp.SetDoubleValue(vs[i])
	}
	body, err := pmetricotlp.NewExportRequestFromMetrics(b.md).MarshalProto()
	if err != nil {
		return nil, fmt.Errorf("marshal OTLP request: %w", err)
	}
	return body, nil
}

// otlpRejected reads the partial-success count from an OTLP/HTTP protobuf response body.
func otlpRejected(body []byte) int64 {
	resp := pmetricotlp.NewExportResponse()
	if err := resp.UnmarshalProto(body); err != nil {
		return 0
	}
	return resp.PartialSuccess().RejectedDataPoints()
}

func setOTLPHeaders(h http.Header) {
	h.Set("Content-Type", "application/x-protobuf")
	h.Set("User-Agent", "vigil-bench-loadgen")
}
