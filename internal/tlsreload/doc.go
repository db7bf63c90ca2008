// Package tlsreload serves TLS from certificate files that may be replaced while the process
// runs (cert-manager, a renewal cron job, a Kubernetes secret mount): a handshake looks at the
// files' modification times at most every CheckInterval, and a changed pair is loaded in the
// background of that handshake. An explicit Reload (on SIGHUP or POST /-/reload) re-reads at
// once.
//
// It owns only the files and the tls.Config built from them; listeners belong to the caller.
// Invariant: a handshake always gets a complete, consistent configuration: a certificate and
// key that do not load together (a renewal caught half-written) leave the previous ones in
// service, and the failure is logged and counted.
package tlsreload
