// Package changes owns routekeeper's change-request message: the versioned JSON
// body that travels on the SQS FIFO change queue from whoever plans a change
// (`routekeeper apply`, the drift scan in revert mode) to the apply Lambda.
//
// It owns:
//
//   - the wire format, schema "routekeeper.change/v1" ([Request], [Decode],
//     [Encode], [Request.Validate]) and its validation rules, with errors that
//     name the offending field ([*InvalidError], [ErrInvalid]);
//   - the identity of a change's target: the entity key ([Entity.Key]), the FIFO
//     MessageGroupId derived from it ([Entity.GroupID]) and the change id that
//     doubles as MessageDeduplicationId ([NewChangeID]);
//   - the idempotency payload hash the apply Lambda stores with each change
//     record ([PayloadHash]);
//   - publishing to the queue in batches without losing a request ([Publisher]).
//
// # Wire format (routekeeper.change/v1)
//
//	{
//	  "schema": "routekeeper.change/v1",
//	  "changeId": "chg-0190b6d4-7c4e-7a51-9d7e-6b2f0c1d2e3f",
//	  "environment": "prod",
//	  "entity": {"type": "queue", "name": "Claims Tasks", "id": "…uuid, optional…"},
//	  "operation": "update",
//	  "desired": {"description": "Claims", "acwSettings": {"timeoutMs": 30000}},
//	  "baseEtag": "sha256:<64 lower-case hex>",
//	  "reason": "routekeeper apply of routing/prod.yaml at 3f2c1a9",
//	  "requestedBy": "ci@github-actions",
//	  "createdAt": "2025-01-02T03:04:05Z"
//	}
//
// desired holds only the managed fields, with references by name (never
// org-specific ids); it is required for create and update and absent for
// delete. baseEtag is the ETag (shared/document.ETag) the change was planned
// against: required for update and delete, absent for create (there is nothing
// to be concurrent with). Decoding is strict: unknown or duplicate keys
// (at any depth, also inside desired), keys in the wrong case, trailing data
// and bodies over [MaxMessageBytes] are rejected. Numbers inside desired are
// decoded as json.Number, exactly as shared/document decodes documents, so a
// value survives the queue unchanged.
//
// # Identity and SQS FIFO
//
// An entity is identified by environment, type and name ("prod/queue/Claims
// Tasks"); ids differ between orgs and do not exist before create. SQS allows
// only ASCII alphanumerics and punctuation (no spaces) and at most 128
// characters in MessageGroupId, so the group id is "<env>.<type>." followed by
// the hex SHA-256 of the name: deterministic, collision-free in practice and
// valid for any name (spaces, unicode). All changes of one entity share a
// group and therefore apply one at a time, in order.
//
// MessageDeduplicationId is the changeId. Change ids are random, time-ordered
// (UUIDv7, "chg-" prefix, 40 characters), generated once when a change is
// planned, rather than a hash of the change's content. Resending the same
// Request (a publisher retry, a CLI retry of the same plan) reuses its id, so
// SQS drops the copy within its 5-minute window and the apply Lambda's
// idempotency record catches it after that. A content hash would also merge
// two *different* occurrences of the same change: revert drift A->B, someone
// makes the same edit again (same live state, same baseEtag), and the second
// revert would be swallowed as a replay of the first. Re-planning is safe
// without content ids because of ETags: a re-planned duplicate of a change that
// already applied finds the live entity equal to desired and ends as NOOP.
//
// # Planning
//
// Plans become change requests in shared/drift (Planner, Submit): one Request per entity
// change, ChangeID from NewChangeID, Desired from the plan's managed fields (names, not
// ids), BaseEtag from the live ETag the entity was planned against, each validated, and
// handed to Publisher.Publish in plan order (ordering only matters within an entity; the
// publisher preserves it). This package depends only on shared/document and
// shared/entity, so the apply function links neither the config model nor its schema.
package changes
