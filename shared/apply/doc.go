// Package apply is routekeeper's apply engine: it takes one change request
// (shared/changes, routekeeper.change/v1) to Genesys Cloud safely. The apply Lambda
// (functions/apply) runs it for every SQS FIFO record, and `routekeeper apply --direct`
// runs the same engine in-process for users without the AWS stack.
//
// It owns the guarantees routekeeper makes about a change request:
//
//   - applied at most once: every request is claimed in the store first
//     (Powertools-style idempotency, store.Claim); a replay of a completed request returns
//     the stored Result without calling Genesys, and the same id with another payload is
//     rejected;
//   - never written over a concurrent edit it has not merged: the entity is re-read
//     immediately before the write and its ETag (document.ETag of the canonical form)
//     compared with the request's baseEtag; on a difference the change is three-way
//     merged and written only if the edits are disjoint;
//   - never lost: a failure that may pass (429, 5xx, timeouts, a request held by another
//     invocation, a skill or queue not created yet) returns a *RetryError and is counted on the
//     record (store.RecordAttempt) so SQS delivers the message again (and moves it to the
//     dead-letter queue after maxReceiveCount, with the reason on the record);
//   - every request ends in a recorded terminal state (APPLIED, NOOP, CONFLICT, REJECTED)
//     with a Result a user can query (`routekeeper status`).
//
// # Algorithm (per request)
//
//  1. Claim the change id with the payload hash (changes.PayloadHash). Completed: return
//     the stored Result (Replayed). Payload mismatch: REJECTED, not recorded over the
//     existing record. Held elsewhere: *RetryError.
//  2. Read the live entity: by the request's id hint, else by name through the names cache
//     (see below); canonicalise it (live.Canonical) and take its ETag.
//  3. update: ETag equal to baseEtag -> write the desired fields. Different -> three-way
//     merge, base = the document the change was planned against: the store's snapshot
//     of baseEtag (store.GetSnapshot; every observation is kept by ETag), else the
//     last-known state if its ETag is baseEtag, ours = document.Overlay(base,
//     desired), theirs = live. Conflicts -> CONFLICT with base/ours/theirs per path and
//     nothing written. No conflict -> write the merged values of the managed fields.
//     Whatever is to be written, if live already holds it -> NOOP.
//  4. Writes: queue PUT of the raw object read, edited with live.QueueBody (fields
//     routekeeper does not model are sent back untouched); worktype PATCH with
//     live.WorktypePatch; skills are only created and deleted (a skill's only managed
//     field is its name).
//  5. After a write the response is canonicalised and stored as the entity's last-known
//     state (store.PutObservation, source apply) with its new ETag, and the request is
//     completed with its Result. NOOP and CONFLICT also store what they read.
//
// # Decisions
//
// Unknown base. A webhook or scan recording the concurrent edit between plan and apply
// does not lose the base: it replaces the last-known state, but the planned document stays
// stored as the snapshot of its ETag. When the store holds no observation with the
// request's baseEtag at all (the entity was planned from another source, or the snapshot
// expired), the merge runs with an empty base: every managed field that live holds with
// another value than desired is a CONFLICT. That is the only answer that cannot write over
// an unseen edit. `routekeeper apply` records the observations it planned against so the
// base is normally known.
//
// Create. If an entity of that name already exists: equal to desired in every managed
// field -> NOOP (also what a redelivered create whose first attempt succeeded sees);
// otherwise CONFLICT listing the differing fields (base absent). routekeeper never adopts
// an entity someone else created with other settings: a person decides (edit the config
// or the entity) and re-plans, which then yields an update against a known ETag.
//
// Delete. Guarded by baseEtag like update: an entity changed since the plan is not
// deleted (CONFLICT, theirs listed); an entity already gone is NOOP. Queues are deleted
// without forceDelete, so Genesys refuses a queue that is still in use (REJECTED with its
// message). Skills carry a server version, but Genesys' DELETE takes none, so the
// canonical ETag (the name) and existence are what is checked.
//
// Update of a missing entity -> CONFLICT (theirs deleted it); nothing is created.
//
// Errors. Genesys 400/404/413 on a write and changes Genesys refuses for good end as
// REJECTED with the message. A reference that still does not resolve after a names
// refresh is REJECTED when it names an object routekeeper never creates (a routing
// language, division, workbin or member group: the config names something the org does
// not have, and no pending change can add it), and retryable when it names a skill or
// queue (another change request, in its own message group, may create it).
// 401/403 (credentials or role), 409 (Genesys answers transient conflicts on worktypes),
// 429, 5xx, transport errors and context deadlines are retryable. Anything unclassified is
// retryable too:
// retrying a permanent failure costs maxReceiveCount deliveries and ends in the DLQ with
// the reason recorded, while rejecting a transient one would lose the change.
//
// # Names cache
//
// Canonical documents reference other objects by name. The engine keeps the org's id<->name
// maps (live.Cache: divisions, routing languages, skills, queues, workbins; plus worktype
// ids by name) per process for Options.NamesTTL (default 5 minutes), and refreshes them at
// most once per request on a miss: an entity not found by name, a reference that does not
// resolve, or an ETag that differs from baseEtag (a stale name would change the canonical
// form). Entities the engine creates are added at once.
//
// Claim and clock. The work on a request ends at the invocation's deadline (without one,
// `apply --direct`, after Options.LockDuration: every Genesys call runs under that
// context), and the claim holds the request Options.ClockSkew longer. Another invocation
// judges the claim's expiry by its own clock; the margin keeps one whose clock runs ahead
// from taking over a request this one may still write.
//
// Apply calls run one at a time per Engine (a mutex): a FIFO batch is sequential anyway,
// and the names cache is then never read while it changes.
package apply
