package ingest

import (
	"math"
	"testing"
	"time"

	"github.com/gogo/protobuf/proto"
	"github.com/prometheus/prometheus/prompb"
	"google.golang.org/protobuf/encoding/protowire"
)

// FuzzRemoteWriteV1Decode holds the 1.0 decoder to prompb's gogo decoder,
// the one Prometheus's receiver uses: the same bodies accepted, and the
// same series, labels and samples decoded from them.
func FuzzRemoteWriteV1Decode(f *testing.F) {
	for _, s := range remoteWriteFuzzSeeds(f) {
		if !s.v2 {
			f.Add(s.body)
		}
	}
	now := time.Now().UnixMilli()
	f.Add(interleavedSeries(now))
	md, _ := proto.Marshal(&prompb.WriteRequest{Metadata: []prompb.MetricMetadata{{Type: prompb.MetricMetadata_COUNTER, MetricFamilyName: "x", Help: "h"}}})
	f.Add(md)
	grouped := protowire.AppendTag(nil, 7, protowire.StartGroupType)
	grouped = protowire.AppendTag(grouped, 1, protowire.VarintType)
	grouped = protowire.AppendVarint(grouped, 1)
	grouped = protowire.AppendTag(grouped, 7, protowire.EndGroupType)
	f.Add(append(grouped, interleavedSeries(now)...))
	f.Add([]byte{0x0a, 0x02, 0x12, 0x00}) // a series with one empty sample

	f.Fuzz(func(t *testing.T, raw []byte) {
		var want prompb.WriteRequest
		wantErr := proto.Unmarshal(raw, &want)

		r := &rwV1Request{decoded: raw}
		_, err := r.decodeWriteRequest(raw, math.MaxInt)
		var got [][]prompb.Label
		for i := 0; err == nil && i < len(r.series); i++ {
			key := r.key(&r.series[i])
			var ls []prompb.Label
			err = forEachLabel(key, func(ns, ne, vs, ve int) {
				ls = append(ls, prompb.Label{Name: string(key[ns:ne]), Value: string(key[vs:ve])})
			})
			got = append(got, ls)
		}
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("decode error %v, prompb's %v", err, wantErr)
		}
		if err != nil {
			return
		}
		if len(r.series) != len(want.Timeseries) {
			t.Fatalf("%d series, prompb %d", len(r.series), len(want.Timeseries))
		}
		for i, ts := range want.Timeseries {
			s := r.series[i]
			if len(got[i]) != len(ts.Labels) {
				t.Fatalf("series %d: labels %v, prompb %v", i, got[i], ts.Labels)
			}
			for j, l := range ts.Labels {
				if got[i][j].Name != l.Name || got[i][j].Value != l.Value {
					t.Fatalf("series %d: labels %v, prompb %v", i, got[i], ts.Labels)
				}
			}
			if slow := len(ts.Exemplars)+len(ts.Histograms) > 0; slow != (s.slow != nil) {
				t.Fatalf("series %d: slow %v, prompb has %d exemplars, %d histograms", i, s.slow != nil, len(ts.Exemplars), len(ts.Histograms))
			}
			if s.slow != nil {
				continue
			}
			smp := r.samples[s.samplesLo:s.samplesHi]
			if len(smp) != len(ts.Samples) {
				t.Fatalf("series %d: %d samples, prompb %d", i, len(smp), len(ts.Samples))
			}
			for j, p := range ts.Samples {
				if smp[j].t != p.Timestamp || math.Float64bits(smp[j].v) != math.Float64bits(p.Value) {
					t.Fatalf("series %d sample %d: %+v, prompb %+v", i, j, smp[j], p)
				}
			}
		}
	})
}
