// Package memlimit works out how much memory Vigil may use — from its configuration, from
// GOMEMLIMIT, or as a fraction of what the machine (or its cgroup) has — and applies it to the
// Go runtime (debug.SetMemoryLimit), so the garbage collector works harder before the kernel's
// OOM killer steps in. The ingest admission gate is sized from the same figure.
//
// It owns no state beyond the runtime setting it applies.
package memlimit
