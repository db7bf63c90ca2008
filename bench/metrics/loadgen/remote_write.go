package main

import (
	"encoding/binary"
	"math"
	"net/http"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
)

// Remote write 1.0 is a snappy-compressed prometheus.WriteRequest. The generator encodes it
// by hand: each series' labels are encoded once, and a batch is those bytes plus one sample
// per series, so the generator spends its share of the two cores on sending, not on
// marshalling. remote_write_test.go checks the bytes against prompb.

// encodeLabels returns the TimeSeries.labels fields (field 1, repeated Label) of ls.
func encodeLabels(ls []prompb.Label) []byte {
	var b []byte
	for _, l := range ls {
		n := 1 + uvarintLen(uint64(len(l.Name))) + len(l.Name) + 1 + uvarintLen(uint64(len(l.Value))) + len(l.Value)
		b = append(b, 0x0a)
		b = binary.AppendUvarint(b, uint64(n))
		b = append(b, 0x0a)
		b = binary.AppendUvarint(b, uint64(len(l.Name)))
		b = append(b, l.Name...)
		b = append(b, 0x12)
		b = binary.AppendUvarint(b, uint64(len(l.Value)))
		b = append(b, l.Value...)
	}
	return b
}

// appendTimeSeries appends WriteRequest.timeseries (field 1) holding the encoded labels and
// one sample, as Prometheus's queue manager sends it (one TimeSeries per sample).
func appendTimeSeries(b, labels []byte, v float64, ts int64) []byte {
	sampleLen := 1 + 8 + 1 + uvarintLen(uint64(ts))
	tsLen := len(labels) + 1 + uvarintLen(uint64(sampleLen)) + sampleLen
	b = append(b, 0x0a)
	b = binary.AppendUvarint(b, uint64(tsLen))
	b = append(b, labels...)
	b = append(b, 0x12) // TimeSeries.samples
	b = binary.AppendUvarint(b, uint64(sampleLen))
	b = append(b, 0x09) // Sample.value, fixed64
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	b = append(b, 0x10) // Sample.timestamp, varint
	return binary.AppendUvarint(b, uint64(ts))
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// rwEncoder builds remote-write 1.0 bodies for one shard; it reuses its buffers.
type rwEncoder struct {
	labels [][]byte // encoded labels of the shard's series, by position in the shard
	raw    []byte
	body   []byte
}

func newRWEncoder(ss []*series) *rwEncoder {
	e := &rwEncoder{labels: make([][]byte, len(ss))}
	for i, s := range ss {
		e.labels[i] = encodeLabels(s.labels)
	}
	return e
}

// encode returns the compressed body for series [from, to) of the shard with values vs (one per
// series) at ts. The slice is valid until the next call.
func (e *rwEncoder) encode(from, to int, vs []float64, ts int64) []byte {
	e.raw = e.raw[:0]
	for i := from; i < to; i++ {
		e.raw = appendTimeSeries(e.raw, e.labels[i], vs[i-from], ts)
	}
	e.body = snappy.Encode(e.body[:cap(e.body)], e.raw)
	return e.body
}

func setRemoteWriteHeaders(h http.Header) {
	h.Set("Content-Encoding", "snappy")
	h.Set("Content-Type", "application/x-protobuf")
	h.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	h.Set("User-Agent", "vigil-bench-loadgen")
}
