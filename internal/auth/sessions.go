package auth

import (
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"
)

// session is all the server keeps about a login: whose token it was, what it may do, and
// until when. The cookie holds only the random id.
type session struct {
	name    string
	scopes  Scope
	expires time.Time
}

type sessions struct {
	max int
	mu  sync.Mutex
	m   map[string]session
}

func newSessions(max int) *sessions { return &sessions{max: max, m: map[string]session{}} }

// create starts a session and returns its id: 32 random bytes, unguessable.
func (s *sessions) create(name string, scopes Scope, ttl time.Duration, now time.Time) string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (it crashes the program instead)
	id := base64.RawURLEncoding.EncodeToString(b[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) >= s.max {
		s.evictLocked(now)
	}
	s.m[id] = session{name: name, scopes: scopes, expires: now.Add(ttl)}
	return id
}

// evictLocked drops expired sessions, and if none had expired, the one closest to expiry.
func (s *sessions) evictLocked(now time.Time) {
	oldest, oldestID := time.Time{}, ""
	for id, ss := range s.m {
		if !now.Before(ss.expires) {
			delete(s.m, id)
			continue
		}
		if oldestID == "" || ss.expires.Before(oldest) {
			oldest, oldestID = ss.expires, id
		}
	}
	if len(s.m) >= s.max && oldestID != "" {
		delete(s.m, oldestID)
	}
}

func (s *sessions) get(id string, now time.Time) (session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.m[id]
	if ok && !now.Before(ss.expires) {
		delete(s.m, id)
		return session{}, false
	}
	return ss, ok
}

func (s *sessions) delete(id string) {
	s.mu.Lock()
	delete(s.m, id)
	s.mu.Unlock()
}

func (s *sessions) dropNames(names map[string]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, ss := range s.m {
		if names[ss.name] {
			delete(s.m, id)
		}
	}
}

func (s *sessions) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}
