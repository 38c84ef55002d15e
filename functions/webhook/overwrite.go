package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/routekeeper/routekeeper/shared/bus"
	"github.com/routekeeper/routekeeper/shared/emf"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/genesys"
	"github.com/routekeeper/routekeeper/shared/store"
)

// Overwrite detection. Genesys has no If-Match for queues: an admin's save landing
// between the apply engine's read and its full-replace PUT is overwritten (the same
// field) or reverted (another field). The engine records each update's write window; an
// audit event by someone else inside one is such an edit. Its change record becomes
// POSSIBLE_OVERWRITE with the edit, a Possible Overwrite event goes on the bus, and a
// field the write did not set but its full replace reverted is put back (queues only:
// worktypes are PATCHed, so only their written fields are touched).

const (
	// OverwriteMargin widens a write window for the skew between Genesys's clock (the
	// audit event) and routekeeper's (the window).
	OverwriteMargin = time.Second
	// windowLookback is how far before an event a window may have started and still
	// cover it: a write window lasts a read, a write and at most a few retries.
	windowLookback = 10 * time.Minute
	// openWindowWait bounds how long an event waits for a write in flight to be
	// answered before it is retried later.
	openWindowWait = 5 * time.Second
)

// OverwriteSchema is the detail schema of the Possible Overwrite event.
const OverwriteSchema = "routekeeper.overwrite/v1"

// OverwriteEvent is the detail of a Possible Overwrite event (docs/events.md).
type OverwriteEvent struct {
	Schema      string      `json:"schema"`
	Environment string      `json:"environment"`
	Kind        entity.Kind `json:"kind"`
	Name        string      `json:"name"`
	ChangeID    string      `json:"changeId"`
	Window      struct {
		Start time.Time `json:"start"`
		End   time.Time `json:"end"`
	} `json:"window"`
	Written []string        `json:"written"`
	Edit    store.Overwrite `json:"edit"`
}

// errWriteInFlight: the event falls inside a write that is still unanswered; it is
// processed again later (a retryable failure).
var errWriteInFlight = errors.New("a routekeeper write to this entity is in flight; the event is processed again once it is answered")

// checkOverwrites compares an edit by someone else (c) of entity k with k's write
// windows. Called for every event not made by routekeeper's own client.
func (h *Handler) checkOverwrites(ctx context.Context, c change, k entity.Key, m *emf.Metrics, log *slog.Logger) error {
	if c.EventTime.IsZero() {
		return nil
	}
	windows, err := h.coveringWindows(ctx, k, c.EventTime)
	if err != nil {
		return err
	}
	for _, w := range windows {
		if len(w.Written) == 0 && !w.Abandoned(h.now()) {
			continue // no write was sent: nothing to overwrite
		}
		if err := h.overwrite(ctx, c, w, m, log); err != nil {
			return err
		}
	}
	return nil
}

// coveringWindows returns k's write windows covering t, waiting (up to openWindowWait) for
// any still open to close.
func (h *Handler) coveringWindows(ctx context.Context, k entity.Key, t time.Time) ([]store.WriteWindow, error) {
	deadline := h.now().Add(openWindowWait)
	for wait := 100 * time.Millisecond; ; wait *= 2 {
		all, err := h.Store.ListWriteWindows(ctx, k, t.Add(-windowLookback))
		if err != nil {
			return nil, err
		}
		var out []store.WriteWindow
		open := false
		for _, w := range all {
			if w.Covers(t, h.now(), OverwriteMargin) {
				out = append(out, w)
				// An abandoned window (its runtime died) will never close: not waited for.
				open = open || (w.Open() && !w.Abandoned(h.now()))
			}
		}
		if !open {
			return out, nil
		}
		if h.now().Add(wait).After(deadline) {
			return nil, retryLater(errWriteInFlight, openWindowWait)
		}
		if err := h.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// overwrite handles one edit inside one closed write window: restore what the write's full
// replace reverted, record the edit on the change, publish the event. A redelivery finds
// the edit recorded and does nothing.
func (h *Handler) overwrite(ctx context.Context, c change, w store.WriteWindow, m *emf.Metrics, log *slog.Logger) error {
	rec, err := h.Store.GetChange(ctx, w.ChangeID)
	if err != nil {
		return err
	}
	switch {
	case slices.ContainsFunc(rec.Overwrites, func(o store.Overwrite) bool { return o.EventID == c.EventID }):
		return nil // recorded already
	case rec.Status == store.StatusInProgress || rec.Status == store.StatusFailed:
		// The engine closed the window but has not recorded its outcome yet.
		return retryLater(fmt.Errorf("change %s is %s; the event is processed again once it is recorded", w.ChangeID, rec.Status), time.Second)
	}
	// Whatever the outcome: a write was sent inside the window (a NOOP or CONFLICT
	// redelivery can follow one that applied unanswered), or the runtime died inside it
	// and what it sent is unknown (every field of the edit may have been reverted).
	unknown := len(w.Written) == 0
	o := store.Overwrite{EventID: c.EventID, EventTime: c.EventTime, UserID: c.UserID, ClientID: c.ClientID}
	var disjoint []propertyChange
	for _, pc := range c.Changes {
		o.Paths = append(o.Paths, pc.Property)
		if unknown || slices.ContainsFunc(w.Written, func(p string) bool { return overlaps(p, pc.Property) }) {
			o.Overwritten = append(o.Overwritten, pc.Property)
		} else {
			disjoint = append(disjoint, pc)
		}
	}
	if len(c.Changes) == 0 {
		// The event does not say what it changed: it may have been any field the write set.
		o.Overwritten = slices.Clone(w.Written)
	}
	if len(disjoint) > 0 && w.Key.Kind == entity.Queue {
		if o.Restored, err = h.restore(ctx, c.EntityID, disjoint, log); err != nil {
			return err
		}
	}
	ev := OverwriteEvent{Schema: OverwriteSchema, Environment: w.Key.Environment, Kind: w.Key.Kind, Name: w.Key.Name,
		ChangeID: w.ChangeID, Written: w.Written, Edit: o}
	ev.Window.Start, ev.Window.End = w.Start.UTC(), w.End.UTC()
	// The event first, then the record: a failed record is retried and publishes again
	// (at least once); the other order could lose the event.
	if err := h.Bus.Publish(ctx, bus.Event{DetailType: bus.PossibleOverwrite, Detail: ev, Resources: []string{w.Key.String()}}); err != nil {
		return err
	}
	if err := h.Store.MarkPossibleOverwrite(ctx, w.ChangeID, o); err != nil {
		return err
	}
	count(m, "PossibleOverwrites")
	if len(o.Restored) > 0 {
		count(m, "EditsRestored")
	}
	log.WarnContext(ctx, "possible overwrite: an edit landed inside a routekeeper write", slog.String("changeId", w.ChangeID),
		slog.Any("overwritten", o.Overwritten), slog.Any("restored", o.Restored))
	return nil
}

// restore puts back the fields of changes that the queue's last write reverted: read the
// queue now, and where a field holds the edit's old value again (and its type tells how to
// read the new one), write the edit's new value, sent once. Fields that hold anything else
// (the edit survived, or someone changed them since) are left alone.
func (h *Handler) restore(ctx context.Context, id string, changes []propertyChange, log *slog.Logger) ([]string, error) {
	raw, err := h.Genesys.GetQueueRaw(ctx, id)
	if err != nil {
		if errors.Is(err, genesys.ErrNotFound) {
			return nil, nil
		}
		return nil, err
	}
	var restored []string
	for _, pc := range changes {
		if len(pc.OldValues) > 1 || len(pc.NewValues) != 1 {
			continue // removed or multi-valued: no way to tell its type
		}
		cur, present := getPath(raw, pc.Property)
		var v any
		var ok bool
		switch {
		case len(pc.OldValues) == 1 && present && auditText(cur) == pc.OldValues[0]:
			v, ok = typedLike(cur, pc.NewValues[0])
		case len(pc.OldValues) == 0 && !present:
			// The edit added the field and the full replace dropped it again: nothing
			// live to take its type from, so the API's queue model gives it.
			v, ok = typedByModel(reflect.TypeFor[genesys.Queue](), pc.Property, pc.NewValues[0])
		}
		if !ok || !setPath(raw, pc.Property, v) {
			continue
		}
		restored = append(restored, pc.Property)
	}
	if len(restored) == 0 {
		return nil, nil
	}
	if _, err := h.Genesys.UpdateQueueRaw(genesys.SendOnce(ctx), id, raw); err != nil {
		return nil, fmt.Errorf("restore %v of queue %s: %w", restored, id, err)
	}
	log.InfoContext(ctx, "restored an edit a routekeeper write had reverted", slog.String("queueId", id), slog.Any("fields", restored))
	return restored, nil
}

// overlaps reports whether two dotted paths name the same field or one contains the other.
func overlaps(a, b string) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	return a == b || (strings.HasPrefix(b, a) && (b[len(a)] == '.' || b[len(a)] == '['))
}

func getPath(m map[string]any, path string) (any, bool) {
	var cur any = m
	for _, seg := range strings.Split(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[seg]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// setPath sets path in m; false when an object on the way is missing.
func setPath(m map[string]any, path string, v any) bool {
	segs := strings.Split(path, ".")
	for _, seg := range segs[:len(segs)-1] {
		next, ok := m[seg].(map[string]any)
		if !ok {
			return false
		}
		m = next
	}
	m[segs[len(segs)-1]] = v
	return true
}

// typedByModel reads s, an audit event's value, as the JSON type the Go model t (e.g.
// genesys.Queue) gives the dotted path: a string, a boolean or a number; false for a
// path the model does not name or of another type.
func typedByModel(t reflect.Type, path, s string) (any, bool) {
	for _, seg := range strings.Split(path, ".") {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return nil, false
		}
		found := false
		for f := range t.Fields() {
			if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); f.IsExported() && name == seg {
				t, found = f.Type, true
				break
			}
		}
		if !found {
			return nil, false
		}
	}
	switch t.Kind() {
	case reflect.String:
		return s, true
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		return b, err == nil
	case reflect.Int, reflect.Int32, reflect.Int64, reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(s, 64)
		return f, err == nil
	}
	return nil, false
}

// auditText is a value as an audit event writes it: strings as they are, numbers in
// decimal, booleans as true/false, null as "", anything else as JSON.
func auditText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		if f, err := x.Float64(); err == nil {
			return strconv.FormatFloat(f, 'f', -1, 64)
		}
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// typedLike reads s, an audit event's value, as a value of like's JSON type.
func typedLike(like any, s string) (any, bool) {
	switch like.(type) {
	case string:
		return s, true
	case float64, json.Number:
		f, err := strconv.ParseFloat(s, 64)
		return f, err == nil
	case bool:
		b, err := strconv.ParseBool(s)
		return b, err == nil
	case []any, map[string]any:
		var v any
		return v, json.Unmarshal([]byte(s), &v) == nil
	}
	return nil, false
}

// retryLater marks err as retryable after about wait (shared/retry reads Wait).
func retryLater(err error, wait time.Duration) error { return &laterError{err, wait} }

type laterError struct {
	err  error
	wait time.Duration
}

func (e *laterError) Error() string       { return e.err.Error() }
func (e *laterError) Unwrap() error       { return e.err }
func (e *laterError) Wait() time.Duration { return e.wait }
