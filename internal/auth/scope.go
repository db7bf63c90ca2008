package auth

import (
	"fmt"
	"strings"
)

// Scope is a set of permissions. A credential holds exactly the scopes it lists: admin does not
// imply read, so a UI operator's token usually lists [read, admin].
type Scope uint8

const (
	// Ingest writes telemetry: remote write, imports, log/trace pushes, OTLP, alerts sent by
	// Prometheus servers.
	Ingest Scope = 1 << iota
	// Read runs queries, reads /metrics and uses the UI.
	Read
	// Admin reloads the configuration, writes silences, acknowledgements and dashboards, and
	// profiles the process.
	Admin
)

var scopeNames = []struct {
	s    Scope
	name string
}{{Ingest, "ingest"}, {Read, "read"}, {Admin, "admin"}}

// ParseScope parses one scope name.
func ParseScope(name string) (Scope, error) {
	for _, n := range scopeNames {
		if n.name == name {
			return n.s, nil
		}
	}
	return 0, fmt.Errorf("unknown scope %q (want ingest, read or admin)", name)
}

// Has reports whether s holds every scope of need.
func (s Scope) Has(need Scope) bool { return s&need == need }

func (s Scope) String() string {
	var names []string
	for _, n := range scopeNames {
		if s&n.s != 0 {
			names = append(names, n.name)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ",")
}
