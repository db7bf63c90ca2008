// Package auth decides who may use Vigil's listeners: bearer tokens and HTTP basic-auth users,
// each with scopes (ingest, read, admin), checked by an HTTP middleware and by gRPC
// interceptors; and the UI's login, which trades a pasted token for a session cookie.
//
// It knows nothing about routes or configuration files: the caller says which scope a request
// needs (a Rule) and hands over credentials whose secrets it has already read. Secrets are kept
// only as SHA-256 digests and compared in constant time; nothing here logs a secret, only the
// name of the credential that was used.
//
// Invariants:
//   - With no credentials set, every check passes: a Vigil without auth behaves as if this
//     package did not exist (no 401, no CSRF check, /login redirects away).
//   - A session is a random id mapped server-side to a credential's name, scopes and expiry;
//     the cookie carries the id and nothing else. Changing or removing a token ends its
//     sessions.
//   - Requests authenticated by the session cookie that change state pass net/http's
//     CrossOriginProtection; requests carrying an Authorization header are not sent by
//     browsers on their own and need no CSRF check.
//   - Every refusal is counted in vigil_auth_refusals_total{listener,reason}.
package auth
