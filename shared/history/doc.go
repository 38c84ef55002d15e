// Package history answers the two questions asked after an incident: what happened to
// this entity, and how to put it back. It reads what the table remembers (shared/store:
// the append-only history steps, the snapshots by ETag, the change records) and owns:
//
//   - timelines: Timeline of one entity and Recent of an environment, each step with its
//     source, ETag, who when known, and the managed fields it changed (the difference of
//     consecutive snapshots, a change's written fields, a drift state's differences),
//     schema routekeeper.history/v1 (`routekeeper history`);
//   - reverts: Inverse builds the change that undoes an applied change from the snapshot
//     at its baseEtag, for the fields it wrote, planned against the ETag it produced;
//     Restore builds the change that brings an entity back to what was observed at a
//     time. Both are a one-change drift.Plan for drift.Submit, so a revert travels the
//     same pipeline (change queue or engine), ETag-guarded: the usual three-way merge
//     applies if the entity moved since, or CONFLICT (`routekeeper revert`).
//
// It writes nothing itself; the CLI submits the plan and links the records
// (store.LinkRevert).
package history
