package alerting

import (
	"encoding/json"
	"fmt"
	"time"
)

// Acknowledgements are Vigil's, so Alertmanager's cluster does not carry them; they are
// gossiped as a third cluster state, "vigil_ack", beside "sil" and "nfl", so that
// acknowledging a group on either peer stops its escalation on both. The state is small (one
// entry per acknowledged group) and merges by time: the newest acknowledgement of a group
// wins, and one made before the group's acknowledgement was forgotten here (its incident
// ended) is not brought back by a peer that has not forgotten it yet.

// ackState is the wire form of the state, JSON: full state at push-pull, one acknowledgement
// per broadcast.
type ackState struct {
	Acks      map[string]Ack       `json:"acks,omitempty"`
	Forgotten map[string]time.Time `json:"forgotten,omitempty"`
}

func encodeAckState(acks map[string]Ack, forgotten map[string]time.Time) []byte {
	b, _ := json.Marshal(ackState{Acks: acks, Forgotten: forgotten}) // maps of strings and times
	return b
}

// setBroadcast makes ack broadcast each new acknowledgement.
func (s *ackStore) setBroadcast(f func([]byte)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.broadcast = f
}

// MarshalBinary is cluster.State's: the full state, for push-pull.
func (s *ackStore) MarshalBinary() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return encodeAckState(s.acks, s.forgotten), nil
}

// Merge is cluster.State's: it folds a peer's state or broadcast in, and saves the file when
// anything changed.
func (s *ackStore) Merge(b []byte) error {
	var in ackState
	if err := json.Unmarshal(b, &in); err != nil {
		return fmt.Errorf("decode gossiped acknowledgements: %w", err)
	}
	s.mu.Lock()
	changed := false
	for k, at := range in.Forgotten {
		if at.After(s.forgotten[k]) {
			s.forgotten[k] = at
		}
		if a, ok := s.acks[k]; ok && !a.At.After(at) {
			delete(s.acks, k)
			changed = true
		}
	}
	for k, a := range in.Acks {
		if f, ok := s.forgotten[k]; ok && !a.At.After(f) {
			continue
		}
		if cur, ok := s.acks[k]; !ok || a.At.After(cur.At) {
			s.acks[k] = a
			changed = true
		}
	}
	s.mu.Unlock()
	if !changed {
		return nil
	}
	return s.save()
}
