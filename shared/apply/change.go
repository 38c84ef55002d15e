package apply

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/routekeeper/routekeeper/shared/changes"
	"github.com/routekeeper/routekeeper/shared/document"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/genesys"
	"github.com/routekeeper/routekeeper/shared/live"
	"github.com/routekeeper/routekeeper/shared/retry"
	"github.com/routekeeper/routekeeper/shared/store"
)

// op is one request being applied: the change logic (package doc, Algorithm steps 2-4),
// reading and writing through a live.Session of the engine's names cache.
type op struct {
	e   *Engine
	req *changes.Request
	s   *live.Session
	log *slog.Logger
}

// run applies the request to Genesys and fills res; a non-nil error is classified by the
// caller (retryable or REJECTED).
func (e *Engine) run(ctx context.Context, req *changes.Request, res *Result) error {
	s, err := e.names.Session(ctx, e.g)
	if err != nil {
		return err
	}
	o := &op{e: e, req: req, s: s, log: e.log.With(slog.String("changeId", req.ChangeID))}
	switch req.Operation {
	case changes.OpCreate:
		return o.create(ctx, res)
	case changes.OpUpdate:
		return o.update(ctx, res)
	case changes.OpDelete:
		return o.delete(ctx, res)
	}
	return retry.Permanent(fmt.Errorf("unknown operation %q", req.Operation))
}

// find reads the request's entity by its id hint or its name (live.Session.Find).
func (o *op) find(ctx context.Context, refreshOnMiss bool) (*live.Entity, error) {
	return o.s.Find(ctx, o.req.Entity.Type, o.req.Entity.Name, o.req.Entity.ID, refreshOnMiss)
}

// desired is the request's desired document with references as the org spells them, as
// canonical live does: a reference differing only in case is neither a difference nor a
// conflict.
func (o *op) desired() map[string]any {
	return live.OrgSpelling(o.req.Entity.Type, o.req.Desired, o.s.Names())
}

// base returns the document the request was planned against: the snapshot of its
// baseEtag, else (a table written before snapshots existed) the stored last-known state if
// its ETag is baseEtag, else nil.
func (o *op) base(ctx context.Context) map[string]any {
	k := o.req.Key()
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
	doc, err := document.Decode(obs.Config)
	if err != nil {
		return nil
	}
	if etag, err := document.ETag(doc); err != nil || etag != obs.ETag {
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
func (o *op) observe(ctx context.Context, l *live.Entity) {
	obs, err := l.Observation(o.req.Environment, store.SourceApply, o.e.opts.Now())
	if err == nil {
		// With the bookkeeping context: a delivery cut off right after its write must
		// still leave the merge base of the next change.
		bctx, cancel := o.e.bookkeeping(ctx)
		err = o.e.s.PutObservation(bctx, obs)
		cancel()
	}
	if err != nil && !errors.Is(err, store.ErrStale) {
		o.log.WarnContext(ctx, "could not store the last-known state", slog.String("error", err.Error()))
	}
}

// written classifies a write's failure to resolve a reference: with names read from the
// org during this request, an unresolved reference to a routing language, division,
// workbin or member group is permanent (routekeeper never creates those, so no pending
// change can make the name resolve; retrying would only walk the message to the
// dead-letter queue), while one to a skill or queue stays retryable (the config may
// create it in a change of another message group that the queue delivers later).
func written(err error) error {
	if re, ok := errors.AsType[*live.ReferenceError](err); ok && !re.Kind.Managed() {
		return retry.Permanent(fmt.Errorf("%w (names re-read from the org; routekeeper never creates a %s, so retrying cannot help: add it in Genesys or fix the config, then plan again)", err, re.Kind))
	}
	return err
}

// writeFailure is a write that failed retryably: nothing may be resent as it was (the PUT
// is a full replace of the copy read before it), so update reads again and decides again.
type writeFailure struct {
	err error
	// ambiguous: Genesys may have applied it (a 5xx, a lost answer), as opposed to a 429
	// or a budget wait, which it did not.
	ambiguous bool
}

func (w *writeFailure) Error() string { return w.err.Error() }
func (w *writeFailure) Unwrap() error { return w.err }

func ambiguousWrite(err error) bool {
	if ae, ok := errors.AsType[*genesys.APIError](err); ok {
		return ae.StatusCode >= 500
	}
	_, budget := errors.AsType[*genesys.BudgetError](err)
	return !budget
}

// update applies an update. A write that fails retryably is never resent as it was: the
// engine waits what Genesys asked (within the delivery's deadline), reads the entity
// again, compares its ETag again (merge or CONFLICT) and writes again, at most
// WriteAttempts writes. After an unanswered write, a re-read showing the change is APPLIED.
func (o *op) update(ctx context.Context, res *Result) error {
	ambiguous := false
	for attempt := 1; ; attempt++ {
		err := o.updateOnce(ctx, res, ambiguous)
		wf, ok := errors.AsType[*writeFailure](err)
		if !ok {
			return err
		}
		c := retry.Classify(wf.err)
		wait := c.After
		if wait <= 0 {
			wait = time.Duration(attempt) * time.Second
		}
		if dl, has := ctx.Deadline(); !c.Retry || attempt >= o.e.opts.WriteAttempts || (has && time.Until(dl) < wait+time.Second) {
			return wf.err
		}
		ambiguous = ambiguous || wf.ambiguous
		o.log.WarnContext(ctx, "write failed; reading again before writing again", slog.String("error", wf.err.Error()),
			slog.Duration("wait", wait), slog.Bool("mayHaveApplied", wf.ambiguous))
		if err := o.e.opts.Sleep(ctx, wait); err != nil {
			return wf.err
		}
		attempts := res.WriteAttempts
		*res = Result{ChangeID: res.ChangeID, Entity: res.Entity, Operation: res.Operation, BaseETag: res.BaseETag,
			PriorAttempts: res.PriorAttempts, WriteAttempts: attempts}
	}
}

// updateOnce is one read, compare and (at most one) write of update, inside a write
// window opened before the read and closed after the write's answer.
func (o *op) updateOnce(ctx context.Context, res *Result, ambiguous bool) (err error) {
	kind := o.req.Entity.Type
	start := o.e.opts.Now()
	// Until: the engine never works on the request past its claim, so a window still
	// open then was abandoned by a runtime that died (the webhook stops waiting for it).
	w := store.WriteWindow{Key: o.req.Key(), ChangeID: o.req.ChangeID, Start: start, Until: start.Add(o.e.lockFor(ctx) + o.e.opts.ClockSkew)}
	if err := o.e.s.PutWriteWindow(ctx, w); err != nil {
		// Without it an overwrite could not be detected: write nothing.
		return fmt.Errorf("open the write window of %s: %w", w.Key, err)
	}
	var intended []string // the fields a sent write set (it may have applied)
	defer func() {
		w.End, w.Written, w.ETag = o.e.opts.Now(), intended, res.ETag
		bctx, cancel := o.e.bookkeeping(ctx)
		defer cancel()
		if werr := o.e.s.PutWriteWindow(bctx, w); werr != nil {
			o.log.WarnContext(ctx, "could not close the write window", slog.String("error", werr.Error()))
		}
	}()
	// The read pays for the write's budget too: they go out back to back.
	win := &wireWindow{now: o.e.opts.Now}
	rctx := genesys.Prepay(ctx, 2)
	l, err := o.find(win.reading(rctx), true)
	if err != nil {
		return err
	}
	var base map[string]any
	if l != nil && l.ETag != o.req.BaseEtag {
		// A merge needs the names fresh and the state the plan saw: a names list and a
		// table read that would sit inside the window. Fetch both, then read again, so
		// only the merge lies between the read and the write.
		if _, err := o.s.Refresh(ctx); err != nil {
			return err
		}
		base = o.base(ctx)
		rctx = genesys.Prepay(ctx, 2)
		if l, err = o.find(win.reading(rctx), true); err != nil {
			return err
		}
	}
	if l == nil {
		res.Status = store.StatusConflict
		res.Reason = fmt.Sprintf("%s %q no longer exists (deleted or renamed since the plan); nothing was created: re-plan to create it", kind, o.req.Entity.Name)
		res.Conflicts = []document.Conflict{{Path: "", Ours: o.req.Desired, Reason: document.ConflictTheirsDeleted}}
		return nil
	}
	readAt := o.e.opts.Now()
	res.EntityID, res.LiveETag = l.ID, l.ETag
	desired := o.desired()
	toWrite := desired
	if l.ETag != o.req.BaseEtag {
		ours := document.Overlay(base, desired)
		merged, conflicts := document.Merge(base, ours, l.Canonical)
		if len(conflicts) > 0 {
			res.Status, res.Conflicts = store.StatusConflict, conflicts
			if base == nil {
				res.Reason = fmt.Sprintf("live %s changed since the plan (ETag %s, planned against %s) and the state it was planned against is not stored, so every managed field that differs is a conflict; nothing was written", kind, l.ETag, o.req.BaseEtag)
			} else {
				res.Reason = fmt.Sprintf("live %s changed since the plan (ETag %s, planned against %s) in %d field(s) this change also sets; nothing was written", kind, l.ETag, o.req.BaseEtag, len(conflicts))
			}
			o.observe(ctx, l)
			return nil
		}
		toWrite = document.Project(merged, desired)
		res.Merged = true
	}
	diffs := document.Diff(toWrite, l.Canonical)
	if len(diffs) == 0 {
		res.Status, res.ETag = store.StatusNoop, l.ETag
		res.Reason = "live already holds the desired managed fields"
		if ambiguous {
			res.Status = store.StatusApplied
			res.Reason = "an earlier write of this delivery went unanswered (a 5xx or a lost answer); reading again shows the entity holds the change"
		}
		o.observe(ctx, l)
		return nil
	}
	if kind == entity.Worktype {
		// A PATCH sends only what the change changes: a managed field it leaves as read,
		// sent all the same, would revert an admin's save landing inside the window. (A
		// queue's PUT is a full replace; the webhook puts back what it reverted.)
		toWrite = changedFields(toWrite, l.Canonical)
	}
	wctx, call := genesys.WithCallInfo(genesys.SendOnce(win.writing(rctx)))
	res.WriteAttempts++
	intended = document.Paths(diffs)
	writeCalled := o.e.opts.Now()
	after, err := o.s.Write(wctx, l, toWrite)
	res.WindowMs = float64(win.length(readAt, writeCalled).Microseconds()) / 1000
	if err != nil {
		err = written(err)
		if c := retry.Classify(err); c.Retry {
			wf := &writeFailure{err: err, ambiguous: ambiguousWrite(err)}
			if !wf.ambiguous {
				intended = nil // refused unapplied
			}
			return wf
		}
		return err
	}
	res.Status, res.ETag, res.Written = store.StatusApplied, after.ETag, intended
	res.CorrelationID = call.CorrelationID()
	o.observe(ctx, after)
	return nil
}

// changedFields returns the top-level fields of desired that differ from live.
func changedFields(desired, live map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range desired {
		was := map[string]any{}
		if lv, ok := live[k]; ok {
			was[k] = lv
		}
		if len(document.Diff(map[string]any{k: v}, was)) > 0 {
			out[k] = v
		}
	}
	return out
}

// create creates the entity unless one of that name exists. A miss in the names cache is
// expected here, so it does not refresh the names (unless an earlier attempt ran); a create
// that Genesys refuses because the name is taken (409) refreshes them and decides again.
func (o *op) create(ctx context.Context, res *Result) error {
	// An earlier attempt of this request may have created the entity without learning it
	// (a lost response): then a miss in the cache is not trusted.
	l, err := o.find(ctx, res.PriorAttempts > 0)
	if err != nil {
		return err
	}
	created, err := o.createOrCompare(ctx, l, res)
	if errors.Is(err, genesys.ErrConflict) && !created {
		if did, rerr := o.s.Refresh(ctx); rerr != nil || !did {
			return errors.Join(err, rerr)
		}
		if l, err = o.find(ctx, false); err != nil {
			return err
		}
		if l == nil {
			return fmt.Errorf("create %s %q: Genesys reports the name taken, but no %s of that name is listed: %w", o.req.Entity.Type, o.req.Entity.Name, o.req.Entity.Type, genesys.ErrConflict)
		}
		_, err = o.createOrCompare(ctx, l, res)
	}
	return err
}

// createOrCompare compares an existing entity l with desired, or creates the entity when
// l is nil. created reports whether a create was attempted and answered.
func (o *op) createOrCompare(ctx context.Context, l *live.Entity, res *Result) (created bool, err error) {
	kind, name := o.req.Entity.Type, o.req.Entity.Name
	desired := o.desired()
	if l != nil {
		diffs := document.Diff(desired, l.Canonical)
		if len(diffs) > 0 {
			if err := o.s.Recanonicalise(ctx, l); err != nil {
				return false, err
			}
			diffs = document.Diff(desired, l.Canonical)
		}
		res.EntityID, res.LiveETag = l.ID, l.ETag
		o.observe(ctx, l)
		if len(diffs) == 0 {
			res.Status, res.ETag = store.StatusNoop, l.ETag
			res.Reason = fmt.Sprintf("%s %q already exists with the desired managed fields", kind, name)
			return false, nil
		}
		res.Status = store.StatusConflict
		res.Reason = fmt.Sprintf("%s %q already exists with other values in %d managed field(s); routekeeper does not adopt it: align the config or the entity, then re-plan", kind, name, len(diffs))
		for _, d := range diffs {
			res.Conflicts = append(res.Conflicts, document.Conflict{Path: d.Path, Ours: d.Desired, Theirs: d.Live, Reason: document.ConflictBothAdded})
		}
		return false, nil
	}
	cctx, call := genesys.WithCallInfo(ctx)
	after, err := o.s.Create(cctx, kind, name, desired)
	if after == nil {
		return false, written(err)
	}
	if err != nil {
		// Created, but the answer cannot be canonicalised: the record must still say so.
		o.log.WarnContext(ctx, "created entity could not be canonicalised", slog.String("error", err.Error()))
	}
	res.Status, res.EntityID, res.ETag = store.StatusApplied, after.ID, after.ETag
	res.CorrelationID = call.CorrelationID()
	res.Written = document.Paths(document.Diff(desired, map[string]any{}))
	if after.Canonical != nil {
		o.observe(ctx, after)
	}
	return true, nil
}

func (o *op) delete(ctx context.Context, res *Result) error {
	kind, name := o.req.Entity.Type, o.req.Entity.Name
	l, err := o.find(ctx, true)
	if err != nil {
		return err
	}
	if l == nil {
		res.Status = store.StatusNoop
		res.Reason = fmt.Sprintf("%s %q does not exist", kind, name)
		return nil
	}
	if l.ETag != o.req.BaseEtag {
		if err := o.s.Recanonicalise(ctx, l); err != nil {
			return err
		}
	}
	res.EntityID, res.LiveETag = l.ID, l.ETag
	if l.ETag != o.req.BaseEtag {
		res.Status = store.StatusConflict
		res.Reason = fmt.Sprintf("live %s changed since the delete was planned (ETag %s, planned against %s); it was not deleted", kind, l.ETag, o.req.BaseEtag)
		if base := o.base(ctx); base != nil {
			for _, d := range document.Diff(l.Canonical, base, document.IncludeUndeclared()) {
				res.Conflicts = append(res.Conflicts, document.Conflict{Path: d.Path, Base: d.Live, Theirs: d.Desired, Reason: document.ConflictOursDeleted})
			}
		}
		if len(res.Conflicts) == 0 {
			res.Conflicts = []document.Conflict{{Path: "", Theirs: l.Canonical, Reason: document.ConflictOursDeleted}}
		}
		o.observe(ctx, l)
		return nil
	}
	dctx, call := genesys.WithCallInfo(ctx)
	gone, err := o.s.Delete(dctx, l)
	if err != nil {
		return err
	}
	if gone {
		res.Status, res.Reason = store.StatusNoop, fmt.Sprintf("%s %q was deleted meanwhile", kind, name)
		return nil
	}
	res.Status, res.CorrelationID = store.StatusApplied, call.CorrelationID()
	return nil
}
