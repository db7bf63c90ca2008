package ingest

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// lokiStream is one stream of a Loki push request, decoded from JSON or protobuf. Byte slices
// point into the request body.
type lokiStream struct {
	labels    []lokiLabel
	labelsErr error // the labels string did not parse: every entry is rejected
	entries   []lokiEntry
}

type lokiEntry struct {
	ts   time.Time
	line []byte
	meta []lokiLabel
	// err and reason reject the entry alone (bad timestamp, malformed JSON entry).
	err    error
	reason rejectReason
}

type lokiLabel struct{ name, value string }

// decodeLokiProto decodes a snappy-decompressed PushRequest by hand, from Loki's published
// push.proto (no Loki code is imported):
//
//	PushRequest    { repeated StreamAdapter streams = 1; }
//	StreamAdapter  { string labels = 1; repeated EntryAdapter entries = 2; uint64 hash = 3; }
//	EntryAdapter   { google.protobuf.Timestamp timestamp = 1; string line = 2;
//	                 repeated LabelPairAdapter structuredMetadata = 3; }
//	LabelPairAdapter { string name = 1; string value = 2; }
//
// Unknown fields are skipped, as protobuf requires.
func decodeLokiProto(b []byte) ([]lokiStream, error) {
	var streams []lokiStream
	err := walkProto(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num != 1 {
			return nil
		}
		if typ != protowire.BytesType {
			return errors.New("PushRequest.streams: wrong wire type")
		}
		s, err := decodeLokiStream(v)
		if err != nil {
			return fmt.Errorf("stream %d: %w", len(streams), err)
		}
		streams = append(streams, s)
		return nil
	})
	return streams, err
}

func decodeLokiStream(b []byte) (lokiStream, error) {
	var s lokiStream
	err := walkProto(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		switch num {
		case 1:
			if typ != protowire.BytesType {
				return errors.New("StreamAdapter.labels: wrong wire type")
			}
			s.labels, s.labelsErr = parseLokiLabels(string(v))
		case 2:
			if typ != protowire.BytesType {
				return errors.New("StreamAdapter.entries: wrong wire type")
			}
			e, err := decodeLokiEntry(v)
			if err != nil {
				return fmt.Errorf("entry %d: %w", len(s.entries), err)
			}
			s.entries = append(s.entries, e)
		}
		return nil
	})
	return s, err
}

func decodeLokiEntry(b []byte) (lokiEntry, error) {
	var e lokiEntry
	var sec, nanos int64
	err := walkProto(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		switch num {
		case 1:
			if typ != protowire.BytesType {
				return errors.New("EntryAdapter.timestamp: wrong wire type")
			}
			return walkProto(v, func(num protowire.Number, typ protowire.Type, _ []byte, x uint64) error {
				if typ != protowire.VarintType {
					return nil // not ours to judge; the fields we read are varints
				}
				switch num {
				case 1:
					sec = int64(x)
				case 2:
					nanos = int64(int32(x))
				}
				return nil
			})
		case 2:
			if typ != protowire.BytesType {
				return errors.New("EntryAdapter.line: wrong wire type")
			}
			e.line = v
		case 3:
			if typ != protowire.BytesType {
				return errors.New("EntryAdapter.structuredMetadata: wrong wire type")
			}
			var p lokiLabel
			err := walkProto(v, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
				if typ != protowire.BytesType {
					return nil
				}
				switch num {
				case 1:
					p.name = string(v)
				case 2:
					p.value = string(v)
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("structured metadata: %w", err)
			}
			e.meta = append(e.meta, p)
		}
		return nil
	})
	// google.protobuf.Timestamp: nanos in [0, 1e9); Loki's own range check is the store's.
	switch {
	case nanos < 0 || nanos >= 1e9:
		e.err, e.reason = fmt.Errorf("timestamp nanos %d out of range", nanos), reasonBadTime
	case sec < 0 || sec > math.MaxInt64/int64(time.Second)-1:
		e.err, e.reason = fmt.Errorf("timestamp seconds %d out of range", sec), reasonBadTime
	default:
		e.ts = time.Unix(sec, nanos).UTC()
	}
	return e, err
}

// walkProto calls f for each field of a protobuf message: v is the payload of a bytes field,
// x the value of a varint or fixed field.
func walkProto(b []byte, f func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("bad protobuf tag: %w", protowire.ParseError(n))
		}
		b = b[n:]
		var (
			v []byte
			x uint64
		)
		switch typ {
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		case protowire.Fixed32Type:
			var x32 uint32
			x32, n = protowire.ConsumeFixed32(b)
			x = uint64(x32)
		case protowire.Fixed64Type:
			x, n = protowire.ConsumeFixed64(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return fmt.Errorf("bad protobuf field %d: %w", num, protowire.ParseError(n))
		}
		b = b[n:]
		if err := f(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}

// parseLokiLabels parses a stream's labels in Prometheus's text form, {a="b", c="d"}, with
// Go-style escapes in values, as Loki clients write them.
func parseLokiLabels(s string) ([]lokiLabel, error) {
	orig := s
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "{") || !strings.HasSuffix(s, "}") {
		return nil, fmt.Errorf("labels %q: want {name=\"value\", ...}", truncateMessage(orig, 128))
	}
	s = strings.TrimSpace(s[1 : len(s)-1])
	var out []lokiLabel
	for s != "" {
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return nil, fmt.Errorf("labels %q: expected name=\"value\"", truncateMessage(orig, 128))
		}
		name := strings.TrimSpace(s[:eq])
		if !validLabelName(name) {
			return nil, fmt.Errorf("labels %q: invalid label name %q", truncateMessage(orig, 128), truncateMessage(name, 64))
		}
		s = strings.TrimSpace(s[eq+1:])
		if !strings.HasPrefix(s, `"`) {
			return nil, fmt.Errorf("labels %q: value of %s is not quoted", truncateMessage(orig, 128), name)
		}
		end := 1
		for end < len(s) && s[end] != '"' {
			if s[end] == '\\' {
				end++
			}
			end++
		}
		if end >= len(s) {
			return nil, fmt.Errorf("labels %q: unterminated value of %s", truncateMessage(orig, 128), name)
		}
		value, err := strconv.Unquote(s[:end+1])
		if err != nil {
			return nil, fmt.Errorf("labels %q: value of %s: %w", truncateMessage(orig, 128), name, err)
		}
		out = append(out, lokiLabel{name, value})
		s = strings.TrimSpace(s[end+1:])
		if s == "" {
			break
		}
		if s[0] != ',' {
			return nil, fmt.Errorf("labels %q: expected , after the value of %s", truncateMessage(orig, 128), name)
		}
		s = strings.TrimSpace(s[1:])
	}
	return out, nil
}

func validLabelName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// lokiJSONPush is Loki's JSON push body:
// {"streams":[{"stream":{"a":"b"},"values":[["<ns>","line"],["<ns>","line",{"k":"v"}]]}]}
type lokiJSONPush struct {
	Streams []struct {
		Stream map[string]string   `json:"stream"`
		Values [][]json.RawMessage `json:"values"`
	} `json:"streams"`
}

// decodeLokiJSON decodes the JSON form. A malformed body is an error; a malformed entry is
// kept with its error so the rest of the request is stored.
func decodeLokiJSON(b []byte) ([]lokiStream, error) {
	var req lokiJSONPush
	if err := json.Unmarshal(b, &req); err != nil {
		return nil, fmt.Errorf("decode Loki JSON push: %w", err)
	}
	streams := make([]lokiStream, 0, len(req.Streams))
	for _, js := range req.Streams {
		var s lokiStream
		for k, v := range js.Stream {
			s.labels = append(s.labels, lokiLabel{k, v})
		}
		sortLabelPairs(s.labels)
		for _, v := range js.Values {
			s.entries = append(s.entries, decodeLokiJSONEntry(v))
		}
		streams = append(streams, s)
	}
	return streams, nil
}

func decodeLokiJSONEntry(v []json.RawMessage) lokiEntry {
	e := lokiEntry{reason: reasonBadRequest}
	if len(v) < 2 || len(v) > 3 {
		e.err = fmt.Errorf("entry has %d elements, want [\"<ns>\", \"<line>\"] or with structured metadata", len(v))
		return e
	}
	var ts json.Number
	if err := json.Unmarshal(v[0], &ts); err != nil {
		e.err, e.reason = fmt.Errorf("timestamp %s is not a string of nanoseconds", truncateMessage(string(v[0]), 64)), reasonBadTime
		return e
	}
	ns, err := strconv.ParseInt(string(ts), 10, 64)
	switch {
	case err != nil:
		e.err, e.reason = fmt.Errorf("timestamp %q is not an integer of nanoseconds", truncateMessage(string(ts), 64)), reasonBadTime
		return e
	case ns < 0:
		e.err, e.reason = errTimeNegative, reasonBadTime
		return e
	}
	e.ts = time.Unix(0, ns).UTC()
	var line string
	if err := json.Unmarshal(v[1], &line); err != nil {
		e.err = errors.New("line is not a string")
		return e
	}
	e.line = []byte(line)
	if len(v) == 3 {
		var meta map[string]string
		if err := json.Unmarshal(v[2], &meta); err != nil {
			e.err = errors.New("structured metadata is not an object of strings")
			return e
		}
		for k, val := range meta {
			e.meta = append(e.meta, lokiLabel{k, val})
		}
		sortLabelPairs(e.meta)
	}
	return e
}
