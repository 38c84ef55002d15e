package live

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/routekeeper/routekeeper/shared/document"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/genesys"
)

// Listed is one managed entity as List reads it: who it is, the ETag and the canonical
// JSON of its canonical form (the same form and ETag Read gives it), and when and by whom
// Genesys says it was last changed. Neither the raw document nor the canonical tree is
// kept; Entity decodes the canonical JSON when a comparison needs the tree.
type Listed struct {
	Kind entity.Kind
	Name string
	ID   string
	ETag string
	// Config is the canonical JSON (shared/document CanonicalJSON of the canonical form):
	// what an observation stores, and what ETag is the hash of.
	Config []byte
	// Modified is the entity's dateModified (Genesys's clock); zero when it has none.
	Modified time.Time
	// ModifiedBy is the id of the user who last changed it, when Genesys says (queues:
	// modifiedBy, a user id; worktypes: modifiedBy.id; skills carry none).
	ModifiedBy string
}

// Entity returns l with its canonical document decoded, for a comparison or a plan. It
// has no raw document: to write the entity, read it with its Adapter first.
func (l *Listed) Entity() (*Entity, error) {
	doc, err := document.Decode(l.Config)
	if err != nil {
		return nil, fmt.Errorf("canonical form of %s %q: %w", l.Kind, l.Name, err)
	}
	return &Entity{Kind: l.Kind, Name: l.Name, ID: l.ID, Canonical: doc, ETag: l.ETag}, nil
}

// Listing is the org as List read it.
type Listing struct {
	Names *Names
	// Entities are the managed entities read, by kind in creation order, then by name.
	Entities []*Listed
	// Divisions and Workbins are the sorted names of the objects entities reference.
	Divisions, Workbins []string
	// Warnings are what Read would warn of: references to ids the org does not name, and
	// duplicate names.
	Warnings []string
	// Unread holds the managed kinds List could not read and why: their own list failed,
	// or a list their canonical form takes names from (skills and queues: divisions and
	// skills; worktypes also workbins, languages and queues). Their entities are not in
	// Entities, and nothing may be concluded about them.
	Unread map[entity.Kind]error

	byName map[entity.Kind]map[string]*Listed
}

// Read reports whether List read the entities of kind.
func (l *Listing) Read(kind entity.Kind) bool { _, unread := l.Unread[kind]; return !unread }

// Find returns the entity of kind called name.
func (l *Listing) Find(kind entity.Kind, name string) (*Listed, bool) {
	e, ok := l.byName[kind][name]
	return e, ok
}

// Org returns the listing as an Org for matching by name (drift plans match declared
// entities to live ones by name, exactly and then ignoring case): its entities carry kind,
// name, id and ETag but neither a raw nor a canonical document (Listed.Entity has that).
func (l *Listing) Org() *Org {
	es := make([]*Entity, len(l.Entities))
	for i, e := range l.Entities {
		es[i] = &Entity{Kind: e.Kind, Name: e.Name, ID: e.ID, ETag: e.ETag}
	}
	org := NewOrg(l.Names, es...)
	org.Divisions, org.Workbins, org.Warnings = l.Divisions, l.Workbins, l.Warnings
	return org
}

// List reads the whole org with list endpoints only, as Read does (the same calls: one
// per page of divisions, routing languages, skills, queues, workbins and worktypes, inside
// the client's one request budget), and gives every managed entity the canonical form and
// ETag Read gives it. It keeps far less: each entity is put in canonical form as its page
// arrives (genesys.ListAs) and only its canonical JSON is kept, where Read holds every
// page as models, then as raw trees, then as canonical trees (docs/ARCHITECTURE.md, "The
// drift scan"). It is the drift scan's read.
//
// The lists are read in three steps, so that each entity is put in canonical form once,
// with the names it references already known: divisions, languages, skills and workbins
// together; then queues (a queue whose conditional group routing names other queues waits,
// as raw JSON, until every queue is named); then worktypes, which name queues. When a
// list fails, List still returns the listing, with the kinds it could not read in Unread,
// and an error saying why.
func List(ctx context.Context, c *genesys.Client) (*Listing, error) {
	l := &Listing{Names: &Names{}, Unread: map[entity.Kind]error{}, byName: map[entity.Kind]map[string]*Listed{}}
	var (
		divisions, languages, workbins []ref
		skills                         []converted
		errs                           = map[string]error{}
		mu                             sync.Mutex
	)
	// The lists of a step do not cancel each other: every failure is reported.
	var wg sync.WaitGroup
	step := func(list genesys.List, f func(context.Context) error) {
		wg.Go(func() {
			if err := f(ctx); err != nil {
				mu.Lock()
				errs[list.String()] = fmt.Errorf("list %s: %w", list, err)
				mu.Unlock()
			}
		})
	}
	step(genesys.DivisionList, func(ctx context.Context) (err error) {
		divisions, err = genesys.ListAs(ctx, c, genesys.DivisionList, decodeRef)
		return err
	})
	step(genesys.LanguageList, func(ctx context.Context) (err error) {
		languages, err = genesys.ListAs(ctx, c, genesys.LanguageList, decodeRef)
		return err
	})
	step(genesys.WorkbinList, func(ctx context.Context) (err error) {
		workbins, err = genesys.ListAs(ctx, c, genesys.WorkbinList, decodeRef)
		return err
	})
	step(genesys.SkillList, func(ctx context.Context) (err error) {
		skills, err = genesys.ListAs(ctx, c, genesys.SkillList, l.converter(entity.Skill, false))
		return err
	})
	wg.Wait()

	n := l.Names
	for _, d := range divisions {
		n.Add(entity.Division, d.ID, d.Name)
		l.Divisions = append(l.Divisions, d.Name)
	}
	for _, s := range skills {
		if s.Listed != nil {
			n.Add(entity.Skill, s.ID, s.Name)
		}
	}
	for _, w := range workbins {
		n.Add(entity.Workbin, w.ID, w.Name)
		l.Workbins = append(l.Workbins, w.Name)
	}
	for _, lang := range languages {
		if lang.State != "deleted" {
			n.Add(entity.Language, lang.ID, lang.Name)
		}
	}
	sort.Strings(l.Divisions)
	sort.Strings(l.Workbins)
	l.Divisions, l.Workbins = slices.Compact(l.Divisions), slices.Compact(l.Workbins)

	unread := func(kind entity.Kind, lists ...string) bool {
		var es []error
		for _, name := range lists {
			if err := errs[name]; err != nil {
				es = append(es, err)
			}
		}
		if len(es) == 0 {
			return false
		}
		l.Unread[kind] = errors.Join(es...)
		return true
	}
	if !unread(entity.Skill, "skills") {
		l.add(skills)
	}
	// Queues take names from divisions and skills; worktypes from every list.
	if !unread(entity.Queue, "divisions", "skills") {
		queues, err := genesys.ListAs(ctx, c, genesys.QueueList, l.converter(entity.Queue, true))
		if err != nil {
			errs["queues"] = fmt.Errorf("list queues: %w", err)
			unread(entity.Queue, "queues")
		} else {
			for _, q := range queues {
				n.Add(entity.Queue, q.id, q.name)
			}
			// The queues that name queues, now that every queue is named.
			for i := range queues {
				if queues[i].raw == nil {
					continue
				}
				if queues[i], err = l.listed(entity.Queue, queues[i].raw); err != nil {
					errs["queues"] = err
					unread(entity.Queue, "queues")
					break
				}
			}
			if l.Read(entity.Queue) {
				l.add(queues)
			}
		}
	}
	if !unread(entity.Worktype, "divisions", "skills", "workbins", "languages") {
		if !l.Read(entity.Queue) {
			l.Unread[entity.Worktype] = fmt.Errorf("worktypes name their queues, which could not be read: %w", l.Unread[entity.Queue])
		} else if worktypes, err := genesys.ListAs(ctx, c, genesys.WorktypeList, l.converter(entity.Worktype, false)); err != nil {
			errs["worktypes"] = fmt.Errorf("list worktypes: %w", err)
			unread(entity.Worktype, "worktypes")
		} else {
			l.add(worktypes)
		}
	}

	slices.SortFunc(l.Entities, func(a, b *Listed) int {
		return cmp.Or(cmp.Compare(a.Kind.Order(), b.Kind.Order()), cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	sort.Strings(l.Warnings)
	if len(l.Unread) == 0 {
		return l, nil
	}
	var es []error
	for _, k := range entity.Kinds {
		if err := l.Unread[k]; err != nil {
			es = append(es, fmt.Errorf("%ss not read: %w", k, err))
		}
	}
	return l, errors.Join(es...)
}

// ref is a referenced object of a list (division, language, workbin): its id and name.
type ref struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	State string `json:"state"`
}

// decodeRef decodes a referenced object leniently, as the typed models are: a member of
// another JSON type is left empty (an object without an id or name names nothing).
func decodeRef(raw json.RawMessage) (ref, string, error) {
	var r ref
	if err := json.Unmarshal(raw, &r); err != nil {
		if _, typeErr := errors.AsType[*json.UnmarshalTypeError](err); !typeErr {
			return ref{}, "", err
		}
	}
	return r, r.ID, nil
}

// converted is one list entity: its Listed form (nil for a deleted skill), its id and
// name, and the references canonicalisation could not name. raw is kept, instead of a
// Listed form, for a queue that must wait until every queue is named.
type converted struct {
	*Listed
	id, name   string
	unresolved []Unresolved
	raw        []byte
}

// converter returns the genesys.ListAs conversion of kind's entities. waitForQueues
// keeps a queue that references queues as raw JSON, for listed to canonicalise once every
// queue is named.
func (l *Listing) converter(kind entity.Kind, waitForQueues bool) func(json.RawMessage) (converted, string, error) {
	return func(raw json.RawMessage) (converted, string, error) {
		m, err := document.Decode(raw)
		if err != nil {
			return converted{}, "", fmt.Errorf("%s: %w", kind, err)
		}
		id, _ := m["id"].(string)
		name, _ := m["name"].(string)
		if kind == entity.Skill && m["state"] == "deleted" { // Genesys soft-deletes skills
			return converted{id: id, name: name}, id, nil
		}
		if waitForQueues && referencesQueues(m) {
			return converted{id: id, name: name, raw: raw}, id, nil
		}
		cv, err := l.listedOf(kind, m)
		return cv, id, err
	}
}

// listed canonicalises the raw JSON of one entity.
func (l *Listing) listed(kind entity.Kind, raw []byte) (converted, error) {
	m, err := document.Decode(raw)
	if err != nil {
		return converted{}, fmt.Errorf("%s: %w", kind, err)
	}
	return l.listedOf(kind, m)
}

func (l *Listing) listedOf(kind entity.Kind, m map[string]any) (converted, error) {
	e, unresolved, err := newEntity(kind, m, l.Names)
	if err != nil {
		return converted{}, err
	}
	cfg, err := document.CanonicalJSON(e.Canonical)
	if err != nil {
		return converted{}, fmt.Errorf("canonical JSON of %s %q: %w", kind, e.Name, err)
	}
	// An exact copy: the encoder's buffer has room to spare, and a big org keeps
	// tens of thousands of these.
	ls := &Listed{Kind: kind, Name: e.Name, ID: e.ID, ETag: e.ETag, Config: bytes.Clone(cfg), Modified: dateModified(m), ModifiedBy: modifiedBy(m)}
	return converted{Listed: ls, id: e.ID, name: e.Name, unresolved: unresolved}, nil
}

// add indexes the entities of one kind: of two with the same name (Genesys forbids it),
// the one with the smaller id is kept, as Read keeps it, with the same warnings.
func (l *Listing) add(entities []converted) {
	for _, cv := range entities {
		e := cv.Listed
		if e == nil {
			continue
		}
		m := l.byName[e.Kind]
		if m == nil {
			m = map[string]*Listed{}
			l.byName[e.Kind] = m
		}
		if prev, dup := m[e.Name]; dup {
			keep, drop := prev, e
			if e.ID < prev.ID {
				keep, drop = e, prev
				l.Entities[slices.Index(l.Entities, prev)] = e
			}
			m[e.Name] = keep
			l.Warnings = append(l.Warnings, sharedNameWarning(e.Kind, e.Name, keep.ID, drop.ID))
		} else {
			m[e.Name] = e
			l.Entities = append(l.Entities, e)
		}
		for _, u := range cv.unresolved {
			l.Warnings = append(l.Warnings, unresolvedWarning(e.Kind, e.Name, u))
		}
	}
}

// referencesQueues reports whether a raw queue's conditional group routing names a queue.
func referencesQueues(m map[string]any) bool {
	cgr, _ := m["conditionalGroupRouting"].(map[string]any)
	rules, _ := cgr["rules"].([]any)
	for _, r := range rules {
		if rm, _ := r.(map[string]any); rm["queue"] != nil {
			return true
		}
	}
	return false
}

// modifiedBy is the id of the user Genesys says last changed the entity: a queue's
// modifiedBy is the id itself, a worktype's a reference {id, selfUri} (SDK Queue,
// Worktype).
func modifiedBy(m map[string]any) string {
	switch v := m["modifiedBy"].(type) {
	case string:
		return v
	case map[string]any:
		id, _ := v["id"].(string)
		return id
	}
	return ""
}
