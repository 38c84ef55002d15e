package drift

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/routekeeper/routekeeper/shared/routing"
)

// PlanSchema is the schema of the JSON plan (`routekeeper plan --format json`).
const PlanSchema = "routekeeper.plan/v1"

// PlanOptions adjusts PlanLive.
type PlanOptions struct {
	// Prune turns unmanaged entities into deletes. It only applies to kinds the
	// config manages at all (declares at least one entity of), so a config
	// without worktypes never deletes worktypes.
	Prune bool
}

// LivePlan is what bringing a live org to a desired config takes.
//
// "Managed" means declared: an entity is managed when the config names it,
// and only its declared fields are compared. An entity that is live but not
// in the config is unmanaged: it is listed in Unmanaged and left alone,
// unless PlanOptions.Prune makes it a delete.
type LivePlan struct {
	Schema      string          `json:"schema"`
	Environment string          `json:"environment,omitempty"`
	Summary     PlanSummary     `json:"summary"`
	Changes     []PlannedChange `json:"changes"`
	Unmanaged   []EntityRef     `json:"unmanaged"`
}

// PlanSummary counts a plan's entities by outcome.
type PlanSummary struct {
	Create    int `json:"create"`
	Update    int `json:"update"`
	Delete    int `json:"delete"`
	Unchanged int `json:"unchanged"`
	Unmanaged int `json:"unmanaged"`
}

// PlannedChange is one entity to create, update or delete: what apply turns
// into a change request (routekeeper.change/v1).
type PlannedChange struct {
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	ID     string `json:"id,omitempty"` // live id; empty for create
	Action Action `json:"action"`
	// BaseETag is the ETag of the live entity the change was planned against
	// (update and delete); empty for create.
	BaseETag string `json:"baseEtag,omitempty"`
	// Desired is the entity's managed document in spec shape (names, not ids):
	// every field the config declares. Absent for delete.
	Desired map[string]any `json:"desired,omitempty"`
	// Differences are the declared fields that differ, live -> desired.
	Differences []Difference `json:"differences"`
}

// EntityRef names a live entity.
type EntityRef struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
	ID   string `json:"id"`
	ETag string `json:"etag"`
}

// HasChanges reports whether the plan creates, updates or deletes anything.
func (p *LivePlan) HasChanges() bool { return len(p.Changes) > 0 }

// managedKinds are the kinds in the order they can be created (queues and
// worktypes reference skills and queues); deletes run in the reverse order.
var managedKinds = []string{KindSkill, KindQueue, KindWorktype}

// PlanLive compares desired (routing.Compile) with live (ReadLive). Changes
// come in apply order: creates and updates of skills, then queues, then
// worktypes (each by name), then deletes of worktypes, queues, skills.
func PlanLive(d *routing.Desired, l *Live, opts PlanOptions) (*LivePlan, error) {
	p := &LivePlan{Schema: PlanSchema, Environment: d.Environment, Changes: []PlannedChange{}, Unmanaged: []EntityRef{}}
	declared := map[string]map[string]bool{}
	for _, k := range managedKinds {
		declared[k] = map[string]bool{}
	}
	for _, ent := range d.Entities() {
		kind := string(ent.Kind)
		declared[kind][ent.Name] = true
		doc, err := SpecDoc(ent.Spec)
		if err != nil {
			return nil, fmt.Errorf("plan %s: %w", ent.Key(), err)
		}
		live, ok := l.Entity(kind, ent.Name)
		if !ok {
			c := Plan(kind, ent.Name, doc, nil)
			p.Changes = append(p.Changes, PlannedChange{Kind: kind, Name: ent.Name, Action: ActionCreate, Desired: doc, Differences: nonNil(c.Differences)})
			p.Summary.Create++
			continue
		}
		c := Plan(kind, ent.Name, doc, live.Canonical)
		if c.Action == ActionNoop {
			p.Summary.Unchanged++
			continue
		}
		p.Changes = append(p.Changes, PlannedChange{Kind: kind, Name: ent.Name, ID: live.ID, Action: ActionUpdate,
			BaseETag: live.ETag, Desired: doc, Differences: nonNil(c.Differences)})
		p.Summary.Update++
	}
	var deletes []PlannedChange
	for _, kind := range slices.Backward(managedKinds) {
		for _, e := range l.Sorted(kind) {
			if declared[kind][e.Name] {
				continue
			}
			if opts.Prune && len(declared[kind]) > 0 {
				deletes = append(deletes, PlannedChange{Kind: kind, Name: e.Name, ID: e.ID, Action: ActionDelete,
					BaseETag: e.ETag, Differences: []Difference{}})
				p.Summary.Delete++
				continue
			}
			p.Unmanaged = append(p.Unmanaged, EntityRef{Kind: kind, Name: e.Name, ID: e.ID, ETag: e.ETag})
			p.Summary.Unmanaged++
		}
	}
	// Unmanaged in creation order, like the changes.
	slices.SortStableFunc(p.Unmanaged, func(a, b EntityRef) int {
		return cmp.Compare(slices.Index(managedKinds, a.Kind), slices.Index(managedKinds, b.Kind))
	})
	p.Changes = append(p.Changes, deletes...)
	return p, nil
}

func nonNil(d []Difference) []Difference {
	if d == nil {
		return []Difference{}
	}
	return d
}

// DriftSchema is the schema of the JSON environment drift report
// (`routekeeper diff --format json`).
const DriftSchema = "routekeeper.drift/v1"

// Snapshot is one side of an environment comparison: the documents of every
// entity in spec shape (names, never ids), by kind and name. Kinds are
// "division" and "workbin" (documents {"name"}, present only when the side
// lists them) and "skill", "queue" and "worktype".
type Snapshot struct {
	Label string
	// File is the config file the side was read from, when it is one file.
	File string
	Docs map[string]map[string]map[string]any
}

// SnapshotOfConfig snapshots a config: its compiled entities (assignment rules
// applied to their worktypes) and its division and workbin lists.
func SnapshotOfConfig(label string, cfg *routing.Config) (*Snapshot, error) {
	d, err := routing.Compile(cfg)
	if err != nil {
		return nil, err
	}
	s := newSnapshot(label)
	s.names(KindDivision, cfg.Divisions)
	s.names(KindWorkbin, cfg.Workbins)
	for _, e := range d.Entities() {
		doc, err := SpecDoc(e.Spec)
		if err != nil {
			return nil, fmt.Errorf("snapshot %s: %w", e.Key(), err)
		}
		s.Docs[string(e.Kind)][e.Name] = doc
	}
	return s, nil
}

// SnapshotOfLive snapshots a live org: the canonical form of every entity and
// the org's division and workbin names.
func SnapshotOfLive(label string, l *Live) *Snapshot {
	s := newSnapshot(label)
	s.names(KindDivision, l.Divisions)
	s.names(KindWorkbin, l.Workbins)
	for _, k := range managedKinds {
		for name, e := range l.Kind(k) {
			s.Docs[k][name] = e.Canonical
		}
	}
	return s
}

func newSnapshot(label string) *Snapshot {
	s := &Snapshot{Label: label, Docs: map[string]map[string]map[string]any{}}
	for _, k := range managedKinds {
		s.Docs[k] = map[string]map[string]any{}
	}
	return s
}

func (s *Snapshot) names(kind string, names []string) {
	if names == nil {
		return
	}
	m := make(map[string]map[string]any, len(names))
	for _, n := range names {
		m[n] = map[string]any{"name": n}
	}
	s.Docs[kind] = m
}

// DriftStatus says how an entity differs between two environments.
type DriftStatus string

const (
	DriftOnlyLeft  DriftStatus = "only-left"  // the entity exists only on the left
	DriftOnlyRight DriftStatus = "only-right" // the entity exists only on the right
	DriftDifferent DriftStatus = "different"  // both have it; fields differ
)

// FieldDrift is one field that differs between the two sides.
type FieldDrift struct {
	Path  string `json:"path"`
	Left  any    `json:"left,omitempty"`
	Right any    `json:"right,omitempty"`
	// Change: "changed" (both have it, different values), "only-left" (the
	// right side lacks the field) or "only-right".
	Change string `json:"change"`
}

// EntityDrift is one entity that differs.
type EntityDrift struct {
	Kind        string       `json:"kind"`
	Name        string       `json:"name"`
	Status      DriftStatus  `json:"status"`
	Differences []FieldDrift `json:"differences"`
}

// DriftSummary counts entities by status.
type DriftSummary struct {
	Same      int `json:"same"`
	Different int `json:"different"`
	OnlyLeft  int `json:"onlyLeft"`
	OnlyRight int `json:"onlyRight"`
}

// DriftReport is the environment drift report of two snapshots.
type DriftReport struct {
	Schema   string        `json:"schema"`
	Left     string        `json:"left"`
	Right    string        `json:"right"`
	Summary  DriftSummary  `json:"summary"`
	Entities []EntityDrift `json:"entities"`
}

// HasDrift reports whether anything differs.
func (r *DriftReport) HasDrift() bool { return len(r.Entities) > 0 }

// CompareOptions adjusts CompareSnapshots.
type CompareOptions struct {
	// OnlyDeclared compares only the fields the left side declares (fields only
	// the right side has are not reported). Use it when the left side is a
	// hand-written config that manages a few fields and the right a full
	// export or a live org.
	OnlyDeclared bool
}

// reportKinds orders the report: referenced objects first, then managed kinds.
var reportKinds = []string{KindDivision, KindWorkbin, KindSkill, KindQueue, KindWorktype}

// CompareSnapshots matches the two sides' entities by kind and name (ids play
// no part) and reports every entity that exists on one side only or whose
// documents differ. Division and workbin lists are compared only when both
// sides have them.
func CompareSnapshots(left, right *Snapshot, opts CompareOptions) *DriftReport {
	r := &DriftReport{Schema: DriftSchema, Left: left.Label, Right: right.Label, Entities: []EntityDrift{}}
	var diffOpts []DiffOption
	if !opts.OnlyDeclared {
		diffOpts = append(diffOpts, IncludeUndeclared())
	}
	for _, kind := range reportKinds {
		l, lok := left.Docs[kind]
		rt, rok := right.Docs[kind]
		if !lok || !rok {
			continue
		}
		names := make([]string, 0, len(l)+len(rt))
		for n := range l {
			names = append(names, n)
		}
		for n := range rt {
			if _, ok := l[n]; !ok {
				names = append(names, n)
			}
		}
		slices.Sort(names)
		for _, name := range names {
			ld, inL := l[name]
			rd, inR := rt[name]
			switch {
			case !inR:
				r.Entities = append(r.Entities, EntityDrift{Kind: kind, Name: name, Status: DriftOnlyLeft, Differences: []FieldDrift{}})
				r.Summary.OnlyLeft++
			case !inL:
				if opts.OnlyDeclared {
					continue
				}
				r.Entities = append(r.Entities, EntityDrift{Kind: kind, Name: name, Status: DriftOnlyRight, Differences: []FieldDrift{}})
				r.Summary.OnlyRight++
			default:
				diffs := Diff(kind, name, ld, rd, diffOpts...)
				if len(diffs) == 0 {
					r.Summary.Same++
					continue
				}
				fds := make([]FieldDrift, len(diffs))
				for i, d := range diffs {
					fd := FieldDrift{Path: d.Path, Left: d.Desired, Right: d.Live}
					switch d.Change {
					case ChangeChanged:
						fd.Change = "changed"
					case ChangeMissing:
						fd.Change = "only-left"
					case ChangeUndeclared:
						fd.Change = "only-right"
					}
					fds[i] = fd
				}
				r.Entities = append(r.Entities, EntityDrift{Kind: kind, Name: name, Status: DriftDifferent, Differences: fds})
				r.Summary.Different++
			}
		}
	}
	return r
}
