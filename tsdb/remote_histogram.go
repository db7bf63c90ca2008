package tsdb

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
)

// floatHistogram rebuilds a native histogram of an exponential schema from the query API's
// JSON form, which gives each populated bucket by its boundaries: the bucket (l, u] of index
// i and schema s has u = 2^(i·2^-s) and u/l = 2^(2^-s), so both come back exactly from the
// float boundaries. Histograms with custom bounds (NHCB) are refused: their bounds cannot be
// told apart from a sparse exponential layout with certainty.
func floatHistogram(h *model.SampleHistogram) (*histogram.FloatHistogram, error) {
	fh := &histogram.FloatHistogram{Count: float64(h.Count), Sum: float64(h.Sum)}
	schema, found := int32(0), false
	var pos, neg []indexed
	var clamped []model.HistogramBucket // lower bound cut at the zero bucket: placed once the schema is known
	for _, b := range h.Buckets {
		if lo, up := float64(b.Lower), float64(b.Upper); lo <= 0 && up >= 0 { // the zero bucket [-t, t]
			fh.ZeroThreshold, fh.ZeroCount = up, float64(b.Count)
		}
	}
	zt := fh.ZeroThreshold
	// Without a zero bucket (the API leaves out an empty one) the threshold is not given, and
	// the innermost bucket on each side may still be shown cut at it: those are placed by
	// their outer bound, like the clamped ones, and give the threshold back.
	innerPos, innerNeg := math.Inf(1), math.Inf(-1)
	for _, b := range h.Buckets {
		if lo, up := float64(b.Lower), float64(b.Upper); lo > 0 {
			innerPos = min(innerPos, lo)
		} else if up < 0 {
			innerNeg = max(innerNeg, up)
		}
	}
	for _, b := range h.Buckets {
		lo, up, n := float64(b.Lower), float64(b.Upper), float64(b.Count)
		switch {
		case math.IsInf(lo, 0) || math.IsInf(up, 0):
			return nil, errors.New("custom-bucket histogram")
		case lo <= 0 && up >= 0:
			continue
		}
		ratio := up / lo
		if up <= 0 { // negative bucket [-2^(i·2^-s), -2^((i-1)·2^-s))
			ratio = lo / up
		}
		// A bucket reaching into the zero bucket is shown from the threshold: only its outer
		// bound is its own.
		if ratio <= 1 || zt > 0 && (lo == zt || up == -zt) || zt == 0 && (lo == innerPos || up == innerNeg) {
			clamped = append(clamped, *b)
			continue
		}
		s, ok := schemaOf(ratio)
		if !ok || found && s != schema {
			return nil, fmt.Errorf("bucket (%g, %g] is not of an exponential schema", lo, up)
		}
		schema, found = s, true
		if err := place(&pos, &neg, lo, up, n, s); err != nil {
			return nil, err
		}
	}
	for _, b := range clamped {
		if !found {
			ratio := float64(b.Upper) / float64(b.Lower)
			if b.Upper <= 0 {
				ratio = float64(b.Lower) / float64(b.Upper)
			}
			if schema, found = schemaOf(ratio); !found {
				return nil, errors.New("no bucket gives the schema")
			}
		}
		if err := place(&pos, &neg, float64(b.Lower), float64(b.Upper), float64(b.Count), schema); err != nil {
			return nil, err
		}
		if zt == 0 {
			// A bound nearer zero than the schema puts it is the zero threshold.
			base := math.Exp2(math.Exp2(-float64(schema)))
			if lo, up := float64(b.Lower), float64(b.Upper); lo > 0 && lo > up/base*(1+1e-9) {
				fh.ZeroThreshold = max(fh.ZeroThreshold, lo)
			} else if up < 0 && up < lo/base*(1+1e-9) {
				fh.ZeroThreshold = max(fh.ZeroThreshold, -up)
			}
		}
	}
	fh.Schema = schema
	fh.PositiveSpans, fh.PositiveBuckets = spans(pos)
	fh.NegativeSpans, fh.NegativeBuckets = spans(neg)
	if err := fh.Validate(); err != nil {
		return nil, err
	}
	return fh, nil
}

// place adds the bucket bounded by lo and up to the positive or negative buckets by its
// index in schema s, read from its outer bound.
func place(pos, neg *[]indexed, lo, up, n float64, s int32) error {
	mag := up
	if up <= 0 {
		mag = -lo
	}
	idx := math.Log2(mag) * math.Exp2(float64(s))
	i := int32(math.Round(idx))
	if math.Abs(idx-float64(i)) > 1e-6 {
		return fmt.Errorf("bucket (%g, %g] is not of schema %d", lo, up, s)
	}
	if up <= 0 {
		*neg = append(*neg, indexed{i, n})
	} else {
		*pos = append(*pos, indexed{i, n})
	}
	return nil
}

type indexed struct {
	i int32
	n float64
}

// schemaOf is s such that ratio = 2^(2^-s), for the schemas native histograms use.
func schemaOf(ratio float64) (int32, bool) {
	if !(ratio > 1) {
		return 0, false
	}
	s := -math.Log2(math.Log2(ratio))
	r := math.Round(s)
	if math.Abs(s-r) > 1e-6 || r < float64(histogram.ExponentialSchemaMin) || r > float64(histogram.ExponentialSchemaMax) {
		return 0, false
	}
	return int32(r), true
}

// spans lays buckets out as a histogram's spans and absolute counts.
func spans(bs []indexed) ([]histogram.Span, []float64) {
	if len(bs) == 0 {
		return nil, nil
	}
	slices.SortFunc(bs, func(a, b indexed) int { return int(a.i - b.i) })
	var ss []histogram.Span
	counts := make([]float64, 0, len(bs))
	next := int32(0) // the index after the previous span's last bucket
	for k, b := range bs {
		if k > 0 && b.i == next {
			ss[len(ss)-1].Length++
		} else {
			off := b.i
			if k > 0 {
				off = b.i - next
			}
			ss = append(ss, histogram.Span{Offset: off, Length: 1})
		}
		counts = append(counts, b.n)
		next = b.i + 1
	}
	return ss, counts
}

// histogramSample is one native histogram sample read from a source.
type histogramSample struct {
	t  int64
	fh *histogram.FloatHistogram
}

func (s histogramSample) T() int64                      { return s.t }
func (s histogramSample) ST() int64                     { return 0 }
func (s histogramSample) F() float64                    { return 0 }
func (s histogramSample) H() *histogram.Histogram       { return nil }
func (s histogramSample) FH() *histogram.FloatHistogram { return s.fh }
func (s histogramSample) Type() chunkenc.ValueType      { return chunkenc.ValFloatHistogram }
func (s histogramSample) Copy() chunks.Sample           { return histogramSample{t: s.t, fh: s.fh.Copy()} }
