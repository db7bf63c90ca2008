package main

import (
	"testing"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
)

// The hand-written encoder must produce what prompb decodes to the same request.
func TestRWEncoderDecodesWithPrompb(t *testing.T) {
	all := buildSeries(1500, "node", 1)
	if len(all) != 1500 {
		t.Fatalf("buildSeries made %d series, want 1500", len(all))
	}
	ss := make([]*series, len(all))
	for i := range all {
		ss[i] = &all[i]
	}
	e := newRWEncoder(ss)
	vs := []float64{0, 1.5, -2, 1e300}
	const ts = 1_700_000_000_000
	body := e.encode(600, 604, vs, ts)
	raw, err := snappy.Decode(nil, body)
	if err != nil {
		t.Fatal(err)
	}
	var req prompb.WriteRequest
	if err := req.Unmarshal(raw); err != nil {
		t.Fatal(err)
	}
	if len(req.Timeseries) != len(vs) {
		t.Fatalf("decoded %d series, want %d", len(req.Timeseries), len(vs))
	}
	for i, got := range req.Timeseries {
		want := prompb.TimeSeries{Labels: all[600+i].labels, Samples: []prompb.Sample{{Value: vs[i], Timestamp: ts}}}
		if got.String() != want.String() {
			t.Errorf("series %d:\n got %s\nwant %s", i, got.String(), want.String())
		}
	}
}
