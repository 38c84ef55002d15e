package history

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/routekeeper/routekeeper/shared/apply"
	"github.com/routekeeper/routekeeper/shared/document"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/store"
)

// Schema is the schema of a timeline's JSON (`routekeeper history --format json`).
const Schema = "routekeeper.history/v1"

// Table is the part of the routekeeper table history reads (*store.Store satisfies it).
type Table interface {
	ListHistory(ctx context.Context, k entity.Key, since time.Time) ([]store.HistoryEvent, error)
	RecentHistory(ctx context.Context, env string, since time.Time, limit int) ([]store.HistoryEvent, error)
	GetSnapshots(ctx context.Context, refs []store.SnapshotRef) (map[store.SnapshotRef]store.Observation, error)
	GetSnapshot(ctx context.Context, k entity.Key, etag string) (store.Observation, error)
	GetChanges(ctx context.Context, ids []string) (map[string]*store.Change, error)
	GetChange(ctx context.Context, changeID string) (*store.Change, error)
	GetObservation(ctx context.Context, k entity.Key) (store.Observation, error)
}

// Report is a timeline: one entity's (Entity set, oldest step first) or an environment's
// most recent steps (newest first).
type Report struct {
	Schema      string     `json:"schema"`
	Environment string     `json:"environment"`
	Entity      *Ref       `json:"entity,omitempty"`
	Since       *time.Time `json:"since,omitempty"`
	Steps       []Step     `json:"steps"`
	// LastKnown is the entity's last-known state (Timeline only; absent when none).
	LastKnown *LastKnown `json:"lastKnown,omitempty"`
}

// Ref names an entity of the report's environment.
type Ref struct {
	Kind entity.Kind `json:"kind"`
	Name string      `json:"name"`
}

// LastKnown is the entity's last-known state, what a revert is planned against.
type LastKnown struct {
	ETag       string       `json:"etag,omitempty"`
	GenesysID  string       `json:"genesysId,omitempty"`
	Deleted    bool         `json:"deleted,omitempty"`
	Source     store.Source `json:"source"`
	ObservedAt time.Time    `json:"observedAt"`
}

// Step is one thing that happened to an entity.
type Step struct {
	At   time.Time         `json:"at"`
	Kind entity.Kind       `json:"kind"`
	Name string            `json:"name"`
	Type store.HistoryType `json:"type"` // observed, change, drift, overflow
	// Source is how an observation was made: plan, apply, webhook or scan.
	Source    store.Source `json:"source,omitempty"`
	ETag      string       `json:"etag,omitempty"`
	PrevETag  string       `json:"prevEtag,omitempty"`
	GenesysID string       `json:"genesysId,omitempty"`
	By        *By          `json:"by,omitempty"`
	// Summary says in words what happened.
	Summary string `json:"summary"`
	// Fields are the managed fields the step changed (JSON paths); FieldsUnknown says why
	// they cannot be told when they cannot (a snapshot or change record no longer kept).
	Fields        []string      `json:"fields,omitempty"`
	FieldsUnknown string        `json:"fieldsUnknown,omitempty"`
	Change        *ChangeStep   `json:"change,omitempty"`
	Drift         *DriftStep    `json:"drift,omitempty"`
	Overflow      *OverflowStep `json:"overflow,omitempty"`
}

// By is who made a step happen, as far as it is known: the Genesys user and OAuth client
// of the audit event behind an observation, or who requested a change.
type By struct {
	UserID      string `json:"userId,omitempty"`
	ClientID    string `json:"clientId,omitempty"`
	EventID     string `json:"eventId,omitempty"`
	RequestedBy string `json:"requestedBy,omitempty"`
}

func (b *By) String() string {
	if b == nil {
		return ""
	}
	var parts []string
	if b.RequestedBy != "" {
		parts = append(parts, b.RequestedBy)
	}
	if b.UserID != "" {
		parts = append(parts, "user "+b.UserID)
	}
	if b.ClientID != "" {
		parts = append(parts, "client "+b.ClientID)
	}
	return strings.Join(parts, ", ")
}

// ChangeStep is a change request's outcome and links.
type ChangeStep struct {
	ID          string       `json:"id"`
	Operation   string       `json:"operation"`
	Status      store.Status `json:"status"` // the record's status now, else as completed
	CompletedAt time.Time    `json:"completedAt"`
	RevertOf    string       `json:"revertOf,omitempty"`
	RevertedBy  []string     `json:"revertedBy,omitempty"`
	// Result is the change's stored result, while its record is kept (30 days).
	Result *apply.Result `json:"result,omitempty"`
}

// DriftStep is a change of drift state.
type DriftStep struct {
	State       string          `json:"state"`
	PrevState   string          `json:"prevState,omitempty"`
	Differences json.RawMessage `json:"differences,omitempty"`
}

// OverflowStep is an overflow of a worktype starting or ending.
type OverflowStep struct {
	Active        bool       `json:"active"`
	Rule          string     `json:"rule,omitempty"`
	Queue         string     `json:"queue"`
	OverflowQueue string     `json:"overflowQueue"`
	Backlog       int        `json:"backlog"`
	ChangeID      string     `json:"changeId,omitempty"`
	StartedAt     *time.Time `json:"startedAt,omitempty"` // ended: when it started
}

// Timeline returns the history of entity k from since (zero: everything kept), oldest
// step first: one query of its history, one batch read of the snapshots and change
// records the steps name. An entity with no step since then and no last-known state is
// ErrNotFound (wrapped): routekeeper has never seen it.
func Timeline(ctx context.Context, t Table, k entity.Key, since time.Time) (*Report, error) {
	events, err := t.ListHistory(ctx, k, since)
	if err != nil {
		return nil, err
	}
	r := &Report{Schema: Schema, Environment: k.Environment, Entity: &Ref{Kind: k.Kind, Name: k.Name}}
	if !since.IsZero() {
		s := since.UTC()
		r.Since = &s
	}
	o, err := t.GetObservation(ctx, k)
	switch {
	case err == nil:
		r.LastKnown = &LastKnown{ETag: o.ETag, GenesysID: o.GenesysID, Deleted: o.Deleted, Source: o.Source, ObservedAt: o.ObservedAt}
	case !errors.Is(err, store.ErrNotFound):
		return nil, err
	case len(events) == 0:
		return nil, fmt.Errorf("no history and no last-known state of %s %q in %s (names are exact: check the kind, the name's case and --environment): %w",
			k.Kind, k.Name, k.Environment, store.ErrNotFound)
	}
	if r.Steps, err = steps(ctx, t, events, false); err != nil {
		return nil, err
	}
	return r, nil
}

// Recent returns the most recent steps of every entity of env from since (zero:
// everything kept), newest first, at most limit.
func Recent(ctx context.Context, t Table, env string, since time.Time, limit int) (*Report, error) {
	events, err := t.RecentHistory(ctx, env, since, limit)
	if err != nil {
		return nil, err
	}
	r := &Report{Schema: Schema, Environment: env}
	if !since.IsZero() {
		s := since.UTC()
		r.Since = &s
	}
	if r.Steps, err = steps(ctx, t, events, true); err != nil {
		return nil, err
	}
	return r, nil
}

// rank orders the steps of one instant.
var rank = map[store.HistoryType]int{store.HistoryObserved: 0, store.HistoryChange: 1, store.HistoryDrift: 2, store.HistoryOverflow: 3}

// steps turns events into steps, reading the snapshots and change records they name.
func steps(ctx context.Context, t Table, events []store.HistoryEvent, newestFirst bool) ([]Step, error) {
	var refs []store.SnapshotRef
	var ids []string
	for _, e := range events {
		switch e.Type {
		case store.HistoryObserved:
			for _, tag := range []string{e.ETag, e.PrevETag} {
				if tag != "" {
					refs = append(refs, store.SnapshotRef{Key: e.Key, ETag: tag})
				}
			}
		case store.HistoryChange:
			ids = append(ids, e.ChangeID)
		}
	}
	snaps := map[store.SnapshotRef]store.Observation{}
	if len(refs) > 0 {
		var err error
		if snaps, err = t.GetSnapshots(ctx, refs); err != nil {
			return nil, err
		}
	}
	recs := map[string]*store.Change{}
	if len(ids) > 0 {
		var err error
		if recs, err = t.GetChanges(ctx, ids); err != nil {
			return nil, err
		}
	}
	// Within one instant an observation comes first: Submit records the state a change
	// was planned against at the change's requestedAt.
	events = slices.Clone(events)
	slices.SortStableFunc(events, func(a, b store.HistoryEvent) int {
		c := cmp.Or(a.At.Compare(b.At), cmp.Compare(rank[a.Type], rank[b.Type]))
		if newestFirst {
			return -c
		}
		return c
	})
	out := make([]Step, 0, len(events))
	for _, e := range events {
		s := Step{At: e.At, Kind: e.Key.Kind, Name: e.Key.Name, Type: e.Type}
		switch e.Type {
		case store.HistoryObserved:
			observedStep(&s, e, snaps)
		case store.HistoryChange:
			changeStep(&s, e, recs)
		case store.HistoryDrift:
			driftStep(&s, e)
		case store.HistoryOverflow:
			overflowStep(&s, e)
		default:
			s.Summary = "unknown step " + string(e.Type)
		}
		out = append(out, s)
	}
	return out, nil
}

func observedStep(s *Step, e store.HistoryEvent, snaps map[store.SnapshotRef]store.Observation) {
	s.Source, s.ETag, s.PrevETag, s.GenesysID = e.Source, e.ETag, e.PrevETag, e.GenesysID
	if c := e.Cause; c != nil && (c.UserID != "" || c.ClientID != "") {
		s.By = &By{UserID: c.UserID, ClientID: c.ClientID, EventID: c.EventID}
	}
	switch {
	case e.First && e.Deleted:
		s.Summary = "first observed: deleted"
	case e.First:
		s.Summary = "first observed"
	case e.Deleted:
		s.Summary = "deleted"
	case e.PrevETag == "":
		s.Summary = "exists again"
	case e.PrevETag == e.ETag:
		s.Summary = fmt.Sprintf("re-created with a new Genesys id (was %s)", e.PrevGenesysID)
	default:
		prev, okPrev := snaps[store.SnapshotRef{Key: e.Key, ETag: e.PrevETag}]
		cur, okCur := snaps[store.SnapshotRef{Key: e.Key, ETag: e.ETag}]
		fields, err := changedFields(prev, cur, okPrev && okCur)
		if err != nil {
			s.FieldsUnknown = err.Error()
			s.Summary = "changed"
			return
		}
		s.Fields = fields
		s.Summary = "changed " + strings.Join(fields, ", ")
		if e.PrevGenesysID != "" && e.GenesysID != "" && e.PrevGenesysID != e.GenesysID {
			s.Summary += fmt.Sprintf("; re-created with a new Genesys id (was %s)", e.PrevGenesysID)
		}
	}
}

// changedFields are the managed fields that differ between two snapshots.
func changedFields(prev, cur store.Observation, stored bool) ([]string, error) {
	if !stored {
		return nil, errors.New("a snapshot of this step is no longer stored (kept for the snapshot retention)")
	}
	a, err := document.Decode(prev.Config)
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", prev.ETag, err)
	}
	b, err := document.Decode(cur.Config)
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", cur.ETag, err)
	}
	return document.Paths(document.Diff(b, a, document.IncludeUndeclared())), nil
}

func changeStep(s *Step, e store.HistoryEvent, recs map[string]*store.Change) {
	rec := recs[e.ChangeID]
	c := &ChangeStep{ID: e.ChangeID, Operation: e.Operation, Status: e.Status, CompletedAt: e.CompletedAt}
	s.Change = c
	if e.RequestedBy != "" {
		s.By = &By{RequestedBy: e.RequestedBy}
	}
	if rec == nil {
		s.FieldsUnknown = "the change record is no longer kept (30 days)"
	} else {
		c.Status, c.RevertOf, c.RevertedBy = rec.Status, rec.RevertOf, rec.RevertedBy
		var res apply.Result
		if len(rec.Result) > 0 && json.Unmarshal(rec.Result, &res) == nil {
			c.Result = &res
			s.ETag, s.PrevETag, s.GenesysID = res.ETag, res.BaseETag, res.EntityID
			s.Fields = res.Written
		}
	}
	s.Summary = fmt.Sprintf("change %s %s %s", c.ID, c.Operation, c.Status)
	if c.Result != nil {
		if sum := c.Result.Summary(); sum != "" {
			s.Summary += ": " + sum
		}
	}
	if c.RevertOf != "" {
		s.Summary += "; revert of " + c.RevertOf
	}
	if len(c.RevertedBy) > 0 {
		by := make([]string, len(c.RevertedBy))
		for i, id := range c.RevertedBy {
			by[i] = id
			// A revert that did not apply has not undone anything: say so where it is known.
			if r, ok := recs[id]; ok && r.Status != store.StatusApplied && r.Status != store.StatusPossibleOverwrite {
				by[i] += " (" + string(r.Status) + ")"
			}
		}
		s.Summary += "; reverted by " + strings.Join(by, ", ")
	}
}

func driftStep(s *Step, e store.HistoryEvent) {
	s.ETag = e.ETag
	s.Drift = &DriftStep{State: e.State, PrevState: e.PrevState, Differences: e.Differences}
	if c := e.Cause; c != nil && (c.UserID != "" || c.ClientID != "") {
		s.By = &By{UserID: c.UserID, ClientID: c.ClientID, EventID: c.EventID}
	}
	from := e.PrevState
	if from == "" {
		from = "(none)"
	}
	s.Summary = fmt.Sprintf("drift %s -> %s", from, e.State)
	var diffs []struct {
		Path string `json:"path"`
	}
	switch {
	case e.DifferencesOmitted:
		s.FieldsUnknown = "the differences were too large to keep in the history (the drift report has them)"
	case len(e.Differences) > 0 && json.Unmarshal(e.Differences, &diffs) == nil:
		for _, d := range diffs {
			s.Fields = append(s.Fields, d.Path)
		}
	}
}

func overflowStep(s *Step, e store.HistoryEvent) {
	o := &OverflowStep{Active: e.Active, Rule: e.Rule, Queue: e.Queue, OverflowQueue: e.OverflowQueue, Backlog: e.Backlog, ChangeID: e.ChangeID}
	s.Overflow, s.Fields = o, []string{"defaultQueue"}
	if e.Active {
		s.Summary = fmt.Sprintf("overflow started: new tasks go to %q instead of %q (backlog %d)", e.OverflowQueue, e.Queue, e.Backlog)
		return
	}
	s.Summary = fmt.Sprintf("overflow ended: new tasks go to %q again (backlog %d)", e.Queue, e.Backlog)
	if !e.Since.IsZero() {
		started := e.Since
		o.StartedAt = &started
		s.Summary = fmt.Sprintf("overflow ended after %s: new tasks go to %q again (backlog %d)", e.At.Sub(e.Since).Round(time.Second), e.Queue, e.Backlog)
	}
}
