package main

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/shared/bus"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/genesys"
	"github.com/routekeeper/routekeeper/shared/store"
)

// Two admin edits land inside a routekeeper write (between its read and its full-replace
// PUT): one of the field the write set, one of another field. The first is flagged (the
// change becomes POSSIBLE_OVERWRITE, a Possible Overwrite event is published); the second,
// reverted by the PUT, is put back. An edit outside the window flags nothing.
func TestOverwriteInsideAWriteWindow(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	q := w.org.Sorted(entity.Queue)[0]
	k := entity.Key{Environment: testEnv, Kind: entity.Queue, Name: q.Name}
	const changeID = "chg-window-1"
	if _, err := w.st.Claim(ctx, changeID, "sha256:x", time.Hour, time.Minute, store.ChangeInfo{Entity: k, Operation: "update", RequestedBy: "ci"}); err != nil {
		t.Fatal(err)
	}
	// The engine's read...
	start := time.Now().Add(-10 * time.Millisecond)
	read, err := w.client.GetQueueRaw(ctx, q.ID)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := getPath(read, "mediaSettings.call.alertingTimeoutSeconds")
	// ...two admin saves...
	if err := w.sim.EditQueue(q.ID, func(m map[string]any) { m["description"] = "the admin's description" }); err != nil {
		t.Fatal(err)
	}
	sameField := w.oneEvent(t)
	if err := w.sim.EditQueue(q.ID, func(m map[string]any) {
		m["mediaSettings"].(map[string]any)["call"].(map[string]any)["alertingTimeoutSeconds"] = 99.0
	}); err != nil {
		t.Fatal(err)
	}
	otherField := w.oneEvent(t)
	// ...then its PUT of the copy it read, with its own description.
	read["description"] = "routekeeper's description"
	if _, err := w.client.UpdateQueueRaw(ctx, q.ID, read); err != nil {
		t.Fatal(err)
	}
	own := w.oneEvent(t)
	end := time.Now()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.st.PutWriteWindow(ctx, store.WriteWindow{Key: k, ChangeID: changeID, Start: start, End: end, Written: []string{"description"}}))
	must(w.st.Complete(ctx, changeID, store.StatusApplied, json.RawMessage(`{"status":"APPLIED"}`)))

	if r := w.call(t, post(detail(t, own), nil)); outcomeOf(t, r) != outRecorded {
		t.Fatalf("routekeeper's own event: %s", r.Body)
	}
	if c, _ := w.st.GetChange(ctx, changeID); c.Status != store.StatusApplied {
		t.Fatalf("routekeeper's own edit flagged its change: %s", c.Status)
	}
	for _, ev := range [][]byte{sameField, otherField, otherField} {
		if r := w.call(t, post(detail(t, ev), nil)); r.StatusCode != 202 {
			t.Fatalf("admin event: %d %s", r.StatusCode, r.Body)
		}
	}
	c, err := w.st.GetChange(ctx, changeID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != store.StatusPossibleOverwrite || len(c.Overwrites) != 2 {
		t.Fatalf("change %s with %+v; want POSSIBLE_OVERWRITE with both edits", c.Status, c.Overwrites)
	}
	if d := cmp.Diff([]string{"description"}, c.Overwrites[0].Overwritten); d != "" || len(c.Overwrites[0].Restored) != 0 {
		t.Errorf("same-field edit: overwritten (-want +got):\n%s restored %v", d, c.Overwrites[0].Restored)
	}
	if d := cmp.Diff([]string{"mediaSettings.call.alertingTimeoutSeconds"}, c.Overwrites[1].Restored); d != "" || len(c.Overwrites[1].Overwritten) != 0 {
		t.Errorf("other-field edit: restored (-want +got):\n%s overwritten %v", d, c.Overwrites[1].Overwritten)
	}
	raw, _ := w.sim.Queue(q.ID)
	if got, _ := getPath(raw, "mediaSettings.call.alertingTimeoutSeconds"); auditText(got) != "99" || raw["description"] != "routekeeper's description" {
		t.Errorf("queue after: alerting %v (was %v), description %v; want the admin's 99 back and routekeeper's description", got, before, raw["description"])
	}

	// The Possible Overwrite events, read back from the bus.
	var flagged []OverwriteEvent
	for range 10 {
		evs, err := w.tap.Receive(ctx, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if ev.DetailType == bus.PossibleOverwrite {
				var d OverwriteEvent
				if err := json.Unmarshal(ev.Detail, &d); err != nil {
					t.Fatal(err)
				}
				flagged = append(flagged, d)
			}
		}
		if len(flagged) >= 2 {
			break
		}
	}
	if len(flagged) != 2 || flagged[0].ChangeID != changeID || flagged[0].Schema != OverwriteSchema || flagged[1].Edit.Restored == nil {
		t.Errorf("Possible Overwrite events %+v, want two for %s", flagged, changeID)
	}

	// An admin edit after the window: nothing new is flagged.
	must(w.sim.EditQueue(q.ID, func(m map[string]any) { m["description"] = "later" }))
	evs := w.events(t) // the restore's own audit event, then the admin's
	if len(evs) != 2 {
		t.Fatalf("%d audit events, want the restore's and the later edit's", len(evs))
	}
	// Made a moment after the write; stamped well past the window's margin.
	var n map[string]any
	must(json.Unmarshal(detail(t, evs[1]), &n))
	n["eventBody"].(map[string]any)["eventTime"] = end.Add(5 * time.Second).UTC().Format(time.RFC3339Nano)
	later, _ := json.Marshal(n)
	w.call(t, post(later, nil))
	if c, _ := w.st.GetChange(ctx, changeID); len(c.Overwrites) != 2 {
		t.Errorf("an edit outside the window was recorded: %+v", c.Overwrites)
	}
}

// An edit inside a write still in flight waits for it, then is answered 503 to come back
// (nothing recorded as processed).
func TestOverwriteCheckWaitsForAWriteInFlight(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	q := w.org.Sorted(entity.Queue)[1]
	k := entity.Key{Environment: testEnv, Kind: entity.Queue, Name: q.Name}
	if err := w.st.PutWriteWindow(ctx, store.WriteWindow{Key: k, ChangeID: "chg-open", Start: time.Now().Add(-time.Second)}); err != nil {
		t.Fatal(err)
	}
	var slept []time.Duration
	w.h.Sleep = func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }
	if err := w.sim.EditQueue(q.ID, func(m map[string]any) { m["description"] = "admin" }); err != nil {
		t.Fatal(err)
	}
	ev := w.oneEvent(t)
	r := w.call(t, post(detail(t, ev), nil))
	if r.StatusCode != 503 || r.Headers["Retry-After"] == "" || len(slept) == 0 {
		t.Fatalf("answer %d %v after sleeps %v; want 503 with Retry-After after waiting", r.StatusCode, r.Headers, slept)
	}
	// Once the write is answered (nothing written), the redelivery is processed.
	ws, _ := w.st.ListWriteWindows(ctx, k, time.Now().Add(-time.Hour))
	for _, x := range ws {
		x.End = time.Now()
		if err := w.st.PutWriteWindow(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	if r := w.call(t, post(detail(t, ev), nil)); r.StatusCode != 202 || !strings.Contains(r.Body, "recorded") {
		t.Errorf("redelivery: %d %s, want 202 recorded", r.StatusCode, r.Body)
	}
}

// An admin edit that adds a field the queue lacked, inside a write window: the PUT of the
// copy read before drops it again, and it is put back typed by the API's queue model
// (seen under chaos: a callingPartyName added mid-window stayed lost).
func TestOverwriteRestoresAnAddedField(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	q := w.org.Sorted(entity.Queue)[2]
	k := entity.Key{Environment: testEnv, Kind: entity.Queue, Name: q.Name}
	const changeID = "chg-window-added"
	if _, err := w.st.Claim(ctx, changeID, "sha256:x", time.Hour, time.Minute, store.ChangeInfo{Entity: k, Operation: "update", RequestedBy: "ci"}); err != nil {
		t.Fatal(err)
	}
	if err := w.sim.EditQueue(q.ID, func(m map[string]any) { delete(m, "callingPartyName") }); err != nil {
		t.Fatal(err)
	}
	w.events(t) // the removal, if the queue had the field, is not part of the test
	start := time.Now().Add(-10 * time.Millisecond)
	read, err := w.client.GetQueueRaw(ctx, q.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.sim.EditQueue(q.ID, func(m map[string]any) { m["callingPartyName"] = "Admin Co" }); err != nil {
		t.Fatal(err)
	}
	added := w.oneEvent(t)
	read["description"] = "routekeeper's description"
	if _, err := w.client.UpdateQueueRaw(ctx, q.ID, read); err != nil {
		t.Fatal(err)
	}
	w.oneEvent(t) // routekeeper's own
	if raw, _ := w.sim.Queue(q.ID); raw["callingPartyName"] != nil {
		t.Fatalf("the PUT kept callingPartyName %v; the test needs a full replace that drops it", raw["callingPartyName"])
	}
	if err := w.st.PutWriteWindow(ctx, store.WriteWindow{Key: k, ChangeID: changeID, Start: start, End: time.Now(), Written: []string{"description"}}); err != nil {
		t.Fatal(err)
	}
	if err := w.st.Complete(ctx, changeID, store.StatusApplied, json.RawMessage(`{"status":"APPLIED"}`)); err != nil {
		t.Fatal(err)
	}
	if r := w.call(t, post(detail(t, added), nil)); r.StatusCode != 202 {
		t.Fatalf("admin event: %d %s", r.StatusCode, r.Body)
	}
	c, err := w.st.GetChange(ctx, changeID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != store.StatusPossibleOverwrite || len(c.Overwrites) != 1 || !cmp.Equal(c.Overwrites[0].Restored, []string{"callingPartyName"}) {
		t.Fatalf("change %s with %+v; want POSSIBLE_OVERWRITE with callingPartyName put back", c.Status, c.Overwrites)
	}
	if raw, _ := w.sim.Queue(q.ID); raw["callingPartyName"] != "Admin Co" || raw["description"] != "routekeeper's description" {
		t.Errorf("queue after: callingPartyName %v, description %v; want the admin's back and routekeeper's description", raw["callingPartyName"], raw["description"])
	}
}

func TestTypedByModel(t *testing.T) {
	tests := []struct {
		path, value string
		want        any
		ok          bool
	}{
		{"callingPartyName", "Admin Co", "Admin Co", true},
		{"enableTranscription", "true", true, true},
		{"mediaSettings.call.alertingTimeoutSeconds", "37", 37.0, true},
		{"division", "x", nil, false},                  // an object
		{"noSuchField", "x", nil, false},               // not in the model
		{"enableTranscription", "maybe", false, false}, // not a boolean
	}
	for _, tc := range tests {
		got, ok := typedByModel(reflect.TypeFor[genesys.Queue](), tc.path, tc.value)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("typedByModel(Queue, %q, %q) = %v, %v; want %v, %v", tc.path, tc.value, got, ok, tc.want, tc.ok)
		}
	}
}

// A window its runtime abandoned (never closed, its attempt's time up) is not waited for:
// the event is processed at once instead of failing until the window ages out of the
// lookback (seen under chaos: an apply runtime SIGKILLed between its read and its
// write's answer made the webhook fail every later event of that queue).
func TestOverwriteCheckSkipsAnAbandonedWindow(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	q := w.org.Sorted(entity.Queue)[3]
	k := entity.Key{Environment: testEnv, Kind: entity.Queue, Name: q.Name}
	// The runtime died inside the window (it never closed it); the redelivery ended NOOP:
	// whether the dead attempt's write applied, and what it set, is unknown.
	noopChange(t, w, "chg-dead", k)
	if err := w.st.PutWriteWindow(ctx, store.WriteWindow{Key: k, ChangeID: "chg-dead", Start: time.Now().Add(-3 * time.Minute),
		Until: time.Now().Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	var slept []time.Duration
	w.h.Sleep = func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }
	if err := w.sim.EditQueue(q.ID, func(m map[string]any) { m["description"] = "admin" }); err != nil {
		t.Fatal(err)
	}
	// Stamped inside the dead window (an event redelivered late).
	var n map[string]any
	if err := json.Unmarshal(detail(t, w.oneEvent(t)), &n); err != nil {
		t.Fatal(err)
	}
	n["eventBody"].(map[string]any)["eventTime"] = time.Now().Add(-2 * time.Minute).UTC().Format(time.RFC3339Nano)
	inside, _ := json.Marshal(n)
	if r := w.call(t, post(inside, nil)); r.StatusCode != 202 || !strings.Contains(r.Body, "recorded") || len(slept) != 0 {
		t.Errorf("answer %d %s after sleeps %v; want 202 recorded at once", r.StatusCode, r.Body, slept)
	}
	c, err := w.st.GetChange(ctx, "chg-dead")
	if err != nil || c.Status != store.StatusPossibleOverwrite || len(c.Overwrites) != 1 || !slices.Contains(c.Overwrites[0].Overwritten, "description") {
		t.Errorf("change %+v, %v; want POSSIBLE_OVERWRITE with the admin's description as possibly overwritten", c, err)
	}
}

// TestOverwriteAfterNoopRedelivery: a write applied but answered 503 inside the window,
// and the redelivery found the change in place (NOOP): the admin's edit of the written
// field inside the window is flagged all the same.
func TestOverwriteAfterNoopRedelivery(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	q := w.org.Sorted(entity.Queue)[2]
	k := entity.Key{Environment: testEnv, Kind: entity.Queue, Name: q.Name}
	noopChange(t, w, "chg-noop", k)
	start := time.Now().Add(-3 * time.Second)
	if err := w.st.PutWriteWindow(ctx, store.WriteWindow{Key: k, ChangeID: "chg-noop", Start: start, End: start.Add(2 * time.Second),
		Until: start.Add(time.Minute), Written: []string{"description"}}); err != nil {
		t.Fatal(err)
	}
	if err := w.sim.EditQueue(q.ID, func(m map[string]any) { m["description"] = "admin" }); err != nil {
		t.Fatal(err)
	}
	var n map[string]any
	if err := json.Unmarshal(detail(t, w.oneEvent(t)), &n); err != nil {
		t.Fatal(err)
	}
	n["eventBody"].(map[string]any)["eventTime"] = start.Add(time.Second).UTC().Format(time.RFC3339Nano)
	inside, _ := json.Marshal(n)
	if r := w.call(t, post(inside, nil)); r.StatusCode != 202 {
		t.Fatalf("answer %d %s; want 202", r.StatusCode, r.Body)
	}
	c, err := w.st.GetChange(ctx, "chg-noop")
	if err != nil || c.Status != store.StatusPossibleOverwrite || len(c.Overwrites) != 1 || !slices.Contains(c.Overwrites[0].Overwritten, "description") {
		t.Errorf("change %+v, %v; want POSSIBLE_OVERWRITE with description overwritten", c, err)
	}
}

// noopChange records change id of k as ended NOOP (a redelivery that found the change in
// place).
func noopChange(t *testing.T, w *world, id string, k entity.Key) {
	t.Helper()
	ctx := context.Background()
	if _, err := w.st.Claim(ctx, id, "sha256:x", time.Hour, time.Minute, store.ChangeInfo{Entity: k, Operation: "update", RequestedBy: "ci"}); err != nil {
		t.Fatal(err)
	}
	if err := w.st.Complete(ctx, id, store.StatusNoop, json.RawMessage(`{"status":"NOOP"}`)); err != nil {
		t.Fatal(err)
	}
}
