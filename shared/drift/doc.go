// Package drift compares desired routing configuration with a live org, and one
// environment with another, and turns the difference into change requests. It works on
// documents (shared/entity Doc), so a desired state loaded from YAML (routing.Desired.Docs)
// and one read from the table (DocsOf) plan alike, and it links neither the config model
// nor its JSON Schema. It owns:
//
//   - plans: NewPlan compares desired documents with the live org (shared/live) field by
//     field over the declared fields only, matching names exactly and then ignoring case,
//     and lists creates, updates, deletes (with --prune), unmanaged entities and conflicts
//     that need a person (schema routekeeper.plan/v1);
//   - the Planner, which turns a plan into change requests (shared/changes) carrying the
//     ETag each entity was planned against, and Submit, the one path from a plan to sent
//     requests: `routekeeper apply` (queue or engine), the drift scan's revert mode and
//     the local event generator all use it;
//   - environment comparison: Compare of two Sides (a config, ConfigSide, or a live org,
//     LiveSide) by kind and name, the Report of `routekeeper diff` (schema
//     routekeeper.diff/v1) with the file:line of every difference a config declares;
//   - per-entity drift states (Assess, Transition, the routekeeper.drift/v1 event) and the
//     drift scan (Scanner: the whole org against the desired and the last-known state, its
//     report routekeeper.driftreport/v1 with the summary routekeeper.driftscan/v1), which
//     the drift scan function and `routekeeper drift --scan` both run.
package drift
