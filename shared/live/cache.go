package live

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/genesys"
)

// Cache is a process's id<->name knowledge of an org: the names of its divisions,
// routing languages, skills, queues and workbins (Names), and worktype ids by name, read
// with list endpoints and reused for a while. It keeps the lists it was built from, so an
// entity deleted through it is forgotten without listing the org again (Names only
// grows). It is not safe for concurrent use: its user (the apply engine) runs one unit of
// work at a time.
type Cache struct {
	g   Reader
	ttl time.Duration
	now func() time.Time

	names     *Names
	worktypes map[string]string // worktype name -> id; nil until a lookup needs it
	loaded    bool
	loadedAt  time.Time

	divs   []genesys.Division
	langs  []genesys.Language
	skills []genesys.Skill
	queues []genesys.Queue
	bins   []genesys.Workbin
}

// NewCache returns an empty Cache reading the org through g, whose names are reused for
// ttl by the clock now (nil: time.Now).
func NewCache(g Reader, ttl time.Duration, now func() time.Time) *Cache {
	if now == nil {
		now = time.Now
	}
	return &Cache{g: g, ttl: ttl, now: now}
}

// Names returns the cached names, loading them when absent or older than the TTL.
func (c *Cache) Names(ctx context.Context) (*Names, error) {
	if c.loaded && c.now().Sub(c.loadedAt) < c.ttl {
		return c.names, nil
	}
	return c.Load(ctx)
}

// Load lists divisions, routing languages, skills, queues and workbins (concurrently,
// inside the client's one request budget) and replaces the cache. Worktypes are listed
// again on the next lookup.
func (c *Cache) Load(ctx context.Context) (*Names, error) {
	var divs []genesys.Division
	var langs []genesys.Language
	var skills []genesys.Skill
	var queues []genesys.Queue
	var bins []genesys.Workbin
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { divs, err = c.g.ListDivisions(gctx); return })
	g.Go(func() (err error) { langs, err = c.g.ListLanguages(gctx); return })
	g.Go(func() (err error) { skills, err = c.g.ListSkills(gctx); return })
	g.Go(func() (err error) { queues, err = c.g.ListQueues(gctx); return })
	g.Go(func() (err error) { bins, err = c.g.ListWorkbins(gctx); return })
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("read the org's names: %w", err)
	}
	c.divs, c.langs, c.skills, c.queues, c.bins = divs, langs, skills, queues, bins
	c.worktypes = nil
	c.build()
	c.loaded, c.loadedAt = true, c.now()
	return c.names, nil
}

func (c *Cache) build() {
	c.names = NewNames(c.divs, c.skills, c.queues, c.bins)
	c.names.AddLanguages(c.langs)
}

// Lookup returns the id of the entity of managed kind k called name (worktypes are listed
// on the first lookup after a load). false when the cache knows no such entity.
func (c *Cache) Lookup(ctx context.Context, k entity.Kind, name string) (string, bool, error) {
	if k != entity.Worktype {
		names, err := c.Names(ctx)
		if err != nil {
			return "", false, err
		}
		id, ok := names.ID(k, name)
		return id, ok, nil
	}
	if c.worktypes == nil {
		wts, err := c.g.ListWorktypes(ctx)
		if err != nil {
			return "", false, fmt.Errorf("list worktypes: %w", err)
		}
		c.worktypes = make(map[string]string, len(wts))
		for _, w := range wts {
			if _, dup := c.worktypes[w.Name]; !dup {
				c.worktypes[w.Name] = w.ID
			}
		}
	}
	id, ok := c.worktypes[name]
	return id, ok, nil
}

// Add records an entity created (or renamed to name) through the cache's user, so later
// references to its name resolve.
func (c *Cache) Add(k entity.Kind, id, name string) {
	switch k {
	case entity.Worktype:
		if c.worktypes != nil {
			c.worktypes[name] = id
		}
		return
	case entity.Skill:
		c.skills = append(c.skills, genesys.Skill{ID: id, Name: name, State: "active"})
	case entity.Queue:
		c.queues = append(c.queues, genesys.Queue{ID: id, Name: name})
	}
	if c.loaded {
		c.names.Add(k, id, name)
	}
}

// Forget drops the entity of kind k with id (deleted, or about to be renamed): a later
// reference to its name must not resolve to it. Genesys soft-deletes skills; a skill
// created again under the same name has a new id, and Names keeps the first id of a name.
func (c *Cache) Forget(k entity.Kind, id string) {
	switch k {
	case entity.Worktype:
		for name, wid := range c.worktypes {
			if wid == id {
				delete(c.worktypes, name)
			}
		}
		return
	case entity.Skill:
		c.skills = slices.DeleteFunc(c.skills, func(s genesys.Skill) bool { return s.ID == id })
	case entity.Queue:
		c.queues = slices.DeleteFunc(c.queues, func(q genesys.Queue) bool { return q.ID == id })
	default:
		return
	}
	if c.loaded {
		c.build()
	}
}

// Session is one unit of work's view of the org through a Cache (the apply engine opens
// one per change request): the names it started with, refreshed at most once. Entities
// it reads are canonicalised with its current names.
type Session struct {
	g         Genesys
	c         *Cache
	names     *Names
	refreshed bool
}

// Session opens a session reading and writing through g.
func (c *Cache) Session(ctx context.Context, g Genesys) (*Session, error) {
	n, err := c.Names(ctx)
	if err != nil {
		return nil, err
	}
	return &Session{g: g, c: c, names: n}, nil
}

// Lazy opens a session that starts with the names the cache holds now, none if it never
// loaded, and reads the org's lists only when it must (Refresh, Resolve): a function that
// reads one entity per event pays for the lists only when an entity needs them.
func (c *Cache) Lazy(g Genesys) *Session {
	names := c.names
	if !c.loaded || c.now().Sub(c.loadedAt) >= c.ttl {
		names = nil
	}
	return &Session{g: g, c: c, names: names}
}

// Names returns the session's current names (nil: none loaded yet).
func (s *Session) Names() *Names { return s.names }

// Refreshed reports whether the session has read the org's names.
func (s *Session) Refreshed() bool { return s.refreshed }

// Resolve reads the entity of kind k with id as Get does and, when its canonical form
// names a reference only by id because the session's names do not know it (a lazy
// session knows none), refreshes the names once and canonicalises it again. Most queues
// need no lists: Genesys embeds the names of their references.
func (s *Session) Resolve(ctx context.Context, k entity.Kind, id string) (*Entity, error) {
	e, unresolved, err := s.get(ctx, k, id)
	if err != nil || e == nil || len(unresolved) == 0 {
		return e, err
	}
	if did, err := s.Refresh(ctx); err != nil || !did {
		return e, err
	}
	return e, s.Canonicalise(e)
}

// Refresh reloads the names once per session; it reports whether it did.
func (s *Session) Refresh(ctx context.Context) (bool, error) {
	if s.refreshed {
		return false, nil
	}
	s.refreshed = true
	n, err := s.c.Load(ctx)
	if err != nil {
		return false, err
	}
	s.names = n
	return true, nil
}

// Canonicalise computes e's canonical form and ETag from e.Raw with the session's names.
func (s *Session) Canonicalise(e *Entity) error {
	if _, err := e.canonicalise(s.names); err != nil {
		return fmt.Errorf("canonicalise %s %s: %w", e.Kind, e.ID, err)
	}
	return nil
}

// Recanonicalise refreshes the names (once per session) and canonicalises e again: for an
// ETag or a comparison that may differ only because a name changed since the names were
// loaded.
func (s *Session) Recanonicalise(ctx context.Context, e *Entity) error {
	did, err := s.Refresh(ctx)
	if err != nil || !did {
		return err
	}
	return s.Canonicalise(e)
}

// Get reads the entity of kind k with id; (nil, nil) when it does not exist.
func (s *Session) Get(ctx context.Context, k entity.Kind, id string) (*Entity, error) {
	e, _, err := s.get(ctx, k, id)
	return e, err
}

// get is Get that also reports the references the session's names could not name.
func (s *Session) get(ctx context.Context, k entity.Kind, id string) (*Entity, []Unresolved, error) {
	a, ok := AdapterFor(k)
	if !ok {
		return nil, nil, fmt.Errorf("live: kind %q is not managed", k)
	}
	raw, err := a.Get(ctx, s.g, id)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s %s: %w", k, id, err)
	}
	if raw == nil {
		return nil, nil, nil
	}
	e := &Entity{Kind: k, ID: id, Raw: raw}
	unresolved, err := e.canonicalise(s.names)
	if err != nil {
		return nil, nil, fmt.Errorf("canonicalise %s %s: %w", k, id, err)
	}
	return e, unresolved, nil
}

// Find reads the entity of kind k called name: by idHint (the id a plan last saw) when it
// still has that name, else by name through the cache. A name the cache does not know
// refreshes the names once if refreshOnMiss; a name the cache maps to an entity that is
// gone or renamed always does (the cache is stale: the entity may have been deleted and
// created again under a new id). (nil, nil) when no entity of that name exists.
func (s *Session) Find(ctx context.Context, k entity.Kind, name, idHint string, refreshOnMiss bool) (*Entity, error) {
	tried := ""
	if idHint != "" {
		e, err := s.Get(ctx, k, idHint)
		if err != nil {
			return nil, err
		}
		if e != nil && e.Name == name {
			return e, nil
		}
		// Gone or renamed since the plan: fall back to the name, the entity's identity.
		tried = idHint
	}
	for {
		id, ok, err := s.c.Lookup(ctx, k, name)
		if err != nil {
			return nil, err
		}
		if ok && id != tried {
			e, err := s.Get(ctx, k, id)
			if err != nil {
				return nil, err
			}
			if e != nil && e.Name == name {
				return e, nil
			}
			tried = id
		}
		if !ok && !refreshOnMiss {
			return nil, nil
		}
		if did, err := s.Refresh(ctx); err != nil || !did {
			return nil, err
		}
	}
}

// withNames runs build, refreshing the names once and running it again when a reference
// does not resolve (a *ReferenceError): the object may have been created since the names
// were loaded.
func (s *Session) withNames(ctx context.Context, build func() error) error {
	err := build()
	if !errors.Is(err, ErrUnresolved) {
		return err
	}
	// Not refreshed now means refreshed earlier in this session: the names are as fresh.
	if did, rerr := s.Refresh(ctx); rerr != nil {
		return rerr
	} else if did {
		err = build()
	}
	return err
}

// Create creates the entity of kind k called name with the managed fields desired (spec
// shape) and records it in the cache. A reference that does not resolve refreshes the
// names once; still unresolved, it is a *ReferenceError. When Genesys answered with an
// entity that cannot be canonicalised, Create returns that entity (Canonical nil, ETag
// empty) with the error: it was created all the same.
func (s *Session) Create(ctx context.Context, k entity.Kind, name string, desired map[string]any) (*Entity, error) {
	a, ok := AdapterFor(k)
	if !ok {
		return nil, fmt.Errorf("live: kind %q is not managed", k)
	}
	var raw map[string]any
	err := s.withNames(ctx, func() (err error) {
		raw, err = a.Create(ctx, s.g, name, desired, s.names)
		return err
	})
	if err != nil {
		return nil, err
	}
	id, _ := raw["id"].(string)
	s.c.Add(k, id, name)
	s.names = s.c.names
	e := &Entity{Kind: k, Name: name, ID: id, Raw: raw}
	return e, s.Canonicalise(e)
}

// Write writes the managed fields (spec shape) onto current, the entity as read just
// before, and returns the entity as Genesys answered. A write that renames the entity
// (a case-only rename of a queue or worktype) moves its name in the cache.
func (s *Session) Write(ctx context.Context, current *Entity, managed map[string]any) (*Entity, error) {
	a, ok := AdapterFor(current.Kind)
	if !ok {
		return nil, fmt.Errorf("live: kind %q is not managed", current.Kind)
	}
	var raw map[string]any
	err := s.withNames(ctx, func() (err error) {
		raw, err = a.Write(ctx, s.g, current, managed, s.names)
		return err
	})
	if err != nil {
		return nil, err
	}
	after := &Entity{Kind: current.Kind, Name: current.Name, ID: current.ID, Raw: raw}
	if err := s.Canonicalise(after); err != nil {
		return nil, err
	}
	if after.Name != current.Name {
		// Renamed: later requests (and references) name it by its new name.
		s.c.Forget(current.Kind, current.ID)
		s.c.Add(current.Kind, current.ID, after.Name)
		s.names = s.c.names
	}
	return after, nil
}

// Delete deletes e. An entity already gone is not an error: gone reports it. Either way
// the cache forgets it.
func (s *Session) Delete(ctx context.Context, e *Entity) (gone bool, err error) {
	a, ok := AdapterFor(e.Kind)
	if !ok {
		return false, fmt.Errorf("live: kind %q is not managed", e.Kind)
	}
	err = a.Delete(ctx, s.g, e.ID)
	if err == nil || errors.Is(err, genesys.ErrNotFound) {
		s.c.Forget(e.Kind, e.ID)
		s.names = s.c.names
	}
	if errors.Is(err, genesys.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("delete %s %s: %w", e.Kind, e.ID, err)
	}
	return false, nil
}
