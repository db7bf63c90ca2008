package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"unicode/utf8"

	remoteapi "github.com/prometheus/client_golang/exp/api/remote"
	"google.golang.org/protobuf/encoding/protowire"
)

// rwScan is what a pass over a decompressed remote-write body found, without
// decoding it into structs: Prometheus's handler decodes it afterwards.
type rwScan struct {
	series int
	// tooMany is set, and the scan stopped, once series exceeded the limit.
	tooMany bool
	// invalid counts series that Prometheus's receiver drops for invalid
	// labels (missing or empty __name__, empty or non-UTF-8 names, non-UTF-8
	// values, duplicate names, bad symbol references).
	invalid      int
	firstInvalid string
	// limitErr is the first label-limit violation (wraps errLabelLimit).
	limitErr error
}

// Field numbers of prometheus.WriteRequest (1.0) and
// io.prometheus.write.v2.Request (2.0) that the scan needs.
const (
	rw1Timeseries   = 1 // WriteRequest.timeseries
	rw1SeriesLabels = 1 // TimeSeries.labels
	rw1LabelName    = 1 // Label.name
	rw1LabelValue   = 2 // Label.value
	rw2Symbols      = 4 // Request.symbols
	rw2Timeseries   = 5 // Request.timeseries
	rw2LabelsRefs   = 1 // TimeSeries.labels_refs
)

var errMalformedProto = errors.New("malformed protobuf")

// labelPair points into the request body.
type labelPair struct{ name, value []byte }

// scanRemoteWrite counts series and checks labels of a decompressed body.
// It returns an error wrapping errMalformedProto when the wire format is
// broken.
func scanRemoteWrite(body []byte, msg remoteapi.WriteMessageType, o MetricsIngestOptions) (rwScan, error) {
	if msg == remoteapi.WriteV2MessageType {
		return scanRemoteWriteV2(body, o)
	}
	return scanRemoteWriteV1(body, o)
}

func scanRemoteWriteV1(body []byte, o MetricsIngestOptions) (rwScan, error) {
	var s rwScan
	var pairs []labelPair
	err := forEachField(body, func(num protowire.Number, typ protowire.Type, v []byte) error {
		if num != rw1Timeseries {
			return nil
		}
		if typ != protowire.BytesType {
			return fmt.Errorf("%w: timeseries has wire type %d", errMalformedProto, typ)
		}
		s.series++
		if s.series > o.MaxSeriesPerRequest {
			s.tooMany = true
			return errStopScan
		}
		pairs = pairs[:0]
		err := forEachField(v, func(num protowire.Number, typ protowire.Type, v []byte) error {
			if num != rw1SeriesLabels {
				return nil
			}
			if typ != protowire.BytesType {
				return fmt.Errorf("%w: label has wire type %d", errMalformedProto, typ)
			}
			var p labelPair
			err := forEachField(v, func(num protowire.Number, typ protowire.Type, v []byte) error {
				if num != rw1LabelName && num != rw1LabelValue {
					return nil
				}
				if typ != protowire.BytesType {
					return fmt.Errorf("%w: label field has wire type %d", errMalformedProto, typ)
				}
				if num == rw1LabelName {
					p.name = v
				} else {
					p.value = v
				}
				return nil
			})
			pairs = append(pairs, p)
			return err
		})
		if err != nil {
			return err
		}
		s.checkSeries(pairs, o)
		return nil
	})
	if err != nil && !errors.Is(err, errStopScan) {
		return s, err
	}
	return s, nil
}

func scanRemoteWriteV2(body []byte, o MetricsIngestOptions) (rwScan, error) {
	var s rwScan
	var symbols [][]byte
	// Symbols may legally follow the series on the wire, so collect first.
	err := forEachField(body, func(num protowire.Number, typ protowire.Type, v []byte) error {
		if num != rw2Symbols {
			return nil
		}
		if typ != protowire.BytesType {
			return fmt.Errorf("%w: symbol has wire type %d", errMalformedProto, typ)
		}
		symbols = append(symbols, v)
		return nil
	})
	if err != nil {
		return s, err
	}
	var (
		refs  []uint64
		pairs []labelPair
	)
	err = forEachField(body, func(num protowire.Number, typ protowire.Type, v []byte) error {
		if num != rw2Timeseries {
			return nil
		}
		if typ != protowire.BytesType {
			return fmt.Errorf("%w: timeseries has wire type %d", errMalformedProto, typ)
		}
		s.series++
		if s.series > o.MaxSeriesPerRequest {
			s.tooMany = true
			return errStopScan
		}
		refs = refs[:0]
		err := forEachField(v, func(num protowire.Number, typ protowire.Type, v []byte) error {
			if num != rw2LabelsRefs {
				return nil
			}
			switch typ {
			case protowire.VarintType: // unpacked repeated field
				r, n := protowire.ConsumeVarint(v)
				if n < 0 {
					return fmt.Errorf("%w: labels_refs: %w", errMalformedProto, protowire.ParseError(n))
				}
				refs = append(refs, r)
			case protowire.BytesType: // packed
				for len(v) > 0 {
					r, n := protowire.ConsumeVarint(v)
					if n < 0 {
						return fmt.Errorf("%w: labels_refs: %w", errMalformedProto, protowire.ParseError(n))
					}
					refs = append(refs, r)
					v = v[n:]
				}
			default:
				return fmt.Errorf("%w: labels_refs has wire type %d", errMalformedProto, typ)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if len(refs)%2 != 0 {
			s.markInvalid("odd number of label references")
			return nil
		}
		pairs = pairs[:0]
		for i := 0; i < len(refs); i += 2 {
			if refs[i] >= uint64(len(symbols)) || refs[i+1] >= uint64(len(symbols)) {
				s.markInvalid("label reference out of the symbols table")
				return nil
			}
			pairs = append(pairs, labelPair{name: symbols[refs[i]], value: symbols[refs[i+1]]})
		}
		s.checkSeries(pairs, o)
		return nil
	})
	if err != nil && !errors.Is(err, errStopScan) {
		return s, err
	}
	return s, nil
}

var errStopScan = errors.New("stop scan")

// forEachField calls fn for each top-level field of a protobuf message. For
// varint fields v holds the raw varint; for bytes fields, the payload.
func forEachField(b []byte, fn func(num protowire.Number, typ protowire.Type, v []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("%w: %w", errMalformedProto, protowire.ParseError(n))
		}
		b = b[n:]
		var v []byte
		if typ == protowire.BytesType {
			payload, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return fmt.Errorf("%w: field %d: %w", errMalformedProto, num, protowire.ParseError(m))
			}
			v, n = payload, m
		} else {
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return fmt.Errorf("%w: field %d: %w", errMalformedProto, num, protowire.ParseError(n))
			}
			v = b[:n]
		}
		if err := fn(num, typ, v); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

var metricNameBytes = []byte("__name__")

// checkSeries applies Vigil's label limits and Prometheus's validity rules
// (labels.IsValid with UTF-8 validation, HasDuplicateLabelNames) to a series.
func (s *rwScan) checkSeries(pairs []labelPair, o MetricsIngestOptions) {
	if s.limitErr == nil {
		if len(pairs) > o.MaxLabelsPerSeries {
			s.limitErr = fmt.Errorf("%w: series has %d labels, limit is %d", errLabelLimit, len(pairs), o.MaxLabelsPerSeries)
		}
		for _, p := range pairs {
			if s.limitErr != nil {
				break
			}
			s.limitErr = checkLabelPair(len(p.name), len(p.value), string(p.name), o)
		}
	}
	if len(pairs) > o.MaxLabelsPerSeries {
		return // rejected by the limit; spare the quadratic duplicate check
	}
	hasName := false
	for i, p := range pairs {
		switch {
		case len(p.name) == 0 || !utf8.Valid(p.name):
			s.markInvalid(fmt.Sprintf("invalid label name %q", p.name))
			return
		case !utf8.Valid(p.value):
			s.markInvalid(fmt.Sprintf("label %q has a non-UTF-8 value", p.name))
			return
		case bytes.Equal(p.name, metricNameBytes):
			if len(p.value) == 0 {
				s.markInvalid("empty metric name")
				return
			}
			hasName = true
		}
		for _, q := range pairs[:i] {
			if bytes.Equal(p.name, q.name) {
				s.markInvalid(fmt.Sprintf("duplicate label name %q", p.name))
				return
			}
		}
	}
	if !hasName {
		s.markInvalid("series without a metric name")
	}
}

func (s *rwScan) markInvalid(why string) {
	if s.invalid == 0 {
		s.firstInvalid = why
	}
	s.invalid++
}
