// Package apply is routekeeper's apply engine: it takes one change request
// (shared/changes, routekeeper.change/v1) to Genesys Cloud safely. The apply Lambda
// (functions/apply) runs it for every SQS FIFO record, and `routekeeper apply --direct`
// runs the same engine in-process.
//
// It owns the guarantees routekeeper makes about a change request:
//
//   - applied at most once: every request is claimed in the store first (Powertools-style
//     idempotency, idempotency.go over store.Claim); a replay of a completed request
//     returns the stored Result without calling Genesys, and the same id with another
//     payload is rejected;
//   - never written over a concurrent edit it has not merged: the entity is re-read just
//     before the write and its ETag compared with the request's baseEtag; on a difference
//     the change is three-way merged with the snapshot of baseEtag as the base
//     (change.go) and written only if the edits are disjoint; what a merge needs (the
//     names refreshed, the base) is fetched before a second read, so between the read a
//     write is built on and the write there is only the merge (window.go measures it);
//   - never lost: a failure that may pass (shared/retry) returns a *RetryError and is
//     counted on the record, so SQS delivers the message again (and moves it to the
//     dead-letter queue after maxReceiveCount, with the reason on the record);
//   - every request ends in a recorded terminal state (APPLIED, NOOP, CONFLICT, REJECTED)
//     with a Result a user can query (`routekeeper status`).
//
// Reading and writing Genesys goes through a shared/live Session of the engine's names
// cache (names reused for Options.NamesTTL, refreshed at most once per request on a miss).
// The work on a request ends at the invocation's deadline (without one, after
// Options.LockDuration) and the claim holds Options.ClockSkew longer. Apply calls run one
// at a time per Engine. The decisions behind create, delete, references and unknown bases
// are in docs/ARCHITECTURE.md.
package apply
