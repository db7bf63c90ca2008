// Package buildinfo holds the version facts stamped into the binary at link time
// (see the Makefile's LDFLAGS) and reports them to `vigil version`, /metrics and the
// Prometheus status/buildinfo API.
package buildinfo

import "runtime"

// Set with -ldflags "-X github.com/vigilhq/vigil/internal/buildinfo.Version=..." and so on.
// They are variables only because the linker can set nothing else; nothing writes them at
// run time.
var (
	Version   = "dev"
	Commit    = "unknown"
	Branch    = "unknown"
	BuildDate = "unknown"
)

// Info is a snapshot of the build facts.
type Info struct {
	Version   string
	Commit    string
	Branch    string
	BuildDate string
	GoVersion string
}

// Get returns the build facts of this binary.
func Get() Info {
	return Info{
		Version:   Version,
		Commit:    Commit,
		Branch:    Branch,
		BuildDate: BuildDate,
		GoVersion: runtime.Version(),
	}
}
