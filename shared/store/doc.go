// Package store is routekeeper's memory: one DynamoDB table (template.yaml, logical ID
// Table) holding what was last seen in Genesys, what git wants, the fate of every change
// request, and the small state of the scheduled functions. It is the one place that knows
// each key shape; callers pass entity keys, ids and times, never pk/sk strings.
//
// # Key layout
//
// Every item has a partition key pk and a sort key sk (strings). Change requests and
// history steps also set gsi1pk/gsi1sk, which makes the sparse index gsi1 list each newest
// first per environment (two key spaces: CHANGES#<env> and HIST#<env>).
// Items that expire carry ttl (epoch seconds, the table's TTL attribute); because DynamoDB
// deletes expired items only eventually (within days), reads that matter compare against
// the clock too.
//
//	item                   pk                         sk                          gsi1pk / gsi1sk                          ttl
//	last-known entity      ENV#<env>                  ENTITY#<kind>#<name>        -                                        -
//	desired entity         ENV#<env>                  DESIRED#<kind>#<name>       -                                        -
//	snapshot (by ETag)     ENV#<env>                  SNAP#<kind>#<name>#<etag>   -                                        last put + retention
//	drift report           ENV#<env>                  DRIFT#<generatedAt>         -                                        caller's retention
//	drift report part      ENV#<env>                  DRIFTPART#<generatedAt>#<n> -                                        its report's
//	drift state            ENV#<env>                  STATE#<kind>#<name>         -                                        - (durable)
//	overflow state         ENV#<env>                  OVERFLOW#<worktype>         -                                        - (durable)
//	desired overflow rule  ENV#<env>                  RULE#<rule>                 -                                        -
//	change request         CHANGE#<changeId>          CHANGE                      CHANGES#<env> / <requestedAt>#<changeId> expiresAt
//	revert link            CHANGE#<revertId>          REVERTOF                    -                                        put + retention
//	history step           HIST#<env>#<kind>#<name>   <at>#<type>#<discriminator> HIST#<env> / <at>#<kind>#<name>          put + retention
//	occupancy sample       OCC#<env>#<queueId>        <sampledAt>                 -                                        caller's retention
//	webhook event id       EVENT#<eventId>            EVENT                       -                                        caller's window
//
// <kind> is queue, skill or worktype; <name> is the entity's Genesys name, last in the key
// so it may contain any character, '#' included. In a snapshot key <etag> follows the name;
// it has a fixed shape (sha256:<64 hex digits>), so the key stays unambiguous, but a
// snapshot is only ever read by its exact key: a prefix query for one name's snapshots
// would also match names that continue with '#'. Environments must not contain '#'.
// Times in keys and attributes are UTC with fixed-width nanoseconds
// (2006-01-02T15:04:05.000000000Z), so string order is time order.
//
// The retention is SnapshotRetention (30 days), or SNAPSHOT_RETENTION_DAYS (the template's
// SnapshotRetentionDays); a history step keeps <type> (observed, change, drift, overflow),
// and its discriminator (the ETag or "deleted", the change id, the drift state, the
// overflow's active flag) makes a rewrite of the same fact land on the same item.
//
// A change request's entity (environment, kind, name) is stored as attributes, not in its
// keys. The record of a message too broken to name its entity (operation "invalid",
// REJECTED) has an environment but no kind and name; gsi1 lists it like any other.
//
// Desired overflow rules (RULE#<rule>, the assignment rules' overflow side with the
// hysteresis defaults applied) are published with the desired entities and replaced as a
// set (PublishOverflowRules); the occupancy function reads them with one query. Its
// overflow state (OVERFLOW#<worktype>) is written only over the version it read
// (SwapOverflowState), so overlapping runs cannot both switch a worktype. <rule> and
// <worktype> are last in their keys, like <name>.
//
// A drift report is a summary item and the entities it lists in part items of at most
// MaxReportPartBytes (<n> is 00000, 00001, ...), under DynamoDB's 400 KB item limit; the
// history is the summaries, newest first (ListDriftReports). The scan reads the stored
// ETags of a whole environment with one query (ListObservedETags) and records the changed
// observations in bulk (PutObservations: snapshots batch-written, last-known states with
// their condition).
//
// Everything about one environment's configuration shares the partition ENV#<env>: a drift
// scan reads last-known and desired state with two queries on one partition. Change requests
// and webhook event ids are looked up by id, so each is its own partition; a revert's link
// shares its change's partition, so GetChange reads both with one query (the revert's record
// may not exist yet: the apply function claims it later).
//
// # History
//
// Each entity has an append-only timeline in its own partition HIST#<env>#<kind>#<name>
// (history.go): ListHistory is one query of it, RecentHistory one query of gsi1 for the
// environment. The store methods that record a fact append its step, so no caller can
// forget it: PutObservation(s) when an observation changes the ETag, the Genesys id or
// whether the entity exists (or is the first); Complete for a change's outcome (and a
// replay by Claim, should that step be missing); PutDriftState when the state changes;
// Put/SwapOverflowState when an overflow starts or ends (on its worktype). A step names
// ETags, never configuration: the managed fields a step changed are the difference of the
// snapshots it names, kept as long as the step (GetSnapshots reads many at once).
//
// Write cost: the previous state comes back from the write itself (ReturnValues, which
// costs no capacity), so an observation that changes nothing costs nothing more. A step is
// one PutItem of an item well under 1 KB: 1 write unit on the table and 1 on gsi1, 2 in
// all, per ETag change, change outcome, drift transition or overflow switch (a drift step
// keeps its differences up to MaxHistoryDifferences, so at most 3 + 3). A write that fails
// after its fact was stored returns ErrHistoryNotRecorded.
//
// # Values
//
// Configuration (last-known, snapshots and desired), change results and drift reports are
// stored as JSON bytes, not DynamoDB maps: the ETag is the sha256 of exact canonical JSON
// bytes, and a map would lose key order, the int/float distinction of numbers and empty
// containers, so the stored config could no longer be re-hashed to its ETag. The store
// never looks inside them. Configuration is gzip-compressed in a binary attribute
// (storedJSON, about a sixth of the JSON): a scan's queries of a whole environment read
// fewer pages (DynamoDB pages by 1 MB of whole items, projection or not); a string
// attribute, as items written before compression hold it, still reads.
//
// # Concurrency
//
// Last-known state is written with a condition on observedAt, so an older observation (a
// slow drift scan) never overwrites a newer one (a webhook).
//
// Snapshots keep what last-known state forgets. Every observation is also written,
// unconditionally and before the last-known item, as the snapshot of its ETag: canonical
// JSON addressed by its own hash, so rewriting one only refreshes its TTL. A change request
// names the ETag it was planned against (baseEtag); the apply engine reads that snapshot as
// the base of its three-way merge, so a webhook that records an admin's edit between plan
// and apply no longer hides the base. Snapshots expire the retention after their last
// write. Change requests follow the AWS
// Lambda Powertools idempotency design; see [Store.Claim].
//
// # In memory
//
// [Memory] is the in-process stand-in for the change-record and entity-state methods
// (`routekeeper apply --direct` without a table); it keeps no history. Its methods validate, refuse and return
// what Store's do; one contract test suite runs against both, Store on moto.
package store
