package apply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"golang.org/x/sync/errgroup"

	"github.com/routekeeper/routekeeper/shared/changes"
	"github.com/routekeeper/routekeeper/shared/drift"
	"github.com/routekeeper/routekeeper/shared/genesys"
	"github.com/routekeeper/routekeeper/shared/store"
)

// namesCache is the per-process id<->name knowledge of the org (package doc, Names cache).
// It keeps the lists it was built from, so an entity the engine deletes can be forgotten
// without listing the org again (drift.Names only grows).
type namesCache struct {
	names     *drift.Names
	worktypes map[string]string // worktype name -> id; nil until a lookup needs it
	loaded    bool
	loadedAt  int64 // unix nanos on the engine clock

	divs   []genesys.Division
	langs  []genesys.Language
	skills []genesys.Skill
	queues []genesys.Queue
	bins   []genesys.Workbin
}

// build indexes the lists into names.
func (c *namesCache) build() {
	c.names = drift.NewNames(c.divs, c.skills, c.queues, c.bins)
	c.names.AddLanguages(c.langs)
}

// forget drops the entity of kind with id, which the engine deleted: a later reference to
// its name must not resolve to it (Genesys soft-deletes skills; a skill created again under
// the same name has a new id, and drift.Names.Add keeps the first id of a name).
func (c *namesCache) forget(kind, id string) {
	switch kind {
	case drift.KindWorktype:
		for name, wid := range c.worktypes {
			if wid == id {
				delete(c.worktypes, name)
			}
		}
		return
	case drift.KindSkill:
		c.skills = slices.DeleteFunc(c.skills, func(s genesys.Skill) bool { return s.ID == id })
	case drift.KindQueue:
		c.queues = slices.DeleteFunc(c.queues, func(q genesys.Queue) bool { return q.ID == id })
	default:
		return
	}
	if c.loaded {
		c.build()
	}
}

// add records an entity the engine created, so later requests may reference it by name.
func (c *namesCache) add(kind, id, name string) {
	switch kind {
	case drift.KindWorktype:
		if c.worktypes != nil {
			c.worktypes[name] = id
		}
		return
	case drift.KindSkill:
		c.skills = append(c.skills, genesys.Skill{ID: id, Name: name, State: "active"})
	case drift.KindQueue:
		c.queues = append(c.queues, genesys.Queue{ID: id, Name: name})
	}
	if c.loaded {
		c.names.Add(kind, id, name)
	}
}

// names returns the cached maps, loading them when absent or older than NamesTTL.
func (e *Engine) cachedNames(ctx context.Context) (*drift.Names, error) {
	if e.names.loaded && e.opts.Now().UnixNano()-e.names.loadedAt < int64(e.opts.NamesTTL) {
		return e.names.names, nil
	}
	return e.loadNames(ctx)
}

// loadNames lists divisions, routing languages, skills, queues and workbins
// (concurrently, inside the client's one budget) and replaces the cache.
func (e *Engine) loadNames(ctx context.Context) (*drift.Names, error) {
	var c namesCache
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { c.divs, err = e.g.ListDivisions(gctx); return })
	g.Go(func() (err error) { c.langs, err = e.g.ListLanguages(gctx); return })
	g.Go(func() (err error) { c.skills, err = e.g.ListSkills(gctx); return })
	g.Go(func() (err error) { c.queues, err = e.g.ListQueues(gctx); return })
	g.Go(func() (err error) { c.bins, err = e.g.ListWorkbins(gctx); return })
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("read the org's names: %w", err)
	}
	c.build()
	c.loaded, c.loadedAt = true, e.opts.Now().UnixNano()
	e.names = c
	return e.names.names, nil
}

// worktypeID looks a worktype up by name (ListWorktypes on first need).
func (e *Engine) worktypeID(ctx context.Context, name string) (string, bool, error) {
	if e.names.worktypes == nil {
		wts, err := e.g.ListWorktypes(ctx)
		if err != nil {
			return "", false, fmt.Errorf("list worktypes: %w", err)
		}
		e.names.worktypes = make(map[string]string, len(wts))
		for _, w := range wts {
			if _, dup := e.names.worktypes[w.Name]; !dup {
				e.names.worktypes[w.Name] = w.ID
			}
		}
	}
	id, ok := e.names.worktypes[name]
	return id, ok, nil
}

// op is one request being applied.
type op struct {
	e         *Engine
	req       *changes.Request
	kind      string
	names     *drift.Names
	refreshed bool // names reloaded during this request
	log       *slog.Logger
}

// refresh reloads the names once per request; it reports whether it did.
func (o *op) refresh(ctx context.Context) (bool, error) {
	if o.refreshed {
		return false, nil
	}
	o.refreshed = true
	n, err := o.e.loadNames(ctx)
	if err != nil {
		return false, err
	}
	o.names = n
	return true, nil
}

// live is an entity as read from Genesys.
type live struct {
	id    string
	raw   map[string]any
	canon map[string]any
	etag  string
}

func (o *op) canonicalise(l *live) error {
	c, err := drift.Canonical(o.kind, l.raw, o.names)
	if err != nil {
		return fmt.Errorf("canonicalise %s %s: %w", o.kind, l.id, err)
	}
	etag, err := drift.ETag(c)
	if err != nil {
		return fmt.Errorf("etag of %s %s: %w", o.kind, l.id, err)
	}
	l.canon, l.etag = c, etag
	return nil
}

// toRaw turns a decoded model into the raw JSON object the server sent.
func toRaw(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return drift.Decode(b)
}

// get reads the entity with id; (nil, nil) when it does not exist.
func (o *op) get(ctx context.Context, id string) (*live, error) {
	var raw map[string]any
	var err error
	switch o.kind {
	case drift.KindQueue:
		raw, err = o.e.g.GetQueueRaw(ctx, id)
	case drift.KindSkill:
		var s *genesys.Skill
		if s, err = o.e.g.GetSkill(ctx, id); err == nil {
			if s.State == "deleted" { // Genesys soft-deletes skills
				return nil, nil
			}
			raw, err = toRaw(s)
		}
	case drift.KindWorktype:
		var w *genesys.Worktype
		if w, err = o.e.g.GetWorktype(ctx, id); err == nil {
			raw, err = toRaw(w)
		}
	}
	if errors.Is(err, genesys.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s %s: %w", o.kind, id, err)
	}
	l := &live{id: id, raw: raw}
	return l, o.canonicalise(l)
}

// lookup finds an entity id by name in the cache.
func (o *op) lookup(ctx context.Context, name string) (string, bool, error) {
	if o.kind == drift.KindWorktype {
		return o.e.worktypeID(ctx, name)
	}
	id, ok := o.names.ID(o.kind, name)
	return id, ok, nil
}

// find reads the request's entity: by the id hint, else by name. A name the cache does
// not know refreshes the names once if refreshOnMiss; a name the cache maps to an entity
// that is gone or renamed always does (the cache is stale: the entity may have been
// deleted and created again under a new id). (nil, nil) when no entity of that name exists.
func (o *op) find(ctx context.Context, refreshOnMiss bool) (*live, error) {
	name := o.req.Entity.Name
	tried := ""
	if id := o.req.Entity.ID; id != "" {
		l, err := o.get(ctx, id)
		if err != nil {
			return nil, err
		}
		if l != nil && l.canon["name"] == name {
			return l, nil
		}
		// Gone or renamed since the plan: fall back to the name, the entity's identity.
		tried = id
	}
	for {
		id, ok, err := o.lookup(ctx, name)
		if err != nil {
			return nil, err
		}
		if ok && id != tried {
			l, err := o.get(ctx, id)
			if err != nil {
				return nil, err
			}
			if l != nil && l.canon["name"] == name {
				return l, nil
			}
			tried = id
		}
		if !ok && !refreshOnMiss {
			return nil, nil
		}
		if did, err := o.refresh(ctx); err != nil || !did {
			return nil, err
		}
	}
}

// recanonicalise refreshes the names once and canonicalises l again, for an ETag or a
// comparison that may only differ because a name changed since the cache was loaded.
func (o *op) recanonicalise(ctx context.Context, l *live) error {
	did, err := o.refresh(ctx)
	if err != nil || !did {
		return err
	}
	return o.canonicalise(l)
}

// base returns the document the request was planned against: the snapshot of its
// baseEtag, else (a table written before snapshots existed) the stored last-known state if
// its ETag is baseEtag, else nil.
func (o *op) base(ctx context.Context) map[string]any {
	k := entityKey(o.req)
	obs, err := o.e.s.GetSnapshot(ctx, k, o.req.BaseEtag)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			o.log.WarnContext(ctx, "could not read the snapshot of the base ETag; trying the last-known state", slog.String("error", err.Error()))
		}
		obs, err = o.e.s.GetObservation(ctx, k)
	}
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			o.log.WarnContext(ctx, "could not read the last-known state; merging without a base", slog.String("error", err.Error()))
		}
		return nil
	}
	if obs.ETag != o.req.BaseEtag {
		return nil
	}
	doc, err := drift.Decode(obs.Config)
	if err != nil {
		return nil
	}
	if etag, err := drift.ETag(doc); err != nil || etag != obs.ETag {
		return nil // not the stored document the ETag was computed from
	}
	return doc
}

// observe stores l as the entity's last-known state (and the snapshot of its ETag), keyed
// by the name l has now: after a write that renamed the entity (a queue or worktype update
// whose desired name differs from the request's, e.g. only in case) that is the new name,
// which the next plan and apply look the entity up by. The observation under the old name
// is left as it was: it is the document a request still planned against the old name
// holds as its base, base() only trusts a document whose ETag is a request's baseEtag, and
// the drift scan refreshes or replaces it. A failure only loses freshness of the cache of
// live state, so it is logged, not returned.
func (o *op) observe(ctx context.Context, l *live) {
	key := entityKey(o.req)
	if name, _ := l.canon["name"].(string); name != "" {
		key.Name = name
	}
	cfg, err := drift.CanonicalJSON(l.canon)
	if err == nil {
		err = o.e.s.PutObservation(ctx, store.Observation{
			Key: key, ETag: l.etag, Config: cfg, GenesysID: l.id,
			ObservedAt: o.e.opts.Now().UTC(), Source: store.SourceApply,
		})
	}
	if err != nil && !errors.Is(err, store.ErrStale) {
		o.log.WarnContext(ctx, "could not store the last-known state", slog.String("error", err.Error()))
	}
}

// run applies the request to Genesys and fills res; a non-nil error is classified by the
// caller (retryable or REJECTED).
func (e *Engine) run(ctx context.Context, req *changes.Request, res *Result) error {
	o := &op{e: e, req: req, kind: string(req.Entity.Type),
		log: e.log.With(slog.String("changeId", req.ChangeID))}
	n, err := e.cachedNames(ctx)
	if err != nil {
		return err
	}
	o.names = n
	switch req.Operation {
	case changes.OpCreate:
		return o.create(ctx, res)
	case changes.OpUpdate:
		return o.update(ctx, res)
	case changes.OpDelete:
		return o.delete(ctx, res)
	}
	return permanent("unknown operation %q", req.Operation)
}

func (o *op) update(ctx context.Context, res *Result) error {
	l, err := o.find(ctx, true)
	if err != nil {
		return err
	}
	if l == nil {
		res.Status = store.StatusConflict
		res.Reason = fmt.Sprintf("%s %q no longer exists (deleted or renamed since the plan); nothing was created: re-plan to create it", o.kind, o.req.Entity.Name)
		res.Conflicts = []drift.Conflict{{Path: "", Ours: o.req.Desired, Reason: drift.ConflictTheirsDeleted}}
		return nil
	}
	if l.etag != o.req.BaseEtag {
		if err := o.recanonicalise(ctx, l); err != nil {
			return err
		}
	}
	res.EntityID, res.LiveETag = l.id, l.etag
	// References as the org spells them, as canonical live does: a reference
	// differing only in case is neither a difference nor a conflict.
	desired := drift.OrgSpelling(o.kind, o.req.Desired, o.names)
	toWrite := desired
	if l.etag != o.req.BaseEtag {
		base := o.base(ctx)
		ours := drift.Overlay(base, desired)
		merged, conflicts := drift.Merge(base, ours, l.canon)
		if len(conflicts) > 0 {
			res.Status, res.Conflicts = store.StatusConflict, conflicts
			if base == nil {
				res.Reason = fmt.Sprintf("live %s changed since the plan (ETag %s, planned against %s) and the state it was planned against is not stored, so every managed field that differs is a conflict; nothing was written", o.kind, l.etag, o.req.BaseEtag)
			} else {
				res.Reason = fmt.Sprintf("live %s changed since the plan (ETag %s, planned against %s) in %d field(s) this change also sets; nothing was written", o.kind, l.etag, o.req.BaseEtag, len(conflicts))
			}
			o.observe(ctx, l)
			return nil
		}
		toWrite = project(merged, desired)
		res.Merged = true
	}
	diffs := drift.Diff(o.kind, o.req.Entity.Name, toWrite, l.canon)
	if len(diffs) == 0 {
		res.Status, res.ETag = store.StatusNoop, l.etag
		res.Reason = "live already holds the desired managed fields"
		o.observe(ctx, l)
		return nil
	}
	wctx, call := genesys.WithCallInfo(ctx)
	after, err := o.write(wctx, l, toWrite)
	if err != nil {
		return err
	}
	res.Status, res.ETag, res.Written = store.StatusApplied, after.etag, paths(diffs)
	res.CorrelationID = call.CorrelationID()
	if name, _ := after.canon["name"].(string); name != "" && name != l.canon["name"] {
		// Renamed: later requests (and references) name it by its new name.
		o.e.names.forget(o.kind, l.id)
		o.e.names.add(o.kind, l.id, name)
		o.names = o.e.names.names
	}
	o.observe(ctx, after)
	return nil
}

// write sends managed (spec shape) to the live entity l and returns the entity as
// Genesys answered.
func (o *op) write(ctx context.Context, l *live, managed map[string]any) (*live, error) {
	var raw map[string]any
	err := o.withNames(ctx, func() error {
		switch o.kind {
		case drift.KindQueue:
			body, err := drift.QueueBody(l.raw, managed, o.names)
			if err != nil {
				return err
			}
			q, err := o.e.g.UpdateQueueRaw(ctx, l.id, body)
			if err != nil {
				return fmt.Errorf("update queue %s: %w", l.id, err)
			}
			raw, err = toRaw(q)
			return err
		case drift.KindWorktype:
			patch, err := drift.WorktypePatch(managed, o.names)
			if err != nil {
				return err
			}
			w, err := o.e.g.PatchWorktype(ctx, l.id, patch)
			if err != nil {
				return fmt.Errorf("patch worktype %s: %w", l.id, err)
			}
			raw, err = toRaw(w)
			return err
		default:
			return permanent("a skill has no field but its name, and Genesys cannot rename skills: create the new skill and delete the old one")
		}
	})
	if err != nil {
		return nil, err
	}
	after := &live{id: l.id, raw: raw}
	return after, o.canonicalise(after)
}

// withNames runs build, refreshing the names once and running it again when a reference
// does not resolve. A reference still unresolved after that, with names read from the org
// during this request, is decided by what it names:
//
//   - a routing language, division, workbin or member group: REJECTED. routekeeper never
//     creates those, so no pending change can make the name resolve; retrying would only
//     walk the message to the dead-letter queue.
//   - a skill or queue: retryable. The config may create it in a change of another
//     message group (one per entity) that the queue delivers later.
func (o *op) withNames(ctx context.Context, build func() error) error {
	err := build()
	if !errors.Is(err, drift.ErrUnresolved) {
		return err
	}
	// Not refreshed now means refreshed earlier in this request: the names are as fresh.
	if did, rerr := o.refresh(ctx); rerr != nil {
		return rerr
	} else if did {
		err = build()
	}
	if errors.Is(err, drift.ErrUnresolved) {
		var re *drift.ReferenceError
		if errors.As(err, &re) && !createdByRoutekeeper(re.Kind) {
			return &permanentError{fmt.Errorf("%w (names re-read from the org; routekeeper never creates a %s, so retrying cannot help: add it in Genesys or fix the config, then plan again)", err, re.Kind)}
		}
	}
	return err
}

// createdByRoutekeeper reports whether objects of kind can appear through another change
// request: the managed kinds a spec references (worktypes are never referenced).
func createdByRoutekeeper(kind string) bool {
	return kind == drift.KindSkill || kind == drift.KindQueue || kind == drift.KindWorktype
}

// create creates the entity unless one of that name exists. A miss in the names cache is
// expected here, so it does not refresh the names (unless an earlier attempt ran); a create that Genesys refuses because
// the name is taken (409) refreshes them and decides again.
func (o *op) create(ctx context.Context, res *Result) error {
	// An earlier attempt of this request may have created the entity without learning it
	// (a lost response): then a miss in the cache is not trusted.
	l, err := o.find(ctx, res.PriorAttempts > 0)
	if err != nil {
		return err
	}
	created, err := o.createOrCompare(ctx, l, res)
	if errors.Is(err, genesys.ErrConflict) && !created {
		if did, rerr := o.refresh(ctx); rerr != nil || !did {
			return errors.Join(err, rerr)
		}
		if l, err = o.find(ctx, false); err != nil {
			return err
		}
		if l == nil {
			return fmt.Errorf("create %s %q: Genesys reports the name taken, but no %s of that name is listed: %w", o.kind, o.req.Entity.Name, o.kind, genesys.ErrConflict)
		}
		_, err = o.createOrCompare(ctx, l, res)
	}
	return err
}

// createOrCompare compares an existing entity l with desired, or creates the entity when
// l is nil. created reports whether a create was attempted and answered.
func (o *op) createOrCompare(ctx context.Context, l *live, res *Result) (created bool, err error) {
	desired := drift.OrgSpelling(o.kind, o.req.Desired, o.names)
	if l != nil {
		diffs := drift.Diff(o.kind, o.req.Entity.Name, desired, l.canon)
		if len(diffs) > 0 {
			if err := o.recanonicalise(ctx, l); err != nil {
				return false, err
			}
			diffs = drift.Diff(o.kind, o.req.Entity.Name, desired, l.canon)
		}
		res.EntityID, res.LiveETag = l.id, l.etag
		o.observe(ctx, l)
		if len(diffs) == 0 {
			res.Status, res.ETag = store.StatusNoop, l.etag
			res.Reason = fmt.Sprintf("%s %q already exists with the desired managed fields", o.kind, o.req.Entity.Name)
			return false, nil
		}
		res.Status = store.StatusConflict
		res.Reason = fmt.Sprintf("%s %q already exists with other values in %d managed field(s); routekeeper does not adopt it: align the config or the entity, then re-plan", o.kind, o.req.Entity.Name, len(diffs))
		for _, d := range diffs {
			res.Conflicts = append(res.Conflicts, drift.Conflict{Path: d.Path, Ours: d.Desired, Theirs: d.Live, Reason: drift.ConflictBothAdded})
		}
		return false, nil
	}
	var raw map[string]any
	var id string
	cctx, call := genesys.WithCallInfo(ctx)
	err = o.withNames(ctx, func() error {
		ctx := cctx // only the create itself is watched (withNames may list names)
		switch o.kind {
		case drift.KindSkill:
			s, err := o.e.g.CreateSkill(ctx, o.req.Entity.Name)
			if err != nil {
				return fmt.Errorf("create skill: %w", err)
			}
			id = s.ID
			raw, err = toRaw(s)
			return err
		case drift.KindQueue:
			body, err := drift.NewQueueBody(desired, o.names)
			if err != nil {
				return err
			}
			q, err := o.e.g.CreateQueue(ctx, body)
			if err != nil {
				return fmt.Errorf("create queue: %w", err)
			}
			id = q.ID
			raw, err = toRaw(q)
			return err
		default:
			body, err := drift.NewWorktypeBody(desired, o.names)
			if err != nil {
				return err
			}
			w, err := o.e.g.CreateWorktype(ctx, body)
			if err != nil {
				return fmt.Errorf("create worktype: %w", err)
			}
			id = w.ID
			raw, err = toRaw(w)
			return err
		}
	})
	if err != nil {
		return false, err
	}
	// Later requests may reference the new entity by name.
	o.e.names.add(o.kind, id, o.req.Entity.Name)
	o.names = o.e.names.names
	after := &live{id: id, raw: raw}
	if err := o.canonicalise(after); err != nil {
		// Created, but the answer cannot be canonicalised: the record must still say so.
		o.log.WarnContext(ctx, "created entity could not be canonicalised", slog.String("error", err.Error()))
	}
	res.Status, res.EntityID, res.ETag = store.StatusApplied, id, after.etag
	res.CorrelationID = call.CorrelationID()
	res.Written = paths(drift.Diff(o.kind, o.req.Entity.Name, desired, map[string]any{}))
	if after.canon != nil {
		o.observe(ctx, after)
	}
	return true, nil
}

func (o *op) delete(ctx context.Context, res *Result) error {
	l, err := o.find(ctx, true)
	if err != nil {
		return err
	}
	if l == nil {
		res.Status = store.StatusNoop
		res.Reason = fmt.Sprintf("%s %q does not exist", o.kind, o.req.Entity.Name)
		return nil
	}
	if l.etag != o.req.BaseEtag {
		if err := o.recanonicalise(ctx, l); err != nil {
			return err
		}
	}
	res.EntityID, res.LiveETag = l.id, l.etag
	if l.etag != o.req.BaseEtag {
		res.Status = store.StatusConflict
		res.Reason = fmt.Sprintf("live %s changed since the delete was planned (ETag %s, planned against %s); it was not deleted", o.kind, l.etag, o.req.BaseEtag)
		if base := o.base(ctx); base != nil {
			for _, d := range drift.Diff(o.kind, o.req.Entity.Name, l.canon, base, drift.IncludeUndeclared()) {
				res.Conflicts = append(res.Conflicts, drift.Conflict{Path: d.Path, Base: d.Live, Theirs: d.Desired, Reason: drift.ConflictOursDeleted})
			}
		}
		if len(res.Conflicts) == 0 {
			res.Conflicts = []drift.Conflict{{Path: "", Theirs: l.canon, Reason: drift.ConflictOursDeleted}}
		}
		o.observe(ctx, l)
		return nil
	}
	dctx, call := genesys.WithCallInfo(ctx)
	switch o.kind {
	case drift.KindQueue:
		err = o.e.g.DeleteQueue(dctx, l.id, false)
	case drift.KindSkill:
		err = o.e.g.DeleteSkill(dctx, l.id)
	default:
		err = o.e.g.DeleteWorktype(dctx, l.id)
	}
	if err == nil || errors.Is(err, genesys.ErrNotFound) {
		o.e.names.forget(o.kind, l.id)
		o.names = o.e.names.names
	}
	if errors.Is(err, genesys.ErrNotFound) {
		res.Status, res.Reason = store.StatusNoop, fmt.Sprintf("%s %q was deleted meanwhile", o.kind, o.req.Entity.Name)
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete %s %s: %w", o.kind, l.id, err)
	}
	res.Status, res.CorrelationID = store.StatusApplied, call.CorrelationID()
	return nil
}

// project returns the values doc holds at the fields shape declares (recursing into
// objects both hold), with null for a declared field doc lacks: the managed fields of a
// merged document, in the form the request-body builders and Diff take.
func project(doc, shape map[string]any) map[string]any {
	out := make(map[string]any, len(shape))
	for k, sv := range shape {
		dv, ok := doc[k]
		if !ok {
			out[k] = nil
			continue
		}
		if so, ok := sv.(map[string]any); ok {
			if do, ok := dv.(map[string]any); ok {
				out[k] = project(do, so)
				continue
			}
		}
		out[k] = dv
	}
	return out
}

func paths(diffs []drift.Difference) []string {
	out := make([]string, len(diffs))
	for i, d := range diffs {
		out[i] = d.Path
	}
	return out
}
