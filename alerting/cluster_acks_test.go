package alerting

import (
	"path/filepath"
	"testing"
	"time"
)

// TestAckStateMerge: gossiped acknowledgements merge by time, and one made before this peer
// forgot the group's acknowledgement (its incident ended) does not come back.
func TestAckStateMerge(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	f := func(name string, local map[string]Ack, forgotten map[string]time.Time, in []byte, want map[string]Ack) {
		t.Run(name, func(t *testing.T) {
			s, err := openAckStore(filepath.Join(t.TempDir(), "acks.json"))
			if err != nil {
				t.Fatal(err)
			}
			for k, a := range local {
				s.acks[k] = a
			}
			for k, f := range forgotten {
				s.forgotten[k] = f
			}
			if err := s.save(); err != nil {
				t.Fatal(err)
			}
			if err := s.Merge(in); err != nil {
				t.Fatal(err)
			}
			if len(s.acks) != len(want) {
				t.Fatalf("acks = %v, want %v", s.acks, want)
			}
			for k, w := range want {
				if g := s.acks[k]; !g.At.Equal(w.At) || g.By != w.By {
					t.Fatalf("acks[%s] = %v, want %v", k, g, w)
				}
			}
			// What was merged is on disk, as a local acknowledgement would be.
			re, err := openAckStore(s.path)
			if err != nil {
				t.Fatal(err)
			}
			if len(re.acks) != len(want) {
				t.Fatalf("reopened acks = %v, want %v", re.acks, want)
			}
		})
	}
	f("new ack is taken", nil, nil,
		encodeAckState(map[string]Ack{"g": {At: at(1), By: "bob"}}, nil),
		map[string]Ack{"g": {At: at(1), By: "bob"}})
	f("newer ack wins", map[string]Ack{"g": {At: at(1), By: "bob"}}, nil,
		encodeAckState(map[string]Ack{"g": {At: at(2), By: "alice"}}, nil),
		map[string]Ack{"g": {At: at(2), By: "alice"}})
	f("older ack loses", map[string]Ack{"g": {At: at(2), By: "alice"}}, nil,
		encodeAckState(map[string]Ack{"g": {At: at(1), By: "bob"}}, nil),
		map[string]Ack{"g": {At: at(2), By: "alice"}})
	f("ack older than a local forget stays forgotten", nil, map[string]time.Time{"g": at(5)},
		encodeAckState(map[string]Ack{"g": {At: at(1), By: "bob"}}, nil),
		map[string]Ack{})
	f("ack of a new incident after the forget is taken", nil, map[string]time.Time{"g": at(5)},
		encodeAckState(map[string]Ack{"g": {At: at(6), By: "bob"}}, nil),
		map[string]Ack{"g": {At: at(6), By: "bob"}})
	f("a peer's forget drops an older local ack", map[string]Ack{"g": {At: at(1), By: "bob"}, "h": {At: at(1)}}, nil,
		encodeAckState(nil, map[string]time.Time{"g": at(5)}),
		map[string]Ack{"h": {At: at(1)}})
	f("a peer's forget keeps a newer local ack", map[string]Ack{"g": {At: at(9), By: "bob"}}, nil,
		encodeAckState(nil, map[string]time.Time{"g": at(5)}),
		map[string]Ack{"g": {At: at(9), By: "bob"}})

	s, err := openAckStore(filepath.Join(t.TempDir(), "acks.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Merge([]byte("not json")); err == nil {
		t.Fatal("Merge accepted a corrupt state")
	}
}
