package history_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/infra/awslocal"
	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
	"github.com/routekeeper/routekeeper/shared/apply"
	"github.com/routekeeper/routekeeper/shared/apply/applytest"
	"github.com/routekeeper/routekeeper/shared/changes"
	"github.com/routekeeper/routekeeper/shared/document"
	"github.com/routekeeper/routekeeper/shared/drift"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/history"
	"github.com/routekeeper/routekeeper/shared/store"
)

func TestMain(m *testing.M) { os.Exit(awslocal.RunTests(m)) }

const putQueue = "PUT /api/v2/routing/queues/{queueId}"

var ctx = context.Background()

// newEnv is the engine, the simulator and the table on moto, with a generated org.
func newEnv(t *testing.T) (*applytest.Env, sim.Fixture) {
	t.Helper()
	f := sim.Generate(sim.GenerateOptions{Queues: 3, Skills: 3, Worktypes: 1, Seed: 5})
	return applytest.New(t, applytest.Options{Fixture: &f}), f
}

// plan is env.Plan stamped as routekeeper apply stamps a request: createdAt is now (to
// the nanosecond), after the planned-against state was recorded.
func plan(t *testing.T, env *applytest.Env, op changes.Operation, kind entity.Kind, name, desired string) *changes.Request {
	t.Helper()
	var d map[string]any
	if desired != "" {
		d = applytest.Obj(t, desired)
	}
	req := env.Plan(t, op, kind, name, d)
	req.CreatedAt = time.Now().UTC()
	return req
}

func applied(t *testing.T, env *applytest.Env, req *changes.Request, want store.Status) apply.Result {
	t.Helper()
	res, err := env.Engine.Apply(ctx, req)
	if err != nil {
		t.Fatalf("apply %s %s: %v", req.Operation, req.Key(), err)
	}
	if res.Status != want {
		t.Fatalf("apply %s %s: %s (%s), want %s", req.Operation, req.Key(), res.Status, res.Summary(), want)
	}
	return res
}

// submit sends the revert as `routekeeper revert --direct` does: one plan through
// drift.Submit to the engine, then the records linked.
func submit(t *testing.T, env *applytest.Env, r *history.Revert) (*changes.Request, apply.Result) {
	t.Helper()
	if r.Change == nil {
		t.Fatalf("revert has no change: %s", r.Nothing)
	}
	var res apply.Result
	reqs, err := drift.Submit(ctx, r.Plan(), nil, drift.Planner{Reason: "revert of " + r.Of, RequestedBy: "oncall"}, nil,
		func(ctx context.Context, reqs []*changes.Request) error {
			var err error
			res, err = env.Engine.Apply(ctx, reqs[0])
			return err
		})
	if err != nil || len(reqs) != 1 {
		t.Fatalf("submit the revert: %d requests, %v", len(reqs), err)
	}
	if r.Of != "" {
		if err := env.Table.LinkRevert(ctx, reqs[0].ChangeID, r.Of); err != nil {
			t.Fatal(err)
		}
	}
	return reqs[0], res
}

func liveField(t *testing.T, env *applytest.Env, kind entity.Kind, name, field string) any {
	t.Helper()
	return env.Live(t, kind, env.ID(t, kind, name)).Canonical[field]
}

// TestRevertUpdate: the revert of an update puts back the fields it wrote, planned
// against the ETag the change produced: applied as is when nothing moved; merged when
// someone edited another field since; a CONFLICT with nothing written when someone
// edited the same field.
func TestRevertUpdate(t *testing.T) {
	tests := []struct {
		name       string
		edit       func(q map[string]any)
		want       store.Status
		wantMerged bool
		check      func(t *testing.T, env *applytest.Env, q string, before any)
	}{
		{name: "nothing moved", want: store.StatusApplied, check: func(t *testing.T, env *applytest.Env, q string, before any) {
			if got := liveField(t, env, entity.Queue, q, "description"); got != before {
				t.Errorf("description %v, want %v back", got, before)
			}
		}},
		{name: "a later edit of another field merges", edit: func(q map[string]any) { q["enableTranscription"] = q["enableTranscription"] != true },
			want: store.StatusApplied, wantMerged: true, check: func(t *testing.T, env *applytest.Env, q string, before any) {
				if got := liveField(t, env, entity.Queue, q, "description"); got != before {
					t.Errorf("description %v, want %v back", got, before)
				}
			}},
		{name: "a later edit of the same field is a conflict", edit: func(q map[string]any) { q["description"] = "edited since by an admin" },
			want: store.StatusConflict, check: func(t *testing.T, env *applytest.Env, q string, before any) {
				if got := liveField(t, env, entity.Queue, q, "description"); got != "edited since by an admin" {
					t.Errorf("description %v, want the admin's edit untouched", got)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env, f := newEnv(t)
			q := f.Queues[0]["name"].(string)
			qid := env.ID(t, entity.Queue, q)
			before := liveField(t, env, entity.Queue, q, "description")
			transcription := liveField(t, env, entity.Queue, q, "enableTranscription")
			req := plan(t, env, changes.OpUpdate, entity.Queue, q, `{"name":"`+q+`","description":"changed in the incident"}`)
			res := applied(t, env, req, store.StatusApplied)
			if tc.edit != nil {
				if err := env.Sim.EditQueue(qid, tc.edit); err != nil {
					t.Fatal(err)
				}
			}

			r, err := history.Inverse(ctx, env.Table, req.ChangeID)
			if err != nil {
				t.Fatalf("Inverse: %v", err)
			}
			want := &drift.Change{Kind: entity.Queue, Name: q, ID: qid, Action: drift.ActionUpdate, BaseETag: res.ETag,
				Desired: map[string]any{"description": before},
				Differences: []drift.Difference{{Kind: entity.Queue, Name: q, Difference: document.Difference{
					Path: "description", Desired: before, Live: "changed in the incident", Delta: document.Changed}}}}
			if d := cmp.Diff(want, r.Change); d != "" {
				t.Errorf("inverse (-want +got):\n%s", d)
			}
			env.Sim.ResetCalls()
			env.Sim.ResetWrites()
			rev, rres := submit(t, env, r)
			if rres.Status != tc.want || rres.Merged != tc.wantMerged {
				t.Fatalf("revert: %s merged=%v (%s), want %s merged=%v", rres.Status, rres.Merged, rres.Summary(), tc.want, tc.wantMerged)
			}
			// The simulator's write log is the oracle of what reached Genesys: nothing for a
			// CONFLICT, else the one PUT that put the description back.
			writes := env.Sim.Writes()
			if tc.want == store.StatusConflict {
				if n := env.Sim.Calls()[putQueue]; n != 0 || len(writes) != 0 || len(rres.Conflicts) != 1 || rres.Conflicts[0].Path != "description" {
					t.Errorf("conflict: %d PUTs, write log %+v, conflicts %+v; want nothing written and the description in conflict", n, writes, rres.Conflicts)
				}
			} else {
				var c sim.PathChange
				changed := false
				if len(writes) == 1 {
					c, changed = writes[0].Changed("description")
				}
				if len(writes) != 1 || writes[0].Method != "PUT" || writes[0].ID != qid || !changed || c.New != before {
					t.Errorf("write log %+v; want one PUT of queue %s setting description back to %v", writes, qid, before)
				}
			}
			if tc.wantMerged {
				if got := liveField(t, env, entity.Queue, q, "enableTranscription"); got == transcription {
					t.Errorf("enableTranscription %v: the later edit was lost", got)
				}
			}
			tc.check(t, env, q, before)
			if rev.Reason != "revert of "+req.ChangeID || rev.BaseEtag != res.ETag {
				t.Errorf("revert request: reason %q baseEtag %s; want %q and %s", rev.Reason, rev.BaseEtag, "revert of "+req.ChangeID, res.ETag)
			}
			orig, err := env.Table.GetChange(ctx, req.ChangeID)
			if err != nil || !cmp.Equal(orig.RevertedBy, []string{rev.ChangeID}) {
				t.Errorf("original record: revertedBy %v (%v), want [%s]", orig.RevertedBy, err, rev.ChangeID)
			}
			if rec, err := env.Table.GetChange(ctx, rev.ChangeID); err != nil || rec.RevertOf != req.ChangeID || rec.Status != tc.want {
				t.Errorf("revert record: %+v (%v), want %s, revert of %s", rec, err, tc.want, req.ChangeID)
			}
		})
	}
}

// TestRevertCreateAndDelete: a create is reverted by deleting what it made; a delete by
// re-creating the entity from the snapshot before it (with a new id, which it says).
func TestRevertCreateAndDelete(t *testing.T) {
	env, f := newEnv(t)

	t.Run("create", func(t *testing.T) {
		req := plan(t, env, changes.OpCreate, entity.Queue, "Incident Overflow", `{"name":"Incident Overflow","description":"made in a hurry","division":"Home"}`)
		res := applied(t, env, req, store.StatusApplied)
		r, err := history.Inverse(ctx, env.Table, req.ChangeID)
		if err != nil {
			t.Fatal(err)
		}
		if r.Change.Action != drift.ActionDelete || r.Change.BaseETag != res.ETag || r.Change.ID != res.EntityID {
			t.Fatalf("inverse of a create: %+v; want a delete of %s at %s", r.Change, res.EntityID, res.ETag)
		}
		if _, rres := submit(t, env, r); rres.Status != store.StatusApplied {
			t.Fatalf("revert: %s (%s), want APPLIED", rres.Status, rres.Summary())
		}
		if _, ok := env.Sim.IDByName("queue", "Incident Overflow"); ok {
			t.Error("the created queue still exists")
		}
	})

	for _, tc := range []struct {
		kind entity.Kind
		name string
		note string
	}{
		{entity.Skill, f.Skills[1]["name"].(string), "the agents who had it"},
		{entity.Queue, f.Queues[2]["name"].(string), "only the fields routekeeper manages come back"},
	} {
		t.Run("delete "+string(tc.kind), func(t *testing.T) {
			oldID := env.ID(t, tc.kind, tc.name)
			before := env.Live(t, tc.kind, oldID)
			req := plan(t, env, changes.OpDelete, tc.kind, tc.name, "")
			applied(t, env, req, store.StatusApplied)
			if _, ok := env.Sim.IDByName(string(tc.kind), tc.name); ok {
				t.Fatalf("%s %q not deleted", tc.kind, tc.name)
			}
			r, err := history.Inverse(ctx, env.Table, req.ChangeID)
			if err != nil {
				t.Fatal(err)
			}
			if r.Change.Action != drift.ActionCreate || len(r.Notes) != 1 || !strings.Contains(r.Notes[0], "new id") ||
				!strings.Contains(r.Notes[0], oldID) || !strings.Contains(r.Notes[0], tc.note) {
				t.Errorf("inverse of a delete: %+v, notes %q; want a create that says the id is new and what is lost", r.Change, r.Notes)
			}
			_, rres := submit(t, env, r)
			if rres.Status != store.StatusApplied || rres.EntityID == "" || rres.EntityID == oldID {
				t.Fatalf("revert: %s id %s (%s); want APPLIED with a new id", rres.Status, rres.EntityID, rres.Summary())
			}
			if after := env.Live(t, tc.kind, rres.EntityID); after.ETag != before.ETag {
				t.Errorf("re-created %s: ETag %s, want %s (the managed fields as before)\nbefore %v\nafter  %v", tc.kind, after.ETag, before.ETag, before.Canonical, after.Canonical)
			}
		})
	}
}

// TestRevertRefusals: only an applied change is reverted, and only from a stored
// snapshot; each refusal says why and what to do instead.
func TestRevertRefusals(t *testing.T) {
	env, f := newEnv(t)
	q := f.Queues[0]["name"].(string)
	qid := env.ID(t, entity.Queue, q)
	desc := liveField(t, env, entity.Queue, q, "description").(string)

	noop := plan(t, env, changes.OpUpdate, entity.Queue, q, `{"description":"`+desc+`"}`)
	applied(t, env, noop, store.StatusNoop)
	if r, err := history.Inverse(ctx, env.Table, noop.ChangeID); err != nil || r.Change != nil || !strings.Contains(r.Nothing, "NOOP") {
		t.Errorf("Inverse of a NOOP: %+v, %v; want nothing to revert", r, err)
	}

	conflict := plan(t, env, changes.OpUpdate, entity.Queue, q, `{"description":"ours"}`)
	if err := env.Sim.EditQueue(qid, func(m map[string]any) { m["description"] = "theirs" }); err != nil {
		t.Fatal(err)
	}
	applied(t, env, conflict, store.StatusConflict)

	// A change the apply function has claimed and not finished, and one it rejected.
	k := entity.Key{Environment: env.Env, Kind: entity.Queue, Name: q}
	pending, rejected := newChangeID(t), newChangeID(t)
	for _, id := range []string{pending, rejected} {
		if _, err := env.Table.Claim(ctx, id, "sha256:"+strings.Repeat("0", 64), time.Hour, time.Minute,
			store.ChangeInfo{Entity: k, Operation: "update", RequestedBy: "ci"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := env.Table.Complete(ctx, rejected, store.StatusRejected, json.RawMessage(`{"status":"REJECTED"}`)); err != nil {
		t.Fatal(err)
	}

	// Changes applied from requests whose planned-against state routekeeper never recorded
	// (sent by another tool, or planned against another table): no snapshot to put back.
	blind := unrecorded(t, env, changes.OpUpdate, entity.Queue, f.Queues[1]["name"].(string), `{"description":"sent by another tool"}`)
	applied(t, env, blind, store.StatusApplied)
	gone := f.Queues[2]["name"].(string)
	blindDelete := unrecorded(t, env, changes.OpDelete, entity.Queue, gone, "")
	applied(t, env, blindDelete, store.StatusApplied)

	for _, tc := range []struct {
		name, id string
		is       error
		want     []string
	}{
		{"unknown change", "chg-unknown", store.ErrNotFound, []string{"no change request chg-unknown", "kept 30 days", "--to TIME"}},
		{"conflict", conflict.ChangeID, history.ErrNotRevertible, []string{"ended CONFLICT", "wrote nothing", "routekeeper status " + conflict.ChangeID, "routekeeper history queue"}},
		{"rejected", rejected, history.ErrNotRevertible, []string{"ended REJECTED", "wrote nothing"}},
		{"not finished", pending, history.ErrNotRevertible, []string{"is INPROGRESS, not finished", "routekeeper status " + pending}},
		{"update, state before not stored", blind.ChangeID, history.ErrNotRevertible, []string{"no longer stored", "no snapshot stored of " + blind.BaseEtag, "revert --to TIME queue"}},
		{"delete, state before not stored", blindDelete.ChangeID, history.ErrNotRevertible, []string{"deleted queue", "no longer stored", "re-create it from git with routekeeper apply"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := history.Inverse(ctx, env.Table, tc.id)
			if !errors.Is(err, tc.is) {
				t.Fatalf("Inverse(%s) = %+v, %v; want an error matching %v", tc.id, r, err, tc.is)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Inverse(%s): %q lacks %q", tc.id, err, w)
				}
			}
		})
	}
}

func newChangeID(t *testing.T) string {
	t.Helper()
	id, err := changes.NewChangeID()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// unrecorded is a request planned against the live state without recording it in the
// table (as env.Plan does), so the table has no snapshot of its baseEtag.
func unrecorded(t *testing.T, env *applytest.Env, op changes.Operation, kind entity.Kind, name, desired string) *changes.Request {
	t.Helper()
	l := env.Live(t, kind, env.ID(t, kind, name))
	req := &changes.Request{Schema: changes.SchemaV1, Environment: env.Env, ChangeID: newChangeID(t),
		Entity: changes.Entity{Type: kind, Name: name, ID: l.ID}, Operation: op, BaseEtag: l.ETag,
		Reason: "another tool", RequestedBy: "elsewhere", CreatedAt: time.Now().UTC()}
	if desired != "" {
		req.Desired = applytest.Obj(t, desired)
	}
	if err := req.Validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Table.GetSnapshot(ctx, req.Key(), l.ETag); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("snapshot of %s at %s: %v; want none stored before the change", req.Key(), l.ETag, err)
	}
	return req
}

// TestRestore: --to TIME puts back the managed fields observed then, re-creates an
// entity gone since, deletes one routekeeper created after it, and says when there is
// nothing to do or no observation old enough.
func TestRestore(t *testing.T) {
	env, f := newEnv(t)
	q := f.Queues[1]["name"].(string)
	k := entity.Key{Environment: env.Env, Kind: entity.Queue, Name: q}
	beforeAll := time.Now()
	first := plan(t, env, changes.OpUpdate, entity.Queue, q, `{"description":"first incident edit"}`)
	applied(t, env, first, store.StatusApplied)
	mid := time.Now()
	second := plan(t, env, changes.OpUpdate, entity.Queue, q, `{"description":"second incident edit","skillEvaluationMethod":"NONE"}`)
	applied(t, env, second, store.StatusApplied)
	midState := liveFieldsAfter(t, env, first)

	r, err := history.Restore(ctx, env.Table, k, mid)
	if err != nil {
		t.Fatal(err)
	}
	if r.Change == nil || r.Change.Action != drift.ActionUpdate || r.Change.Desired["description"] != "first incident edit" {
		t.Fatalf("Restore to mid: %+v; want an update back to the first edit", r.Change)
	}
	if _, res := submit(t, env, r); res.Status != store.StatusApplied {
		t.Fatalf("restore: %s (%s)", res.Status, res.Summary())
	}
	if got := env.Live(t, entity.Queue, env.ID(t, entity.Queue, q)).ETag; got != midState {
		t.Errorf("after the restore: ETag %s, want the state at mid %s", got, midState)
	}
	if r, err := history.Restore(ctx, env.Table, k, time.Now()); err != nil || r.Nothing == "" {
		t.Errorf("Restore to now: %+v, %v; want nothing to do", r, err)
	}
	if _, err := history.Restore(ctx, env.Table, k, beforeAll.Add(-time.Hour)); !errors.Is(err, history.ErrNotRevertible) || !strings.Contains(err.Error(), "history starts at") {
		t.Errorf("Restore to before the history: %v; want ErrNotRevertible saying where it starts", err)
	}

	beforeCreate := time.Now()
	create := plan(t, env, changes.OpCreate, entity.Skill, "Pop-up Skill", `{"name":"Pop-up Skill"}`)
	applied(t, env, create, store.StatusApplied)
	sk := entity.Key{Environment: env.Env, Kind: entity.Skill, Name: "Pop-up Skill"}
	r, err = history.Restore(ctx, env.Table, sk, beforeCreate)
	if err != nil || r.Change == nil || r.Change.Action != drift.ActionDelete {
		t.Fatalf("Restore of a skill to before routekeeper created it: %+v, %v; want a delete", r, err)
	}
	if _, res := submit(t, env, r); res.Status != store.StatusApplied {
		t.Fatalf("restore: %s (%s)", res.Status, res.Summary())
	}
	if _, ok := env.Sim.IDByName("skill", "Pop-up Skill"); ok {
		t.Error("the skill still exists")
	}
}

// liveFieldsAfter is the ETag change req produced (its stored result).
func liveFieldsAfter(t *testing.T, env *applytest.Env, req *changes.Request) string {
	t.Helper()
	c, err := env.Table.GetChange(ctx, req.ChangeID)
	if err != nil {
		t.Fatal(err)
	}
	var res apply.Result
	if err := json.Unmarshal(c.Result, &res); err != nil {
		t.Fatal(err)
	}
	return res.ETag
}

// TestTimeline: every step with its source, who when known, and the fields it changed;
// a change and its revert link both ways; the environment's view lists the newest first.
func TestTimeline(t *testing.T) {
	env, f := newEnv(t)
	q := f.Queues[0]["name"].(string)
	qid := env.ID(t, entity.Queue, q)
	k := entity.Key{Environment: env.Env, Kind: entity.Queue, Name: q}
	req := plan(t, env, changes.OpUpdate, entity.Queue, q, `{"description":"changed in the incident"}`)
	applied(t, env, req, store.StatusApplied)

	// An admin's edit as the webhook records it: the live state, the audit event's user
	// and client, and the drift state it moves.
	if err := env.Sim.EditQueue(qid, func(m map[string]any) { m["skillEvaluationMethod"] = "NONE"; m["enableTranscription"] = true }); err != nil {
		t.Fatal(err)
	}
	l := env.Live(t, entity.Queue, qid)
	o, err := l.Observation(env.Env, store.SourceWebhook, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	o.Cause = &store.Cause{EventID: "ev-42", UserID: "admin-7", ClientID: "admin-ui"}
	if err := env.Table.PutObservation(ctx, o); err != nil {
		t.Fatal(err)
	}
	diffs := json.RawMessage(`[{"path":"skillEvaluationMethod","expected":"ALL","actual":"NONE"}]`)
	if err := env.Table.PutDriftState(ctx, store.DriftState{Key: k, State: "MODIFIED", Differences: diffs, ETag: l.ETag, ObservedAt: o.ObservedAt, Cause: o.Cause}, nil); err != nil {
		t.Fatal(err)
	}
	r, err := history.Inverse(ctx, env.Table, req.ChangeID)
	if err != nil {
		t.Fatal(err)
	}
	rev, _ := submit(t, env, r)

	tl, err := history.Timeline(ctx, env.Table, k, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ Type, Source, Who, Fields, Summary string }
	var got []row
	for _, s := range tl.Steps {
		got = append(got, row{string(s.Type), string(s.Source), s.By.String(), strings.Join(s.Fields, ","), s.Summary})
	}
	want := []row{
		{"observed", "plan", "", "", "first observed"},
		{"change", "", "applytest", "description", "change " + req.ChangeID + " update APPLIED: wrote description; reverted by " + rev.ChangeID},
		{"observed", "apply", "", "description", "changed description"},
		{"observed", "webhook", "user admin-7, client admin-ui", "enableTranscription,skillEvaluationMethod", "changed enableTranscription, skillEvaluationMethod"},
		{"drift", "", "user admin-7, client admin-ui", "skillEvaluationMethod", "drift (none) -> MODIFIED"},
		{"change", "", "oncall", "description", "change " + rev.ChangeID + " update APPLIED: wrote description (merged with a concurrent edit); revert of " + req.ChangeID},
		{"observed", "apply", "", "description", "changed description"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("timeline (-want +got):\n%s", d)
	}
	if tl.LastKnown == nil || tl.LastKnown.Source != store.SourceApply || tl.Steps[len(tl.Steps)-1].ETag != tl.LastKnown.ETag {
		t.Errorf("last known %+v; want the revert's read-back, the last step's ETag", tl.LastKnown)
	}
	since, err := history.Timeline(ctx, env.Table, k, o.ObservedAt)
	if err != nil || len(since.Steps) != 4 || since.Steps[0].Source != store.SourceWebhook {
		t.Errorf("timeline since the admin's edit: %d steps (%v); want 4 from the webhook's", len(since.Steps), err)
	}

	recent, err := history.Recent(ctx, env.Table, env.Env, time.Time{}, 3)
	if err != nil || len(recent.Steps) != 3 || recent.Steps[0].Type != store.HistoryObserved || recent.Steps[1].Type != store.HistoryChange ||
		!recent.Steps[0].At.After(recent.Steps[2].At) {
		t.Errorf("recent: %+v (%v); want the last 3 steps, newest first", recent.Steps, err)
	}
	if _, err := history.Timeline(ctx, env.Table, entity.Key{Environment: env.Env, Kind: entity.Queue, Name: strings.ToUpper(q)}, time.Time{}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("timeline of a name never seen: %v, want ErrNotFound", err)
	}
}

// TestTimelineOverflow: an overflow period of a worktype is two steps, its start and its
// end (with how long it lasted), each changing the worktype's default queue.
func TestTimelineOverflow(t *testing.T) {
	env, f := newEnv(t)
	w := f.Worktypes[0]["name"].(string)
	k := entity.Key{Environment: env.Env, Kind: entity.Worktype, Name: w}
	start := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	on, err := env.Table.SwapOverflowState(ctx, store.OverflowState{Environment: env.Env, Worktype: w, Rule: "claims-vip",
		Active: true, Queue: "Claims", OverflowQueue: "Claims Overflow", Backlog: 120, ChangedAt: start, EnterChangeID: "chg-enter"})
	if err != nil {
		t.Fatal(err)
	}
	off := on
	off.Active, off.Backlog, off.ChangedAt, off.LeaveChangeID = false, 8, start.Add(25*time.Minute), "chg-leave"
	if _, err := env.Table.SwapOverflowState(ctx, off); err != nil {
		t.Fatal(err)
	}

	tl, err := history.Timeline(ctx, env.Table, k, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	startedAt := start
	want := []history.Step{
		{At: start, Kind: entity.Worktype, Name: w, Type: store.HistoryOverflow, Fields: []string{"defaultQueue"},
			Summary:  `overflow started: new tasks go to "Claims Overflow" instead of "Claims" (backlog 120)`,
			Overflow: &history.OverflowStep{Active: true, Rule: "claims-vip", Queue: "Claims", OverflowQueue: "Claims Overflow", Backlog: 120, ChangeID: "chg-enter"}},
		{At: start.Add(25 * time.Minute), Kind: entity.Worktype, Name: w, Type: store.HistoryOverflow, Fields: []string{"defaultQueue"},
			Summary:  `overflow ended after 25m0s: new tasks go to "Claims" again (backlog 8)`,
			Overflow: &history.OverflowStep{Rule: "claims-vip", Queue: "Claims", OverflowQueue: "Claims Overflow", Backlog: 8, ChangeID: "chg-leave", StartedAt: &startedAt}},
	}
	if d := cmp.Diff(want, tl.Steps); d != "" {
		t.Errorf("timeline of %s (-want +got):\n%s", k, d)
	}
}
