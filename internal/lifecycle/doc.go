// Package lifecycle starts Vigil's components in dependency order, reports which are not yet
// ready (for /readyz), and stops them in reverse order within a deadline.
//
// It knows nothing about what a component is: a name, a Start that returns once the component
// serves (a store has replayed its WAL, a listener is bound), a Stop that returns once it has
// flushed and released everything, and optionally a channel on which it reports dying later.
// Invariant: Stop is called exactly once for every component whose Start returned nil, and for
// no other, in the reverse of the order they started.
package lifecycle
