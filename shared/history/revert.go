package history

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/routekeeper/routekeeper/shared/apply"
	"github.com/routekeeper/routekeeper/shared/changes"
	"github.com/routekeeper/routekeeper/shared/document"
	"github.com/routekeeper/routekeeper/shared/drift"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/store"
)

// ErrNotRevertible is matched by every error saying why a change or an entity cannot be
// reverted (the reason says what to do instead).
var ErrNotRevertible = errors.New("history: cannot revert")

func notRevertible(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrNotRevertible, fmt.Sprintf(format, args...))
}

// Revert is the change that undoes a change (Inverse) or restores an earlier state
// (Restore), ready for drift.Submit as a one-change plan.
type Revert struct {
	// Of is the change reverted (Inverse), To the time restored (Restore).
	Of string     `json:"revertOf,omitempty"`
	To *time.Time `json:"to,omitempty"`
	// Key is the entity.
	Key entity.Key `json:"-"`
	// Change is the inverse: an update of the fields to put back (planned against the
	// entity's ETag now), a delete (of what a create made) or a create (from a snapshot).
	// Absent when Nothing says there is nothing to do.
	Change *drift.Change `json:"change,omitempty"`
	// Nothing says why there is nothing to revert (the change wrote nothing; the entity
	// is already as it was); "" otherwise.
	Nothing string `json:"nothing,omitempty"`
	// Notes are what a person should know before sending it (an entity re-created gets a
	// new id; a merge base that is no longer stored).
	Notes []string `json:"notes,omitempty"`
}

// Plan is the revert as a plan of one change (none when Nothing), for drift.Submit.
func (r *Revert) Plan() *drift.Plan {
	p := &drift.Plan{Schema: drift.PlanSchema, Environment: r.Key.Environment, Changes: []drift.Change{}}
	if r.Change != nil {
		p.Changes = append(p.Changes, *r.Change)
		switch r.Change.Action {
		case drift.ActionCreate:
			p.Summary.Create = 1
		case drift.ActionUpdate:
			p.Summary.Update = 1
		case drift.ActionDelete:
			p.Summary.Delete = 1
		}
	}
	return p
}

// Inverse builds the revert of change changeID from its record and the snapshot at its
// baseEtag (the state before): an update puts back the fields it wrote, with the values
// they had, planned against the ETag the change produced (so an edit since then is merged
// by the engine, or a CONFLICT); a create is undone by a delete of what it made, guarded
// by that ETag; a delete by a create from the snapshot. Only an APPLIED (or
// POSSIBLE_OVERWRITE) change can be reverted; a NOOP has Nothing to revert.
func Inverse(ctx context.Context, t Table, changeID string) (*Revert, error) {
	c, err := t.GetChange(ctx, changeID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("no change request %s in the table (records are kept 30 days; `routekeeper revert --to TIME KIND NAME` restores an earlier state from the history): %w", changeID, err)
	}
	if err != nil {
		return nil, err
	}
	if !c.Info.HasEntity() {
		return nil, notRevertible("change %s was not a valid change request (REJECTED, it names no entity)", changeID)
	}
	k := c.Info.Entity
	r := &Revert{Of: changeID, Key: k}
	switch c.Status {
	case store.StatusApplied, store.StatusPossibleOverwrite:
	case store.StatusNoop:
		r.Nothing = fmt.Sprintf("change %s ended NOOP: it changed nothing", changeID)
		return r, nil
	case store.StatusConflict, store.StatusRejected:
		return nil, notRevertible("change %s ended %s: it wrote nothing, so there is nothing to undo (routekeeper status %s says why; routekeeper history %s %q shows what changed %s since)",
			changeID, c.Status, changeID, k.Kind, k.Name, k.Kind)
	default:
		return nil, notRevertible("change %s is %s, not finished: wait for it (routekeeper status %s), then revert", changeID, c.Status, changeID)
	}
	var res apply.Result
	if err := json.Unmarshal(c.Result, &res); err != nil {
		return nil, notRevertible("change %s has no readable result: %v", changeID, err)
	}
	if c.Status == store.StatusPossibleOverwrite {
		r.Notes = append(r.Notes, fmt.Sprintf("change %s is POSSIBLE_OVERWRITE: someone else edited %s %q inside its write (routekeeper status %s); the revert puts back only the fields the change wrote", changeID, k.Kind, k.Name, changeID))
	}
	switch changes.Operation(c.Info.Operation) {
	case changes.OpUpdate:
		return inverseUpdate(ctx, t, r, res)
	case changes.OpCreate:
		if res.ETag == "" {
			return nil, notRevertible("change %s created %s %q but its result has no ETag to guard the delete with", changeID, k.Kind, k.Name)
		}
		r.Change = &drift.Change{Kind: k.Kind, Name: k.Name, ID: res.EntityID, Action: drift.ActionDelete, BaseETag: res.ETag}
		r.Notes = append(r.Notes, fmt.Sprintf("deletes %s %q (id %s), which change %s created; if it changed since, the delete ends CONFLICT and nothing is deleted", k.Kind, k.Name, res.EntityID, changeID))
		return r, nil
	case changes.OpDelete:
		before, err := snapshot(ctx, t, k, res.BaseETag, res.LiveETag)
		if errors.Is(err, errNoSnapshot) {
			return nil, notRevertible("change %s deleted %s %q, and the state before it is no longer stored (%v): re-create it from git with routekeeper apply", changeID, k.Kind, k.Name, err)
		}
		if err != nil {
			return nil, err
		}
		r.Change = &drift.Change{Kind: k.Kind, Name: k.Name, Action: drift.ActionCreate, Desired: before, Differences: differences(k, before, nil)}
		r.Notes = append(r.Notes, recreateNote(k, res.EntityID))
		return r, nil
	}
	return nil, notRevertible("change %s has operation %q", changeID, c.Info.Operation)
}

func inverseUpdate(ctx context.Context, t Table, r *Revert, res apply.Result) (*Revert, error) {
	k := r.Key
	if res.ETag == "" {
		return nil, notRevertible("change %s has no ETag of the state it produced", r.Of)
	}
	if slices.Contains(res.Written, "name") {
		return nil, notRevertible("change %s renamed %s %q: revert a rename from git with routekeeper apply", r.Of, k.Kind, k.Name)
	}
	before, err := snapshot(ctx, t, k, res.BaseETag, res.LiveETag)
	if errors.Is(err, errNoSnapshot) {
		return nil, notRevertible("the state change %s was planned against is no longer stored (%v): use routekeeper revert --to TIME %s %q", r.Of, err, k.Kind, k.Name)
	}
	if err != nil {
		return nil, err
	}
	written := res.Written
	if len(written) == 0 {
		// APPLIED without written fields: an unanswered write the engine found applied
		// on reading again. The fields are those that differ from before to after.
		after, err := snapshot(ctx, t, k, res.ETag)
		if errors.Is(err, errNoSnapshot) {
			return nil, notRevertible("change %s recorded no written fields and the state it produced is no longer stored: use routekeeper revert --to TIME %s %q", r.Of, k.Kind, k.Name)
		}
		if err != nil {
			return nil, err
		}
		written = document.Paths(document.Diff(after, before, document.IncludeUndeclared()))
		r.Notes = append(r.Notes, "the change recorded no written fields (its write went unanswered and was found applied): reverting every field that differs between the state before and after it")
	}
	desired, err := fieldsOf(before, written)
	if err != nil {
		return nil, notRevertible("change %s: %v", r.Of, err)
	}
	if len(desired) == 0 {
		r.Nothing = fmt.Sprintf("change %s wrote no fields", r.Of)
		return r, nil
	}
	r.Change = &drift.Change{Kind: k.Kind, Name: k.Name, ID: res.EntityID, Action: drift.ActionUpdate, BaseETag: res.ETag, Desired: desired}
	after, err := snapshot(ctx, t, k, res.ETag)
	switch {
	case err == nil:
		r.Change.Differences = differences(k, desired, after)
	case errors.Is(err, errNoSnapshot):
		r.Notes = append(r.Notes, fmt.Sprintf("the state change %s produced (%s) is no longer stored: if %s %q changed since, every field the revert sets and that differs is a CONFLICT instead of merged", r.Of, res.ETag, k.Kind, k.Name))
	default:
		return nil, err
	}
	return r, nil
}

// differences are the fields desired sets, from the values in live (the state the
// change is planned against), as a plan shows them.
func differences(k entity.Key, desired, live map[string]any) []drift.Difference {
	var out []drift.Difference
	for _, d := range document.Diff(desired, live) {
		out = append(out, drift.Difference{Kind: k.Kind, Name: k.Name, Difference: d})
	}
	return out
}

// Restore builds the change that brings entity k back to its managed fields as observed
// at at (the last observation at or before it): an update of the fields that differ from
// the last-known state (planned against its ETag, so an edit the table has not seen yet
// is merged or a CONFLICT), a create from that snapshot when the entity is gone now, a
// delete when the history shows it did not exist then (deleted, or created later by
// routekeeper).
func Restore(ctx context.Context, t Table, k entity.Key, at time.Time) (*Revert, error) {
	events, err := t.ListHistory(ctx, k, time.Time{})
	if err != nil {
		return nil, err
	}
	cur, err := t.GetObservation(ctx, k)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notRevertible("routekeeper has no last-known state of %s %q in %s (check the kind, the name's case and --environment)", k.Kind, k.Name, k.Environment)
	}
	if err != nil {
		return nil, err
	}
	to := at.UTC()
	r := &Revert{To: &to, Key: k}
	var then *store.HistoryEvent
	for i := range events {
		if e := &events[i]; e.Type == store.HistoryObserved && !e.At.After(at) {
			then = e
		}
	}
	absent := then != nil && then.Deleted
	if then == nil {
		if len(events) == 0 || !createdAfter(events, at) {
			start := "no history is kept"
			if len(events) > 0 {
				start = "its history starts at " + events[0].At.UTC().Format(time.RFC3339)
			}
			return nil, notRevertible("no observation of %s %q at or before %s (%s)", k.Kind, k.Name, to.Format(time.RFC3339), start)
		}
		absent = true
	}
	switch {
	case absent && cur.Deleted:
		r.Nothing = fmt.Sprintf("%s %q did not exist at %s and does not exist now", k.Kind, k.Name, to.Format(time.RFC3339))
	case absent:
		r.Change = &drift.Change{Kind: k.Kind, Name: k.Name, ID: cur.GenesysID, Action: drift.ActionDelete, BaseETag: cur.ETag}
		r.Notes = append(r.Notes, fmt.Sprintf("%s %q did not exist at %s: it is deleted (id %s)", k.Kind, k.Name, to.Format(time.RFC3339), cur.GenesysID))
	case cur.Deleted:
		doc, err := snapshotAt(ctx, t, k, then.ETag, to)
		if err != nil {
			return nil, err
		}
		r.Change = &drift.Change{Kind: k.Kind, Name: k.Name, Action: drift.ActionCreate, Desired: doc, Differences: differences(k, doc, nil)}
		r.Notes = append(r.Notes, recreateNote(k, then.GenesysID))
	case cur.ETag == then.ETag:
		r.Nothing = fmt.Sprintf("%s %q is as it was at %s (ETag %s)", k.Kind, k.Name, to.Format(time.RFC3339), cur.ETag)
	default:
		doc, err := snapshotAt(ctx, t, k, then.ETag, to)
		if err != nil {
			return nil, err
		}
		now, err := document.Decode(cur.Config)
		if err != nil {
			return nil, fmt.Errorf("last-known state of %s: %w", k, err)
		}
		desired, err := fieldsOf(doc, document.Paths(document.Diff(doc, now, document.IncludeUndeclared())))
		if err != nil {
			return nil, err
		}
		r.Change = &drift.Change{Kind: k.Kind, Name: k.Name, ID: cur.GenesysID, Action: drift.ActionUpdate, BaseETag: cur.ETag,
			Desired: desired, Differences: differences(k, desired, now)}
	}
	return r, nil
}

// snapshotAt is snapshot of the state observed at to.
func snapshotAt(ctx context.Context, t Table, k entity.Key, etag string, to time.Time) (map[string]any, error) {
	doc, err := snapshot(ctx, t, k, etag)
	if errors.Is(err, errNoSnapshot) {
		return nil, notRevertible("the state of %s %q at %s is no longer stored (%v)", k.Kind, k.Name, to.Format(time.RFC3339), err)
	}
	return doc, err
}

// createdAfter reports whether the first step of events after at is routekeeper's own
// create of the entity: then it did not exist at at.
func createdAfter(events []store.HistoryEvent, at time.Time) bool {
	for _, e := range events {
		if e.At.After(at) && e.Type == store.HistoryChange {
			return e.Operation == string(changes.OpCreate) && (e.Status == store.StatusApplied || e.Status == store.StatusPossibleOverwrite)
		}
		if e.At.After(at) && e.Type == store.HistoryObserved {
			return false
		}
	}
	return false
}

// errNoSnapshot: none of the snapshots asked for is stored.
var errNoSnapshot = errors.New("no snapshot stored")

// snapshot returns the document of the first of etags whose snapshot is stored, or an
// error wrapping errNoSnapshot.
func snapshot(ctx context.Context, t Table, k entity.Key, etags ...string) (map[string]any, error) {
	last := fmt.Errorf("%w: no ETag recorded", errNoSnapshot)
	for _, etag := range etags {
		if etag == "" {
			continue
		}
		o, err := t.GetSnapshot(ctx, k, etag)
		if errors.Is(err, store.ErrNotFound) {
			last = fmt.Errorf("%w of %s", errNoSnapshot, etag)
			continue
		}
		if err != nil {
			return nil, err
		}
		return document.Decode(o.Config)
	}
	return nil, last
}

// fieldsOf returns the values doc holds at paths, as managed fields: a field absent from
// doc is null (clear it), and a path through a value that is not an object takes that
// whole value.
func fieldsOf(doc map[string]any, paths []string) (map[string]any, error) {
	out := map[string]any{}
	for _, p := range paths {
		keys, err := document.ParsePath(p)
		if err != nil {
			return nil, err
		}
		if len(keys) == 0 {
			return nil, fmt.Errorf("path %q names the whole entity", p)
		}
		setField(out, doc, keys)
	}
	return out, nil
}

func setField(out, doc map[string]any, keys []string) {
	k := keys[0]
	v, ok := doc[k]
	if !ok {
		out[k] = nil
		return
	}
	sub, isObject := v.(map[string]any)
	if len(keys) == 1 || !isObject {
		out[k] = document.Clone(v)
		return
	}
	o, exists := out[k]
	into, isMap := o.(map[string]any)
	if exists && !isMap {
		return // the whole value is set already
	}
	if !exists {
		into = map[string]any{}
		out[k] = into
	}
	setField(into, sub, keys[1:])
}

// recreateNote says what re-creating an entity does not bring back.
func recreateNote(k entity.Key, oldID string) string {
	was := ""
	if oldID != "" {
		was = " (it was " + oldID + ")"
	}
	if k.Kind == entity.Skill {
		return fmt.Sprintf("skill %q is re-created with a new id%s: Genesys refers to skills by id, so the agents who had it and the worktypes and queues that referred to the old skill do not get it back; re-assign it to agents, and apply the configs that name it again", k.Name, was)
	}
	return fmt.Sprintf("%s %q is re-created with a new id%s from its last snapshot: only the fields routekeeper manages come back; what referred to the old id (members, flows, other objects) does not", k.Kind, k.Name, was)
}
