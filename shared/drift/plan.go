package drift

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/routekeeper/routekeeper/shared/document"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/live"
)

// PlanSchema is the schema of the JSON plan (`routekeeper plan --format json`).
const PlanSchema = "routekeeper.plan/v1"

// PlanOptions adjusts NewPlan.
type PlanOptions struct {
	// Prune turns unmanaged entities into deletes. It only applies to kinds the
	// config manages at all (declares at least one entity of), so a config
	// without worktypes never deletes worktypes.
	Prune bool
	// Overflow holds the active overflows (worktype name -> overflow queue,
	// ActiveOverflow): such a worktype's defaultQueue is expected to be the overflow
	// queue (ExpectOverflow), so the plan neither reports it nor reverts it, and
	// Plan.Overflow says "overflow active".
	Overflow map[string]string
	// OverflowUnknown holds the worktypes whose assignment rule overflows (worktype name
	// -> overflow queue) when the overflow states could not be read (no table):
	// Plan.Overflow says the plan cannot know whether their overflow is active.
	OverflowUnknown map[string]string
}

// Plan is what bringing a live org to a desired state takes.
//
// "Managed" means declared: an entity is managed when the desired state names it,
// and only its declared fields are compared. An entity that is live but not
// declared is unmanaged: it is listed in Unmanaged and left alone, unless
// PlanOptions.Prune makes it a delete.
type Plan struct {
	Schema      string      `json:"schema"`
	Environment string      `json:"environment,omitempty"`
	Summary     PlanSummary `json:"summary"`
	Changes     []Change    `json:"changes"`
	Unmanaged   []Ref       `json:"unmanaged"`
	// Conflicts are declared entities that apply cannot bring to the desired
	// state: someone must act by hand (see PlanConflict). Absent when none, so
	// plans without conflicts keep their earlier shape.
	Conflicts []PlanConflict `json:"conflicts,omitempty"`
	// Overflow lists the worktypes whose overflow is active (their defaultQueue was
	// planned at the overflow queue) or unknown (PlanOptions); absent when none.
	Overflow []PlanOverflow `json:"overflow,omitempty"`
}

// PlanConflict is a declared entity that exists live under a name differing
// only in letter case, where Genesys cannot rename it (skills have no PUT or
// rename endpoint). Genesys names are unique case-insensitively, so the config
// entity is that live entity: creating it would be refused as a duplicate and
// pruning would delete the live one. The plan neither creates nor deletes it.
type PlanConflict struct {
	Kind     entity.Kind `json:"kind"`
	Name     string      `json:"name"`     // as the config declares it
	LiveName string      `json:"liveName"` // as Genesys holds it
	ID       string      `json:"id"`
	Reason   string      `json:"reason"` // what is wrong and what to do
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

// Action is what a plan does to one entity.
type Action string

// Actions of a Change.
const (
	ActionCreate Action = "create"
	ActionUpdate Action = "update"
	ActionDelete Action = "delete"
)

// Change is one entity to create, update or delete: what a Planner turns into a
// change request (routekeeper.change/v1).
//
// Name is the entity's identity in the org: for update and delete the live
// name, which apply finds the entity by. A rename (a declared name that differs
// from the live one only in letter case; queues and worktypes) is an update
// whose Desired "name" is the declared name and whose Differences include the
// path "name".
type Change struct {
	Kind   entity.Kind `json:"kind"`
	Name   string      `json:"name"`
	ID     string      `json:"id,omitempty"` // live id; empty for create
	Action Action      `json:"action"`
	// BaseETag is the ETag of the live entity the change was planned against
	// (update and delete); empty for create.
	BaseETag string `json:"baseEtag,omitempty"`
	// Desired is the entity's managed document in spec shape (names, not ids):
	// every declared field. Absent for delete.
	Desired map[string]any `json:"desired,omitempty"`
	// Differences are the declared fields that differ, live -> desired.
	Differences []Difference `json:"differences"`
}

// Difference is one declared field of an entity that differs, live -> desired.
type Difference struct {
	Kind entity.Kind `json:"kind"`
	Name string      `json:"name"`
	document.Difference
}

// Ref names a live entity.
type Ref struct {
	Kind entity.Kind `json:"kind"`
	Name string      `json:"name"`
	ID   string      `json:"id"`
	ETag string      `json:"etag"`
}

// HasChanges reports whether the plan creates, updates or deletes anything,
// or has conflicts that need someone to act (live differs from the config
// either way).
func (p *Plan) HasChanges() bool { return len(p.Changes) > 0 || len(p.Conflicts) > 0 }

// NewPlan compares the desired documents of environment env (a compiled config,
// routing.Desired.Docs, or the desired state the table holds, DocsOf) with the live org
// (live.Read). Changes come in apply order: creates and updates of skills, then queues,
// then worktypes (each by name), then deletes of worktypes, queues, skills. A worktype
// whose overflow is active (PlanOptions.Overflow) is compared with its overflow queue as
// defaultQueue.
//
// Declared entities are matched to live ones by name: exactly, else ignoring
// letter case, since Genesys keeps names unique case-insensitively (a config
// `claims` is the live `Claims`; creating it would be refused as a duplicate).
// A case-only match of a queue or worktype is an update that renames it (queue
// PUT and worktype PATCH both carry name); of a skill, which Genesys cannot
// rename, it is a PlanConflict. Either way nothing is created or deleted.
func NewPlan(env string, desired []entity.Doc, org *live.Org, opts PlanOptions) (*Plan, error) {
	p := &Plan{Schema: PlanSchema, Environment: env, Changes: []Change{}, Unmanaged: []Ref{}}
	declared := map[entity.Kind]map[string]bool{} // kind -> live names matched by a declared entity
	declaredAny := map[entity.Kind]bool{}
	for _, k := range entity.Kinds {
		declared[k] = map[string]bool{}
	}
	docs := slices.Clone(desired)
	entity.SortDocs(docs)
	docs, p.Overflow = planOverflow(docs, opts)
	matches := matchLive(docs, org)
	for i, d := range docs {
		if !d.Kind.Managed() {
			return nil, fmt.Errorf("plan %s %q: kind %q is not managed", d.Kind, d.Name, d.Kind)
		}
		declaredAny[d.Kind] = true
		// References as the org spells them: a config's `english` is the org's
		// `English` (names are unique ignoring case), not a difference, and the
		// change request then names what apply resolves exactly.
		doc := live.OrgSpelling(d.Kind, d.Fields, org.Names)
		l := matches[i]
		if l == nil {
			p.Changes = append(p.Changes, Change{Kind: d.Kind, Name: d.Name, Action: ActionCreate, Desired: doc,
				Differences: differences(d.Kind, d.Name, document.Diff(doc, map[string]any{}))})
			p.Summary.Create++
			continue
		}
		declared[d.Kind][l.Name] = true
		if l.Name != d.Name && d.Kind == entity.Skill {
			p.Conflicts = append(p.Conflicts, PlanConflict{Kind: d.Kind, Name: d.Name, LiveName: l.Name, ID: l.ID,
				Reason: fmt.Sprintf("skill %q is declared as %q: Genesys names are unique ignoring case, and it cannot rename a skill (no PUT or rename endpoint), so routekeeper neither creates %q nor deletes %q: write the name as %q in the config, or rename the skill in Genesys by hand",
					l.Name, d.Name, d.Name, l.Name, l.Name)})
			p.Summary.Conflict++
			continue
		}
		// Named as live (apply finds the entity by its current name); a case-only
		// rename shows as a difference at "name".
		diffs := document.Diff(doc, l.Canonical)
		if len(diffs) == 0 {
			p.Summary.Unchanged++
			continue
		}
		p.Changes = append(p.Changes, Change{Kind: d.Kind, Name: l.Name, ID: l.ID, Action: ActionUpdate,
			BaseETag: l.ETag, Desired: doc, Differences: differences(d.Kind, l.Name, diffs)})
		p.Summary.Update++
	}
	var deletes []Change
	for _, kind := range slices.Backward(entity.Kinds) {
		for _, e := range org.Sorted(kind) {
			if declared[kind][e.Name] {
				continue
			}
			if opts.Prune && declaredAny[kind] {
				deletes = append(deletes, Change{Kind: kind, Name: e.Name, ID: e.ID, Action: ActionDelete,
					BaseETag: e.ETag, Differences: []Difference{}})
				p.Summary.Delete++
				continue
			}
			p.Unmanaged = append(p.Unmanaged, Ref{Kind: kind, Name: e.Name, ID: e.ID, ETag: e.ETag})
			p.Summary.Unmanaged++
		}
	}
	// Unmanaged in creation order, like the changes.
	slices.SortStableFunc(p.Unmanaged, func(a, b Ref) int { return cmp.Compare(a.Kind.Order(), b.Kind.Order()) })
	p.Changes = append(p.Changes, deletes...)
	return p, nil
}

// differences names diffs of one entity.
func differences(k entity.Kind, name string, diffs []document.Difference) []Difference {
	out := make([]Difference, len(diffs))
	for i, d := range diffs {
		out[i] = Difference{Kind: k, Name: name, Difference: d}
	}
	return out
}

// foldName is the key under which Genesys compares names for uniqueness; the
// config validator folds the same way (strings.ToLower).
func foldName(name string) string { return strings.ToLower(name) }

// matchLive returns, per declared entity, the live entity it is: the one of the
// same kind and name, else the one whose name differs only in letter case and
// that no declared entity names exactly. nil when there is none.
func matchLive(docs []entity.Doc, org *live.Org) []*live.Entity {
	out := make([]*live.Entity, len(docs))
	exact := map[entity.Key]bool{} // live entities matched exactly (Environment unused)
	for i, d := range docs {
		if e, ok := org.Entity(d.Kind, d.Name); ok {
			out[i] = e
			exact[entity.Key{Kind: d.Kind, Name: e.Name}] = true
		}
	}
	folded := map[entity.Kind]map[string]*live.Entity{} // kind -> folded name -> live
	for i, d := range docs {
		if out[i] != nil {
			continue
		}
		if folded[d.Kind] == nil {
			folded[d.Kind] = map[string]*live.Entity{}
			// Sorted, so that if live held two names equal but for case (Genesys
			// forbids it) the choice is stable.
			for _, e := range org.Sorted(d.Kind) {
				k := foldName(e.Name)
				if _, taken := folded[d.Kind][k]; !taken && !exact[entity.Key{Kind: d.Kind, Name: e.Name}] {
					folded[d.Kind][k] = e
				}
			}
		}
		k := foldName(d.Name)
		if e, ok := folded[d.Kind][k]; ok {
			out[i] = e
			delete(folded[d.Kind], k) // one declared entity per live entity
		}
	}
	return out
}
