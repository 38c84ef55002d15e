package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/routekeeper/routekeeper/shared/bus"
	"github.com/routekeeper/routekeeper/shared/document"
	"github.com/routekeeper/routekeeper/shared/drift"
	"github.com/routekeeper/routekeeper/shared/emf"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/live"
	"github.com/routekeeper/routekeeper/shared/retry"
	"github.com/routekeeper/routekeeper/shared/store"
)

// outcome says what became of an accepted event.
type outcome string

const (
	outRecorded  outcome = "recorded"  // read, recorded, drift assessed
	outDeleted   outcome = "deleted"   // the entity is gone; recorded as deleted
	outCoalesced outcome = "coalesced" // a newer observation was stored already: not read again
	outDuplicate outcome = "duplicate" // the event id was processed before
	outIgnored   outcome = "ignored"   // about an entity type routekeeper does not manage
	outUnknown   outcome = "unknown"   // the entity is gone and routekeeper never saw it
	outFailed    outcome = "failed"    // cannot be processed, and retrying cannot help (logged)
)

func (o outcome) message() string {
	switch o {
	case outDuplicate:
		return "accepted: this event was processed before"
	case outIgnored:
		return "accepted: routekeeper does not manage this entity type"
	case outCoalesced:
		return "accepted: a newer state of this entity is recorded already"
	case outUnknown:
		return "accepted: the entity is gone and routekeeper never recorded it"
	case outFailed:
		return "accepted, but it cannot be processed (see the function's log)"
	}
	return "accepted: recorded"
}

// stateAttempts bounds the retries of a drift state write that raced another writer.
const stateAttempts = 3

// CoalesceMargin is how much newer than an event a stored observation without Genesys's
// dateModified must be to stand for it: routekeeper stamps those with its own clock,
// Genesys its events with its own, so an edit landing just after a read could carry an
// earlier time than the observation, and must still be read.
const CoalesceMargin = 2 * time.Second

// covers reports whether observation o already holds the change of an event at
// eventTime. With the entity's dateModified both times come from Genesys's clock: an
// observation modified at or after the event saw it. Without it, routekeeper's read time
// must be CoalesceMargin past the event.
func covers(o store.Observation, eventTime time.Time) bool {
	if !o.Modified.IsZero() {
		return !o.Modified.Before(eventTime)
	}
	return o.ObservedAt.After(eventTime.Add(CoalesceMargin))
}

// process takes one audit event through: dedupe, coalesce, read, record, assess. A nil
// error means the event is done (its outcome says how); an error means it could not be
// recorded now and its dedupe mark is removed, so a redelivery processes it.
func (h *Handler) process(ctx context.Context, c change, m *emf.Metrics) (out outcome, err error) {
	log := h.log().With(slog.String("eventId", c.EventID), slog.String("entityType", c.EntityType), slog.String("entityId", c.EntityID))
	if c.Kind == "" {
		count(m, "EventsIgnored")
		return outIgnored, nil
	}
	first, err := h.Store.MarkEventSeen(ctx, c.EventID, DedupeWindow)
	if err != nil {
		return "", err
	}
	if !first {
		count(m, "EventsDuplicate")
		log.InfoContext(ctx, "duplicate event skipped")
		return outDuplicate, nil
	}
	defer func() {
		if err == nil {
			return
		}
		if retry.Classify(err).Retry {
			bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), bookkeepingTimeout)
			defer cancel()
			if ferr := h.Store.ForgetEvent(bctx, c.EventID); ferr != nil {
				log.ErrorContext(ctx, "could not release the event for its redelivery; the drift scan will see the change", slog.String("error", ferr.Error()))
			}
			return
		}
		// Retrying cannot help (a live document routekeeper cannot read): acknowledged.
		count(m, "EventsFailed")
		log.ErrorContext(ctx, "event cannot be processed", slog.String("error", err.Error()))
		out, err = outFailed, nil
	}()
	cause := &store.Cause{EventID: c.EventID, EventTime: c.EventTime, UserID: c.UserID, ClientID: c.ClientID}
	ses := h.Names.Lazy(h.Genesys)

	// Coalesce: an observation newer than the event holds the event's change already.
	if c.EntityName != "" && !c.EventTime.IsZero() {
		k := entity.Key{Environment: h.Environment, Kind: c.Kind, Name: c.EntityName}
		if o, err := h.Store.GetObservation(ctx, k); err == nil && o.GenesysID == c.EntityID && covers(o, c.EventTime) {
			count(m, "EventsCoalesced")
			log.InfoContext(ctx, "a newer observation is stored; not read again", slog.Time("observedAt", o.ObservedAt))
			if err := h.checkOverwritesBy(ctx, c, o, m, log); err != nil {
				return "", err
			}
			return outCoalesced, h.assess(ctx, ses, o, c, m, log)
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return "", err
		}
	}

	l, err := ses.Resolve(ctx, c.Kind, c.EntityID)
	if err != nil {
		return "", err
	}
	var o store.Observation
	out = outRecorded
	if l != nil {
		if o, err = l.Observation(h.Environment, store.SourceWebhook, h.now()); err != nil {
			return "", err
		}
	} else {
		name, err := h.nameOf(ctx, c)
		if err != nil {
			return "", err
		}
		if name == "" {
			count(m, "EventsUnknown")
			return outUnknown, nil
		}
		o = store.Observation{Key: entity.Key{Environment: h.Environment, Kind: c.Kind, Name: name}, GenesysID: c.EntityID,
			ObservedAt: h.now().UTC(), Source: store.SourceWebhook, Deleted: true}
		out = outDeleted
	}
	o.Cause = cause
	if err := h.Store.PutObservation(ctx, o); err != nil {
		if !errors.Is(err, store.ErrStale) {
			return "", err
		}
		// Someone recorded a newer state meanwhile: assess that one.
		if o, err = h.Store.GetObservation(ctx, o.Key); err != nil {
			return "", err
		}
	}
	log.InfoContext(ctx, "live state recorded", slog.String("entity", o.Key.String()), slog.String("etag", o.ETag), slog.Bool("deleted", o.Deleted))
	if err := h.checkOverwritesBy(ctx, c, o, m, log); err != nil {
		return "", err
	}
	return out, h.assess(ctx, ses, o, c, m, log)
}

// checkOverwritesBy compares an edit by someone other than routekeeper with the write
// windows of its entity (overwrite.go); a deletion overwrote nothing routekeeper wrote.
func (h *Handler) checkOverwritesBy(ctx context.Context, c change, o store.Observation, m *emf.Metrics, log *slog.Logger) error {
	if h.own(c) || o.Deleted {
		return nil
	}
	return h.checkOverwrites(ctx, c, o.Key, m, log)
}

// own reports whether the event's edit was made by routekeeper's own OAuth client.
func (h *Handler) own(c change) bool { return h.OwnClientID != "" && c.ClientID == h.OwnClientID }

// nameOf is the name of the entity the event is about when it could not be read: the
// event's own, else the name of the observation of that Genesys id (one query of the
// environment's observations; deletions are rare).
func (h *Handler) nameOf(ctx context.Context, c change) (string, error) {
	if c.EntityName != "" {
		return c.EntityName, nil
	}
	obs, err := h.Store.ListObservations(ctx, h.Environment)
	if err != nil {
		return "", err
	}
	for _, o := range obs {
		if o.Key.Kind == c.Kind && o.GenesysID == c.EntityID {
			return o.Key.Name, nil
		}
	}
	return "", nil
}

// assess compares the observed state o with the desired state of its entity, keeps the
// entity's drift state and publishes an event when the state changes. An edit made by
// routekeeper's own client raises no drift (the apply engine recorded its outcome, and
// overflow switches point a worktype away from its declared queue on purpose), but it
// does resolve one: an apply that brought the entity back in line.
func (h *Handler) assess(ctx context.Context, ses *live.Session, o store.Observation, c change, m *emf.Metrics, log *slog.Logger) error {
	own := h.own(c)
	var desired *entity.Doc
	d, err := h.Store.GetDesired(ctx, o.Key)
	switch {
	case err == nil:
		fields, err := document.Decode(d.Config)
		if err != nil {
			return retry.Permanent(fmt.Errorf("desired config of %s: %w", o.Key, err))
		}
		desired = &entity.Doc{Kind: o.Key.Kind, Name: o.Key.Name, Fields: fields}
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	var l *live.Entity
	if !o.Deleted {
		canon, err := document.Decode(o.Config)
		if err != nil {
			return retry.Permanent(fmt.Errorf("observation of %s: %w", o.Key, err))
		}
		l = &live.Entity{Kind: o.Key.Kind, Name: o.Key.Name, ID: o.GenesysID, Canonical: canon, ETag: o.ETag}
	}
	a := drift.Assess(desired, l, o.Deleted, ses.Names())
	if a.State == drift.Modified && ses.Names() == nil {
		// A lazy session without names does not know how the org spells a reference the
		// config writes in another case: compare again with the org's names before saying
		// drift.
		if _, err := ses.Refresh(ctx); err != nil {
			return err
		}
		a = drift.Assess(desired, l, o.Deleted, ses.Names())
	}
	if a.State == "" {
		return nil
	}
	if own && a.State.Drifted() {
		log.InfoContext(ctx, "edit made by routekeeper itself; no drift raised", slog.String("state", string(a.State)))
		return nil
	}
	diffs, err := json.Marshal(a.Deviations)
	if err != nil {
		return retry.Permanent(fmt.Errorf("differences of %s: %w", o.Key, err))
	}
	if len(a.Deviations) == 0 {
		diffs = nil
	}
	for attempt := 1; ; attempt++ {
		var prev *store.DriftState
		stored, err := h.Store.GetDriftState(ctx, o.Key)
		switch {
		case err == nil:
			prev = &stored
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		if prev != nil && prev.ObservedAt.After(o.ObservedAt) {
			return nil // a newer state was assessed already
		}
		var prevState drift.State
		if prev != nil {
			prevState = drift.State(prev.State)
		}
		// The event first: if the state write then fails, the redelivery publishes it again
		// (at least once), where the other order could lose it.
		if dt := drift.Transition(prevState, a.State); dt != "" {
			ev := drift.NewEvent(o.Key, o.GenesysID, a, prevState, o.ObservedAt, o.Cause, false)
			if err := h.Bus.Publish(ctx, bus.Event{DetailType: dt, Detail: ev, Resources: []string{o.Key.String()}}); err != nil {
				return err
			}
			if dt == bus.DriftDetected {
				count(m, "DriftDetected")
			} else {
				count(m, "DriftResolved")
			}
			log.InfoContext(ctx, dt, slog.String("entity", o.Key.String()), slog.String("state", string(a.State)), slog.String("previousState", string(prevState)))
		}
		err = h.Store.PutDriftState(ctx, store.DriftState{Key: o.Key, State: string(a.State), Differences: diffs,
			ETag: o.ETag, ObservedAt: o.ObservedAt, Cause: o.Cause}, prev)
		if err == nil || !errors.Is(err, store.ErrStale) || attempt == stateAttempts {
			return err
		}
		// Another writer assessed the entity meanwhile: read its state and decide again.
	}
}
