package live

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/routekeeper/routekeeper/shared/document"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/genesys"
)

// Reader is what Read needs from a Genesys client (*genesys.Client
// satisfies it): the six list endpoints, nothing per entity.
type Reader interface {
	ListDivisions(ctx context.Context) ([]genesys.Division, error)
	ListLanguages(ctx context.Context) ([]genesys.Language, error)
	ListSkills(ctx context.Context) ([]genesys.Skill, error)
	ListQueues(ctx context.Context) ([]genesys.Queue, error)
	ListWorkbins(ctx context.Context) ([]genesys.Workbin, error)
	ListWorktypes(ctx context.Context) ([]genesys.Worktype, error)
}

// Entity is one live managed entity: its raw JSON as Genesys returned it (every
// member, for GET-edit-PUT), its canonical form and the ETag of that form.
type Entity struct {
	Kind      entity.Kind    `json:"kind"`
	Name      string         `json:"name"`
	ID        string         `json:"id"`
	Raw       map[string]any `json:"raw"`
	Canonical map[string]any `json:"canonical"`
	ETag      string         `json:"etag"`
}

// NewEntity canonicalises raw (a skill, queue or worktype as the API returned
// it) and computes its ETag.
func NewEntity(kind entity.Kind, raw map[string]any, n *Names) (*Entity, error) {
	e, _, err := newEntity(kind, raw, n)
	return e, err
}

func newEntity(kind entity.Kind, raw map[string]any, n *Names) (*Entity, []Unresolved, error) {
	id, _ := raw["id"].(string)
	e := &Entity{Kind: kind, ID: id, Raw: raw}
	unresolved, err := e.canonicalise(n)
	if err != nil {
		return nil, nil, err
	}
	return e, unresolved, nil
}

// canonicalise sets e's canonical form, ETag and name from e.Raw with the names n, and
// reports the references n could not name.
func (e *Entity) canonicalise(n *Names) ([]Unresolved, error) {
	doc, unresolved, err := canonical(e.Kind, e.Raw, n)
	if err != nil {
		return nil, err
	}
	etag, err := document.ETag(doc)
	if err != nil {
		return nil, fmt.Errorf("etag of %s %q: %w", e.Kind, doc["name"], err)
	}
	e.Canonical, e.ETag = doc, etag
	e.Name, _ = doc["name"].(string)
	return unresolved, nil
}

// Org is the org as read by Read: managed entities by kind and name,
// the names of divisions and workbins, and the id<->name index.
type Org struct {
	Names     *Names
	Skills    map[string]*Entity // by name
	Queues    map[string]*Entity
	Worktypes map[string]*Entity
	Divisions []string // sorted names
	Workbins  []string // sorted names
	// Warnings are things a reader should know that did not stop the read:
	// references to ids the org does not name, and duplicate names.
	Warnings []string
}

// Kind returns the entities of kind ("skill", "queue" or "worktype") by name.
func (l *Org) Kind(kind entity.Kind) map[string]*Entity {
	switch kind {
	case entity.Skill:
		return l.Skills
	case entity.Queue:
		return l.Queues
	case entity.Worktype:
		return l.Worktypes
	}
	return nil
}

// Entity returns the live entity of kind called name.
func (l *Org) Entity(kind entity.Kind, name string) (*Entity, bool) {
	e, ok := l.Kind(kind)[name]
	return e, ok
}

// Sorted returns the entities of kind ordered by name.
func (l *Org) Sorted(kind entity.Kind) []*Entity {
	m := l.Kind(kind)
	out := make([]*Entity, 0, len(m))
	for _, e := range m {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b *Entity) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// Read reads the whole org with list endpoints only: divisions, routing languages,
// skills, queues, workbins and worktypes, the six lists concurrently (each client list
// pages concurrently inside the client's one request budget). Languages are read only to
// name worktypes' defaultLanguage, which Genesys returns as {id, selfUri}. No entity is
// fetched on its own: the list payloads carry every field the canonical form uses
// (docs/ARCHITECTURE.md, "Read the org with lists only").
//
// progress, if not nil, is called after each of five list steps completes with
// (done, 5): divisions and languages, two small lists of objects that are only
// referenced, count as one step, so callers that show five list steps stay
// right. Then it is called with (entities canonicalised, total entities) every
// 256 entities and at the end. It may be called from several goroutines, one
// call at a time.
//
// Deleted skills (state "deleted") are left out. When two entities of a kind
// share a name (Genesys forbids it, case-insensitively), the one with the
// smaller id is kept and a warning is recorded.
func Read(ctx context.Context, r Reader, progress func(done, total int)) (*Org, error) {
	var mu sync.Mutex
	done := 0
	step := func(total int) {
		if progress == nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		done++
		progress(done, total)
	}
	var (
		divisions []genesys.Division
		languages []genesys.Language
		skills    []genesys.Skill
		queues    []genesys.Queue
		workbins  []genesys.Workbin
		worktypes []genesys.Worktype
	)
	g, gctx := errgroup.WithContext(ctx)
	list := func(what string, f func(context.Context) error) {
		g.Go(func() error {
			if err := f(gctx); err != nil {
				return fmt.Errorf("list %s: %w", what, err)
			}
			step(5)
			return nil
		})
	}
	// Divisions and languages are one progress step (see above).
	list("divisions and languages", func(ctx context.Context) error {
		lg, lctx := errgroup.WithContext(ctx)
		lg.Go(func() (err error) { divisions, err = r.ListDivisions(lctx); return })
		lg.Go(func() (err error) { languages, err = r.ListLanguages(lctx); return })
		return lg.Wait()
	})
	list("skills", func(ctx context.Context) (err error) { skills, err = r.ListSkills(ctx); return })
	list("queues", func(ctx context.Context) (err error) { queues, err = r.ListQueues(ctx); return })
	list("workbins", func(ctx context.Context) (err error) { workbins, err = r.ListWorkbins(ctx); return })
	list("worktypes", func(ctx context.Context) (err error) { worktypes, err = r.ListWorktypes(ctx); return })
	if err := g.Wait(); err != nil {
		return nil, err
	}

	names := NewNames(divisions, skills, queues, workbins)
	names.AddLanguages(languages)
	l := &Org{
		Names:     names,
		Skills:    make(map[string]*Entity, len(skills)),
		Queues:    make(map[string]*Entity, len(queues)),
		Worktypes: make(map[string]*Entity, len(worktypes)),
	}
	for _, d := range divisions {
		l.Divisions = append(l.Divisions, d.Name)
	}
	for _, w := range workbins {
		l.Workbins = append(l.Workbins, w.Name)
	}
	sort.Strings(l.Divisions)
	sort.Strings(l.Workbins)
	l.Divisions = slices.Compact(l.Divisions)
	l.Workbins = slices.Compact(l.Workbins)

	type item struct {
		kind  entity.Kind
		model any
	}
	items := make([]item, 0, len(skills)+len(queues)+len(worktypes))
	for i := range skills {
		if skills[i].State != "deleted" {
			items = append(items, item{entity.Skill, &skills[i]})
		}
	}
	for i := range queues {
		items = append(items, item{entity.Queue, &queues[i]})
	}
	for i := range worktypes {
		items = append(items, item{entity.Worktype, &worktypes[i]})
	}

	// Canonicalise on every core: at 5,000 queues this is CPU work worth sharing.
	entities := make([]*Entity, len(items))
	unresolved := make([][]Unresolved, len(items))
	var counted int
	var cmu sync.Mutex
	cg, cctx := errgroup.WithContext(ctx)
	cg.SetLimit(runtime.GOMAXPROCS(0))
	const chunk = 256
	for start := 0; start < len(items); start += chunk {
		end := min(start+chunk, len(items))
		cg.Go(func() error {
			for i := start; i < end; i++ {
				if err := cctx.Err(); err != nil {
					return err
				}
				raw, err := Raw(items[i].model)
				if err != nil {
					return fmt.Errorf("%s: %w", items[i].kind, err)
				}
				e, un, err := newEntity(items[i].kind, raw, l.Names)
				if err != nil {
					return err
				}
				entities[i], unresolved[i] = e, un
			}
			if progress != nil {
				cmu.Lock()
				counted += end - start
				progress(counted, len(items))
				cmu.Unlock()
			}
			return nil
		})
	}
	if err := cg.Wait(); err != nil {
		return nil, err
	}
	for i, e := range entities {
		m := l.Kind(e.Kind)
		if prev, dup := m[e.Name]; dup {
			keep, drop := prev, e
			if e.ID < prev.ID {
				keep, drop = e, prev
			}
			m[e.Name] = keep
			l.Warnings = append(l.Warnings, sharedNameWarning(e.Kind, e.Name, keep.ID, drop.ID))
		} else {
			m[e.Name] = e
		}
		for _, u := range unresolved[i] {
			l.Warnings = append(l.Warnings, unresolvedWarning(e.Kind, e.Name, u))
		}
	}
	sort.Strings(l.Warnings)
	return l, nil
}

// sharedNameWarning says which of two entities of kind called name a read keeps (the one
// with the smaller id; Genesys forbids the case).
func sharedNameWarning(kind entity.Kind, name, keepID, dropID string) string {
	return fmt.Sprintf("%s %q: two entities share the name (ids %s and %s); using %s", kind, name, keepID, dropID, keepID)
}

// unresolvedWarning says that the entity references an object the org does not list.
func unresolvedWarning(kind entity.Kind, name string, u Unresolved) string {
	return fmt.Sprintf("%s %q: %s references %s %s, which the org does not list; written as %q",
		kind, name, u.Path, u.Kind, u.ID, entity.IDPrefix+u.ID)
}

// Raw returns the JSON object of v (a genesys model, which re-emits every
// member the server sent, or any JSON-encodable value) decoded with Decode.
func Raw(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode raw entity: %w", err)
	}
	return document.Decode(b)
}

// NewOrg returns an Org of the entities given, indexed by kind and name (a later entity
// replaces an earlier one of the same kind and name), with names n: an org assembled from
// something other than Read, such as a few entities read one by one.
func NewOrg(n *Names, entities ...*Entity) *Org {
	org := &Org{Names: n, Skills: map[string]*Entity{}, Queues: map[string]*Entity{}, Worktypes: map[string]*Entity{}}
	for _, e := range entities {
		if m := org.Kind(e.Kind); m != nil {
			m[e.Name] = e
		}
	}
	return org
}

// Docs returns every managed entity's canonical document, by kind in creation order
// and then by name.
func (l *Org) Docs() []entity.Doc {
	out := make([]entity.Doc, 0, len(l.Skills)+len(l.Queues)+len(l.Worktypes))
	for _, k := range entity.Kinds {
		for _, e := range l.Sorted(k) {
			out = append(out, e.Doc())
		}
	}
	return out
}

// Doc returns e's canonical document.
func (e *Entity) Doc() entity.Doc {
	return entity.Doc{Kind: e.Kind, Name: e.Name, ID: e.ID, Fields: e.Canonical}
}
