package ingest

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage"
)

// Remote write 1.0 (prometheus.WriteRequest) decoded by hand, without
// building prompb structs. The reader mirrors the gogo-generated
// Unmarshal methods of prompb field by field (the varint loop, the length
// checks, skipping unknown fields and groups) so that exactly the bodies
// Prometheus's receiver accepts are accepted; FuzzRemoteWriteV1Decode holds
// the two to that.

// Field numbers and wire types of prompb/types.proto and remote.proto.
const (
	rw1Metadata      = 3 // WriteRequest.metadata (decoded only to validate)
	rw1SeriesSamples = 2 // TimeSeries.samples
	rw1SeriesExemps  = 3 // TimeSeries.exemplars
	rw1SeriesHists   = 4 // TimeSeries.histograms
	rw1SampleValue   = 1 // Sample.value, fixed64 double
	rw1SampleTime    = 2 // Sample.timestamp, varint int64

	wireVarint  = 0
	wireFixed64 = 1
	wireBytes   = 2
	wireStart   = 3
	wireEnd     = 4
	wireFixed32 = 5
)

var (
	errProtoOverflow      = fmt.Errorf("%w: integer overflow", errMalformedProto)
	errProtoBadLength     = fmt.Errorf("%w: negative length", errMalformedProto)
	errProtoEndOfGroup    = fmt.Errorf("%w: unexpected end of group", errMalformedProto)
	errProtoUnexpectedEOF = fmt.Errorf("%w: %w", errMalformedProto, io.ErrUnexpectedEOF)
)

// rwV1Sample is one float sample of a series.
type rwV1Sample struct {
	t int64
	v float64
}

// rwV1Series is one TimeSeries of the request, as pointers into the
// request's buffers.
type rwV1Series struct {
	// key is the series' label fields as sent (tag, length, Label
	// message, concatenated): decoded[keyOff:keyOff+keyLen], or the same
	// range of the request's keys scratch buffer when keyScratch is set
	// (label fields interleaved with other fields).
	keyOff, keyLen int
	keyScratch     bool
	// samples is samples[samplesLo:samplesHi] of the request.
	samplesLo, samplesHi int
	// slow is the whole series decoded by prompb, set when it carries
	// exemplars or native histograms; its Samples are used then.
	slow *prompb.TimeSeries

	// Filled in after decoding: from the series-ref cache on a hit,
	// otherwise built from the key.
	ref     storage.SeriesRef
	ls      labels.Labels
	key     string // the key, on a miss (ls points into it)
	hit     bool   // ls and ref came from the cache
	invalid bool   // dropped, as Prometheus's receiver drops it
}

// consumeVarint reads a varint at b[i:] as gogo does: at most 64 bits of
// payload, any bits beyond ignored, no more than 10 bytes.
func consumeVarint(b []byte, i int) (uint64, int, error) {
	if i < len(b) && b[i] < 0x80 {
		return uint64(b[i]), i + 1, nil
	}
	var v uint64
	for shift := uint(0); ; shift += 7 {
		if shift >= 64 {
			return 0, 0, errProtoOverflow
		}
		if i >= len(b) {
			return 0, 0, errProtoUnexpectedEOF
		}
		c := b[i]
		i++
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v, i, nil
		}
	}
}

// consumeTag reads a field tag at b[i:] and rejects what gogo rejects: an
// end-group tag outside a group and field numbers below 1.
func consumeTag(b []byte, i int, msg string) (num int32, typ int, next int, err error) {
	wire, next, err := consumeVarint(b, i)
	if err != nil {
		return 0, 0, 0, err
	}
	num, typ = int32(wire>>3), int(wire&7)
	if typ == wireEnd {
		return 0, 0, 0, fmt.Errorf("%w: %s: wiretype end group for non-group", errMalformedProto, msg)
	}
	if num <= 0 {
		return 0, 0, 0, fmt.Errorf("%w: %s: illegal tag %d (wire type %d)", errMalformedProto, msg, num, wire)
	}
	return num, typ, next, nil
}

// consumeLen reads the length of a bytes field at b[i:] and returns the
// payload bounds.
func consumeLen(b []byte, i int) (start, end int, err error) {
	v, i, err := consumeVarint(b, i)
	if err != nil {
		return 0, 0, err
	}
	n := int(v)
	if n < 0 {
		return 0, 0, errProtoBadLength
	}
	end = i + n
	if end < 0 {
		return 0, 0, errProtoBadLength
	}
	if end > len(b) {
		return 0, 0, errProtoUnexpectedEOF
	}
	return i, end, nil
}

// skipField skips the unknown field whose tag starts at b[i:], groups
// included, and returns the index after it.
func skipField(b []byte, i int) (int, error) {
	depth := 0
	for i < len(b) {
		wire, next, err := consumeVarint(b, i)
		if err != nil {
			return 0, err
		}
		i = next
		switch int(wire & 7) {
		case wireVarint:
			for {
				if i-next >= 10 {
					return 0, errProtoOverflow
				}
				if i >= len(b) {
					return 0, errProtoUnexpectedEOF
				}
				i++
				if b[i-1] < 0x80 {
					break
				}
			}
		case wireFixed64:
			i += 8
		case wireBytes:
			v, n, err := consumeVarint(b, i)
			if err != nil {
				return 0, err
			}
			l := int(v)
			if l < 0 {
				return 0, errProtoBadLength
			}
			i = n + l
		case wireStart:
			depth++
		case wireEnd:
			if depth == 0 {
				return 0, errProtoEndOfGroup
			}
			depth--
		case wireFixed32:
			i += 4
		default:
			return 0, fmt.Errorf("%w: illegal wire type %d", errMalformedProto, wire&7)
		}
		if i < 0 {
			return 0, errProtoBadLength
		}
		if depth == 0 {
			if i > len(b) {
				return 0, errProtoUnexpectedEOF
			}
			return i, nil
		}
	}
	return 0, errProtoUnexpectedEOF
}

// wrongWireType reports a known field sent with another wire type.
func wrongWireType(typ int, field string) error {
	return fmt.Errorf("%w: wrong wire type %d for field %s", errMalformedProto, typ, field)
}

// decodeWriteRequest walks a decompressed prometheus.WriteRequest and
// fills r.series and r.samples. It stops after maxSeries series and reports
// tooMany if there were more. Label fields are located but not decoded;
// see decodeLabels.
func (r *rwV1Request) decodeWriteRequest(b []byte, maxSeries int) (tooMany bool, err error) {
	for i := 0; i < len(b); {
		pre := i
		num, typ, next, err := consumeTag(b, i, "WriteRequest")
		if err != nil {
			return false, err
		}
		i = next
		switch num {
		case rw1Timeseries:
			if typ != wireBytes {
				return false, wrongWireType(typ, "Timeseries")
			}
			start, end, err := consumeLen(b, i)
			if err != nil {
				return false, err
			}
			if len(r.series) == maxSeries {
				return true, nil
			}
			if err := r.decodeTimeSeries(b, start, end); err != nil {
				return false, err
			}
			i = end
		case rw1Metadata:
			if typ != wireBytes {
				return false, wrongWireType(typ, "Metadata")
			}
			start, end, err := consumeLen(b, i)
			if err != nil {
				return false, err
			}
			// Prometheus decodes metadata, then ignores it. Rare in 1.0
			// requests; let prompb judge it.
			var md prompb.MetricMetadata
			if err := md.Unmarshal(b[start:end]); err != nil {
				return false, fmt.Errorf("%w: metadata: %w", errMalformedProto, err)
			}
			i = end
		default:
			if i, err = skipField(b, pre); err != nil {
				return false, err
			}
		}
	}
	return false, nil
}

// decodeTimeSeries decodes b[start:end], one TimeSeries.
func (r *rwV1Request) decodeTimeSeries(b []byte, start, end int) error {
	s := rwV1Series{keyOff: -1, samplesLo: len(r.samples)}
	keyEnd := -1
	slow := false
	msg := b[:end]
	for i := start; i < end; {
		pre := i
		num, typ, next, err := consumeTag(msg, i, "TimeSeries")
		if err != nil {
			return err
		}
		i = next
		switch num {
		case rw1SeriesLabels:
			if typ != wireBytes {
				return wrongWireType(typ, "Labels")
			}
			_, fend, err := consumeLen(msg, i)
			if err != nil {
				return err
			}
			switch {
			case s.keyOff < 0:
				s.keyOff, keyEnd = pre, fend
			case !s.keyScratch && pre == keyEnd:
				keyEnd = fend
			default:
				if !s.keyScratch {
					// Labels interleaved with other fields: gather them.
					off := len(r.keys)
					r.keys = append(r.keys, b[s.keyOff:keyEnd]...)
					s.keyOff, s.keyScratch = off, true
				}
				r.keys = append(r.keys, b[pre:fend]...)
			}
			i = fend
		case rw1SeriesSamples:
			if typ != wireBytes {
				return wrongWireType(typ, "Samples")
			}
			sstart, send, err := consumeLen(msg, i)
			if err != nil {
				return err
			}
			smp, err := decodeSample(msg[:send], sstart)
			if err != nil {
				return err
			}
			r.samples = append(r.samples, smp)
			i = send
		case rw1SeriesExemps, rw1SeriesHists:
			if typ != wireBytes {
				return wrongWireType(typ, "Exemplars or Histograms")
			}
			_, fend, err := consumeLen(msg, i)
			if err != nil {
				return err
			}
			slow = true
			i = fend
		default:
			if i, err = skipField(msg, pre); err != nil {
				return err
			}
		}
	}
	switch {
	case s.keyOff < 0:
		s.keyOff = 0 // no labels: empty key
	case s.keyScratch:
		s.keyLen = len(r.keys) - s.keyOff
	default:
		s.keyLen = keyEnd - s.keyOff
	}
	s.samplesHi = len(r.samples)
	if slow {
		// Exemplars and native histograms take Prometheus's own decoder
		// and conversions: rare enough in 1.0 not to matter for speed.
		ts := &prompb.TimeSeries{}
		if err := ts.Unmarshal(b[start:end]); err != nil {
			return fmt.Errorf("%w: %w", errMalformedProto, err)
		}
		s.slow = ts
		r.samples = r.samples[:s.samplesLo]
		s.samplesHi = s.samplesLo
	}
	r.series = append(r.series, s)
	return nil
}

// decodeSample decodes the Sample message b[i:].
func decodeSample(b []byte, i int) (rwV1Sample, error) {
	var s rwV1Sample
	for i < len(b) {
		pre := i
		num, typ, next, err := consumeTag(b, i, "Sample")
		if err != nil {
			return s, err
		}
		i = next
		switch num {
		case rw1SampleValue:
			if typ != wireFixed64 {
				return s, wrongWireType(typ, "Value")
			}
			if i+8 > len(b) {
				return s, errProtoUnexpectedEOF
			}
			s.v = math.Float64frombits(binary.LittleEndian.Uint64(b[i:]))
			i += 8
		case rw1SampleTime:
			if typ != wireVarint {
				return s, wrongWireType(typ, "Timestamp")
			}
			v, next, err := consumeVarint(b, i)
			if err != nil {
				return s, err
			}
			s.t, i = int64(v), next
		default:
			if i, err = skipField(b, pre); err != nil {
				return s, err
			}
		}
	}
	return s, nil
}

// forEachLabel decodes the label fields of a series key (well formed at
// the field level: decodeTimeSeries checked tags and lengths) and calls fn
// with the bounds of each name and value within key. A field sent twice in
// one Label counts once, the last one, as in gogo.
func forEachLabel(key []byte, fn func(ns, ne, vs, ve int)) error {
	for i := 0; i < len(key); {
		_, _, next, err := consumeTag(key, i, "TimeSeries")
		if err != nil {
			return err
		}
		start, end, err := consumeLen(key, next)
		if err != nil {
			return err
		}
		ns, ne, vs, ve := start, start, start, start
		msg := key[:end]
		for j := start; j < end; {
			pre := j
			num, typ, next, err := consumeTag(msg, j, "Label")
			if err != nil {
				return err
			}
			j = next
			switch num {
			case rw1LabelName, rw1LabelValue:
				if typ != wireBytes {
					return wrongWireType(typ, "Name or Value")
				}
				s, e, err := consumeLen(msg, j)
				if err != nil {
					return err
				}
				if num == rw1LabelName {
					ns, ne = s, e
				} else {
					vs, ve = s, e
				}
				j = e
			default:
				if j, err = skipField(msg, pre); err != nil {
					return err
				}
			}
		}
		fn(ns, ne, vs, ve)
		i = end
	}
	return nil
}
