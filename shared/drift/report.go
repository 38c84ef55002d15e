package drift

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

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
	// Conflicts are declared entities that apply cannot bring to the desired
	// state: someone must act by hand (see PlanConflict). Absent when none, so
	// plans without conflicts keep their earlier shape.
	Conflicts []PlanConflict `json:"conflicts,omitempty"`
}

// PlanConflict is a declared entity that exists live under a name differing
// only in letter case, where Genesys cannot rename it (skills have no PUT or
// rename endpoint). Genesys names are unique case-insensitively, so the config
// entity is that live entity: creating it would be refused as a duplicate and
// pruning would delete the live one. The plan neither creates nor deletes it.
type PlanConflict struct {
	Kind     string `json:"kind"`
	Name     string `json:"name"`     // as the config declares it
	LiveName string `json:"liveName"` // as Genesys holds it
	ID       string `json:"id"`
	Reason   string `json:"reason"` // what is wrong and what to do
}

// PlanSummary counts a plan's entities by outcome.
type PlanSummary struct {
	Create    int `json:"create"`
	Update    int `json:"update"`
	Delete    int `json:"delete"`
	Unchanged int `json:"unchanged"`
	Unmanaged int `json:"unmanaged"`
	// Conflict counts PlanConflicts; absent when zero.
	Conflict int `json:"conflict,omitempty"`
}

// PlannedChange is one entity to create, update or delete: what apply turns
// into a change request (routekeeper.change/v1).
//
// Name is the entity's identity in the org: for update and delete the live
// name, which apply finds the entity by. A rename (a config name that differs
// from the live one only in letter case; queues and worktypes) is an update
// whose Desired "name" is the config's name and whose Differences include the
// path "name".
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

// HasChanges reports whether the plan creates, updates or deletes anything,
// or has conflicts that need someone to act (live differs from the config
// either way).
func (p *LivePlan) HasChanges() bool { return len(p.Changes) > 0 || len(p.Conflicts) > 0 }

// managedKinds are the kinds in the order they can be created (queues and
// worktypes reference skills and queues); deletes run in the reverse order.
var managedKinds = []string{KindSkill, KindQueue, KindWorktype}

// PlanLive compares desired (routing.Compile) with live (ReadLive). Changes
// come in apply order: creates and updates of skills, then queues, then
// worktypes (each by name), then deletes of worktypes, queues, skills.
//
// Config entities are matched to live ones by name: exactly, else ignoring
// letter case, since Genesys keeps names unique case-insensitively (a config
// `claims` is the live `Claims`; creating it would be refused as a duplicate).
// A case-only match of a queue or worktype is an update that renames it (queue
// PUT and worktype PATCH both carry name); of a skill, which Genesys cannot
// rename, it is a PlanConflict. Either way nothing is created or deleted.
func PlanLive(d *routing.Desired, l *Live, opts PlanOptions) (*LivePlan, error) {
	p := &LivePlan{Schema: PlanSchema, Environment: d.Environment, Changes: []PlannedChange{}, Unmanaged: []EntityRef{}}
	declared := map[string]map[string]bool{} // kind -> live names matched by the config
	declaredAny := map[string]bool{}
	for _, k := range managedKinds {
		declared[k] = map[string]bool{}
	}
	ents := d.Entities()
	matches := matchLive(ents, l)
	for i, ent := range ents {
		kind := string(ent.Kind)
		declaredAny[kind] = true
		doc, err := SpecDoc(ent.Spec)
		if err != nil {
			return nil, fmt.Errorf("plan %s: %w", ent.Key(), err)
		}
		// References as the org spells them: a config's `english` is the org's
		// `English` (names are unique ignoring case), not a difference, and the
		// change request then names what apply resolves exactly.
		doc = OrgSpelling(kind, doc, l.Names)
		live := matches[i]
		if live == nil {
			c := Plan(kind, ent.Name, doc, nil)
			p.Changes = append(p.Changes, PlannedChange{Kind: kind, Name: ent.Name, Action: ActionCreate, Desired: doc, Differences: nonNil(c.Differences)})
			p.Summary.Create++
			continue
		}
		declared[kind][live.Name] = true
		if live.Name != ent.Name && kind == KindSkill {
			p.Conflicts = append(p.Conflicts, PlanConflict{Kind: kind, Name: ent.Name, LiveName: live.Name, ID: live.ID,
				Reason: fmt.Sprintf("skill %q is declared as %q: Genesys names are unique ignoring case, and it cannot rename a skill (no PUT or rename endpoint), so routekeeper neither creates %q nor deletes %q: write the name as %q in the config, or rename the skill in Genesys by hand",
					live.Name, ent.Name, ent.Name, live.Name, live.Name)})
			p.Summary.Conflict++
			continue
		}
		// Named as live (apply finds the entity by its current name); a case-only
		// rename shows as a difference at "name".
		c := Plan(kind, live.Name, doc, live.Canonical)
		if c.Action == ActionNoop {
			p.Summary.Unchanged++
			continue
		}
		p.Changes = append(p.Changes, PlannedChange{Kind: kind, Name: live.Name, ID: live.ID, Action: ActionUpdate,
			BaseETag: live.ETag, Desired: doc, Differences: nonNil(c.Differences)})
		p.Summary.Update++
	}
	var deletes []PlannedChange
	for _, kind := range slices.Backward(managedKinds) {
		for _, e := range l.Sorted(kind) {
			if declared[kind][e.Name] {
				continue
			}
			if opts.Prune && declaredAny[kind] {
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

// foldName is the key under which Genesys compares names for uniqueness; the
// config validator folds the same way (strings.ToLower).
func foldName(name string) string { return strings.ToLower(name) }

// matchLive returns, per config entity, the live entity it is: the one of the
// same kind and name, else the one whose name differs only in letter case and
// that no config entity names exactly. nil when there is none.
func matchLive(ents []routing.Entity, l *Live) []*Entity {
	out := make([]*Entity, len(ents))
	exact := map[string]bool{} // kind/name of live entities matched exactly
	for i, ent := range ents {
		if e, ok := l.Entity(string(ent.Kind), ent.Name); ok {
			out[i] = e
			exact[string(ent.Kind)+"/"+e.Name] = true
		}
	}
	folded := map[string]map[string]*Entity{} // kind -> folded name -> live
	for i, ent := range ents {
		if out[i] != nil {
			continue
		}
		kind := string(ent.Kind)
		if folded[kind] == nil {
			folded[kind] = map[string]*Entity{}
			// Sorted, so that if live held two names equal but for case (Genesys
			// forbids it) the choice is stable.
			for _, e := range l.Sorted(kind) {
				k := foldName(e.Name)
				if _, taken := folded[kind][k]; !taken && !exact[kind+"/"+e.Name] {
					folded[kind][k] = e
				}
			}
		}
		k := foldName(ent.Name)
		if e, ok := folded[kind][k]; ok {
			out[i] = e
			delete(folded[kind], k) // one config entity per live entity
		}
	}
	return out
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

	cfg *routing.Config // the loaded config, for source positions; nil for a live org
}

// Location is where a config declares an entity or a field: a file and a
// 1-based line.
type Location struct {
	File string `json:"file"`
	Line int    `json:"line"`
}

// String formats l as file:line.
func (l *Location) String() string { return l.File + ":" + strconv.Itoa(l.Line) }

// locate returns where the side declares the entity or field, or nil when the
// side is not a loaded config.
func (s *Snapshot) locate(kind, name, path string) *Location {
	if s.cfg == nil {
		return nil
	}
	file, line, ok := s.cfg.Position(kind, name, path)
	if !ok {
		return nil
	}
	return &Location{File: file, Line: line}
}

// SnapshotOfConfig snapshots a config: its compiled entities (assignment rules
// applied to their worktypes) and its division and workbin lists.
func SnapshotOfConfig(label string, cfg *routing.Config) (*Snapshot, error) {
	d, err := routing.Compile(cfg)
	if err != nil {
		return nil, err
	}
	s := newSnapshot(label)
	s.cfg = cfg
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
	// LeftAt and RightAt are where each side's config declares the field (or
	// its nearest declared ancestor); absent for a live side.
	LeftAt  *Location `json:"leftAt,omitempty"`
	RightAt *Location `json:"rightAt,omitempty"`
}

// EntityDrift is one entity that differs.
type EntityDrift struct {
	Kind        string       `json:"kind"`
	Name        string       `json:"name"`
	Status      DriftStatus  `json:"status"`
	Differences []FieldDrift `json:"differences"`
	// LeftAt and RightAt are where each side's config declares the entity;
	// absent for a live side or a side without it.
	LeftAt  *Location `json:"leftAt,omitempty"`
	RightAt *Location `json:"rightAt,omitempty"`
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

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// reportKinds orders the report: referenced objects first, then managed kinds.
var reportKinds = []string{KindDivision, KindWorkbin, KindSkill, KindQueue, KindWorktype}

// CompareSnapshots matches the two sides' entities by kind and name (ids play
// no part; names that differ only in letter case match, and the difference
// is reported at the path "name", under the left side's name) and reports every entity that exists on one side only or whose
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
		// Pair names exactly, else ignoring letter case (Genesys names are
		// unique case-insensitively, so `claims` and `Claims` are one entity
		// whose name differs). rightOf maps a left name to its right name.
		rightOf := make(map[string]string, len(l))
		pairedRight := make(map[string]bool, len(rt))
		for n := range l {
			if _, ok := rt[n]; ok {
				rightOf[n], pairedRight[n] = n, true
			}
		}
		foldedRight := map[string]string{}
		for _, n := range sortedKeys(rt) {
			if k := foldName(n); !pairedRight[n] && foldedRight[k] == "" {
				foldedRight[k] = n
			}
		}
		for _, n := range sortedKeys(l) {
			if _, ok := rightOf[n]; ok {
				continue
			}
			if rn := foldedRight[foldName(n)]; rn != "" {
				rightOf[n], pairedRight[rn] = rn, true
				delete(foldedRight, foldName(n))
			}
		}
		names := make([]string, 0, len(l)+len(rt))
		for n := range l {
			names = append(names, n)
		}
		for n := range rt {
			if !pairedRight[n] {
				names = append(names, n)
			}
		}
		slices.Sort(names)
		for _, name := range names {
			ld, inL := l[name]
			rname, paired := rightOf[name]
			rd, inR := rt[rname]
			if !inL {
				rd, inR = rt[name], true
			} else if !paired {
				inR = false
			}
			switch {
			case !inR:
				r.Entities = append(r.Entities, EntityDrift{Kind: kind, Name: name, Status: DriftOnlyLeft, Differences: []FieldDrift{},
					LeftAt: left.locate(kind, name, "")})
				r.Summary.OnlyLeft++
			case !inL:
				if opts.OnlyDeclared {
					continue
				}
				r.Entities = append(r.Entities, EntityDrift{Kind: kind, Name: name, Status: DriftOnlyRight, Differences: []FieldDrift{},
					RightAt: right.locate(kind, name, "")})
				r.Summary.OnlyRight++
			default:
				diffs := Diff(kind, name, ld, rd, diffOpts...)
				if len(diffs) == 0 {
					r.Summary.Same++
					continue
				}
				fds := make([]FieldDrift, len(diffs))
				for i, d := range diffs {
					fd := FieldDrift{Path: d.Path, Left: d.Desired, Right: d.Live,
						LeftAt: left.locate(kind, name, d.Path), RightAt: right.locate(kind, rname, d.Path)}
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
				r.Entities = append(r.Entities, EntityDrift{Kind: kind, Name: name, Status: DriftDifferent, Differences: fds,
					LeftAt: left.locate(kind, name, ""), RightAt: right.locate(kind, rname, "")})
				r.Summary.Different++
			}
		}
	}
	return r
}
