// Package live is routekeeper's view of a live Genesys Cloud org: how its routing
// entities are read, named, put in canonical form and written. The apply engine, the
// CLI (export, plan, diff) and the functions that record live state all go through it.
// It owns:
//
//   - reading the whole org with list endpoints only (Read: divisions, routing languages,
//     skills, queues, workbins and worktypes, concurrently inside the client's budget)
//     into an Org of Entities (raw JSON, canonical form, ETag); and the same read kept lean
//     (List: each entity's ETag and canonical JSON only, made as its page arrives), the
//     drift scan's;
//   - the id<->name maps of the org (Names) and the per-process cache of them with
//     refresh on a miss (Cache, Session);
//   - the canonical form of a live skill, queue or worktype (Canonical): exactly the shape
//     of a routekeeper spec, references by name, defaults explicit, sets sorted; its ETag is
//     the entity's ETag (shared/document.ETag over it);
//   - the inverse: request bodies from managed fields in spec shape (QueueBody for a queue
//     PUT from the raw object read, NewQueueBody, WorktypePatch, NewWorktypeBody), and the
//     respelling of references as the org spells them (OrgSpelling);
//   - one Adapter per managed kind (get, create, write, delete through the right
//     endpoint), and Session.Find, which finds an entity by its id hint or its name;
//   - the one constructor of a table observation from a live entity (Entity.Observation).
//
// The rules of the canonical form are written beside it (canonical.go); why the org is
// read with lists only is in docs/ARCHITECTURE.md, and the API facts all this rests on in
// docs/genesys-api.md.
package live
