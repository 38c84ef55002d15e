package apply_test

import (
	"context"
	"errors"
	"os"
	"slices"
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
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/genesys"
	"github.com/routekeeper/routekeeper/shared/live"
	"github.com/routekeeper/routekeeper/shared/store"
)

func TestMain(m *testing.M) { os.Exit(awslocal.RunTests(m)) }

const (
	putQueue      = "PUT /api/v2/routing/queues/{queueId}"
	patchWorktype = "PATCH /api/v2/taskmanagement/worktypes/{worktypeId}"
)

// fixture is the generated org every test starts from, and the names in it.
func fixture() (sim.Fixture, string, string, string) {
	f := sim.Generate(sim.GenerateOptions{Queues: 4, Skills: 4, Worktypes: 2, Seed: 1})
	return f, f.Queues[0]["name"].(string), f.Worktypes[0]["name"].(string), f.Skills[0]["name"].(string)
}

func newEnv(t *testing.T, o applytest.Options) (*applytest.Env, string, string, string) {
	f, q, w, s := fixture()
	o.Fixture = &f
	return applytest.New(t, o), q, w, s
}

func applyOK(t *testing.T, env *applytest.Env, req *changes.Request) apply.Result {
	t.Helper()
	res, err := env.Engine.Apply(context.Background(), req)
	if err != nil {
		t.Fatalf("Apply(%s %s): %v", req.Operation, req.Key(), err)
	}
	return res
}

func record(t *testing.T, env *applytest.Env, id string) *store.Change {
	t.Helper()
	c, err := env.Table.GetChange(context.Background(), id)
	if err != nil {
		t.Fatalf("GetChange(%s): %v", id, err)
	}
	return c
}

// TestApplyUpdate: the normal path for a queue (PUT of the raw object, unmodelled fields
// kept) and a worktype (PATCH), with the outcome and the new last-known state recorded.
func TestApplyUpdate(t *testing.T) {
	env, qName, wName, _ := newEnv(t, applytest.Options{})
	qid := env.ID(t, entity.Queue, qName)
	// Fields routekeeper does not model: one Genesys has and one it may add tomorrow.
	if err := env.Sim.EditQueue(qid, func(q map[string]any) {
		q["callingPartyName"] = "ACME Claims"
		q["defaultMediaLanguage"] = map[string]any{"id": "lang-1"}
	}); err != nil {
		t.Fatal(err)
	}
	req := env.Plan(t, changes.OpUpdate, entity.Queue, qName, applytest.Obj(t,
		`{"name":"`+qName+`","description":"Managed by routekeeper","acwSettings":{"wrapupPrompt":"MANDATORY_TIMEOUT","timeoutMs":30000}}`))
	env.Sim.ResetCalls()
	res := applyOK(t, env, req)
	if res.Status != store.StatusApplied || res.Merged {
		t.Fatalf("got status %s (merged %v, reason %q), want APPLIED unmerged", res.Status, res.Merged, res.Reason)
	}
	if d := cmp.Diff([]string{"acwSettings.timeoutMs", "acwSettings.wrapupPrompt", "description"}, res.Written); d != "" {
		t.Errorf("written paths (-want +got):\n%s", d)
	}
	raw := env.Raw(t, entity.Queue, qid)
	if raw["description"] != "Managed by routekeeper" || raw["callingPartyName"] != "ACME Claims" {
		t.Errorf("queue after apply: description %v, callingPartyName %v; want the new description and the unmodelled field kept", raw["description"], raw["callingPartyName"])
	}
	if d := cmp.Diff(map[string]any{"id": "lang-1"}, raw["defaultMediaLanguage"]); d != "" {
		t.Errorf("unknown field defaultMediaLanguage not kept by the PUT (-want +got):\n%s", d)
	}
	calls := env.Sim.Calls()
	if calls[putQueue] != 1 || calls["GET /api/v2/routing/queues/{queueId}"] != 1 {
		t.Errorf("got calls %v, want one GET and one PUT of the queue", calls)
	}
	liveETag := env.Live(t, entity.Queue, qid).ETag
	if res.ETag != liveETag {
		t.Errorf("result ETag %s, want the live ETag after the write %s", res.ETag, liveETag)
	}
	obs, err := env.Table.GetObservation(context.Background(), entity.Key{Environment: env.Env, Kind: entity.Queue, Name: qName})
	if err != nil || obs.ETag != liveETag || obs.Source != store.SourceApply {
		t.Errorf("last-known state: ETag %s source %s (err %v); want %s from apply", obs.ETag, obs.Source, err, liveETag)
	}
	if c := record(t, env, req.ChangeID); c.Status != store.StatusApplied || !strings.Contains(string(c.Result), `"status":"APPLIED"`) {
		t.Errorf("record: status %s result %s, want APPLIED with the result", c.Status, c.Result)
	}

	wreq := env.Plan(t, changes.OpUpdate, entity.Worktype, wName, applytest.Obj(t, `{"name":"`+wName+`","defaultPriority":12500000,"description":"Claims worktype"}`))
	wres := applyOK(t, env, wreq)
	if wres.Status != store.StatusApplied {
		t.Fatalf("worktype: got %s (%s), want APPLIED", wres.Status, wres.Reason)
	}
	if got := env.Sim.Calls()[patchWorktype]; got != 1 {
		t.Errorf("got %d worktype PATCHes, want 1", got)
	}
	w := env.Raw(t, entity.Worktype, env.ID(t, entity.Worktype, wName))
	if got := w["defaultPriority"]; !document.Equal(got, 12500000) {
		t.Errorf("worktype defaultPriority %v, want 12500000", got)
	}
}

// TestConcurrentEdit: someone edits the entity between plan and apply.
func TestConcurrentEdit(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(q map[string]any)
		want  store.Status
		check func(t *testing.T, raw map[string]any, res apply.Result)
	}{
		{
			name: "different field is merged",
			edit: func(q map[string]any) { q["skillEvaluationMethod"] = "BEST" },
			want: store.StatusApplied,
			check: func(t *testing.T, raw map[string]any, res apply.Result) {
				if !res.Merged || raw["description"] != "ours" || raw["skillEvaluationMethod"] != "BEST" {
					t.Errorf("got merged %v, description %v, skillEvaluationMethod %v; want merged with both edits", res.Merged, raw["description"], raw["skillEvaluationMethod"])
				}
			},
		},
		{
			name: "same field is a conflict and nothing is written",
			edit: func(q map[string]any) { q["description"] = "theirs" },
			want: store.StatusConflict,
			check: func(t *testing.T, raw map[string]any, res apply.Result) {
				if raw["description"] != "theirs" {
					t.Errorf("live description %v, want theirs untouched", raw["description"])
				}
				if len(res.Conflicts) != 1 {
					t.Fatalf("got conflicts %+v, want one", res.Conflicts)
				}
				c := res.Conflicts[0]
				if c.Path != "description" || c.Ours != "ours" || c.Theirs != "theirs" || c.Base == nil || c.Base == "theirs" {
					t.Errorf("conflict %+v: want path description, ours %q, theirs %q and the planned base", c, "ours", "theirs")
				}
			},
		},
		{
			name: "edit to the desired value is a noop",
			edit: func(q map[string]any) { q["description"] = "ours" },
			want: store.StatusNoop,
			check: func(t *testing.T, raw map[string]any, res apply.Result) {
				if raw["description"] != "ours" {
					t.Errorf("live description %v, want ours", raw["description"])
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env, qName, _, _ := newEnv(t, applytest.Options{})
			qid := env.ID(t, entity.Queue, qName)
			req := env.Plan(t, changes.OpUpdate, entity.Queue, qName, applytest.Obj(t, `{"name":"`+qName+`","description":"ours"}`))
			if err := env.Sim.EditQueue(qid, tc.edit); err != nil {
				t.Fatal(err)
			}
			env.Sim.ResetCalls()
			res := applyOK(t, env, req)
			if res.Status != tc.want {
				t.Fatalf("got %s (%s), want %s", res.Status, res.Reason, tc.want)
			}
			wantPuts := 0
			if tc.want == store.StatusApplied {
				wantPuts = 1
			}
			if got := env.Sim.Calls()[putQueue]; got != wantPuts {
				t.Errorf("got %d PUTs, want %d", got, wantPuts)
			}
			tc.check(t, env.Raw(t, entity.Queue, qid), res)
			if c := record(t, env, req.ChangeID); c.Status != tc.want {
				t.Errorf("recorded status %s, want %s", c.Status, tc.want)
			}
		})
	}
}

// TestBaseAfterNewerObservation: a webhook records the out-of-band edit (a newer
// last-known state) between plan and apply; the planned document is still found by its
// ETag, so a disjoint edit merges instead of ending CONFLICT.
func TestBaseAfterNewerObservation(t *testing.T) {
	for _, memory := range []bool{false, true} {
		name := "table on moto"
		if memory {
			name = "memory store"
		}
		t.Run(name, func(t *testing.T) {
			env, qName, _, _ := newEnv(t, applytest.Options{Memory: memory})
			qid := env.ID(t, entity.Queue, qName)
			req := env.Plan(t, changes.OpUpdate, entity.Queue, qName, applytest.Obj(t, `{"name":"`+qName+`","description":"ours"}`))
			if err := env.Sim.EditQueue(qid, func(q map[string]any) { q["skillEvaluationMethod"] = "BEST" }); err != nil {
				t.Fatal(err)
			}
			env.Observe(t, entity.Queue, qName, store.SourceWebhook)
			k := entity.Key{Environment: env.Env, Kind: entity.Queue, Name: qName}
			if last, err := env.Store.GetObservation(context.Background(), k); err != nil || last.ETag == req.BaseEtag {
				t.Fatalf("last-known state after the webhook: ETag %s (%v), want a newer one than the planned %s", last.ETag, err, req.BaseEtag)
			}
			res := applyOK(t, env, req)
			if res.Status != store.StatusApplied || !res.Merged {
				t.Fatalf("got %s merged=%v (%s, conflicts %+v), want APPLIED merged=true", res.Status, res.Merged, res.Reason, res.Conflicts)
			}
			raw := env.Raw(t, entity.Queue, qid)
			if raw["description"] != "ours" || raw["skillEvaluationMethod"] != "BEST" {
				t.Errorf("live description %v, skillEvaluationMethod %v; want ours and BEST (both edits)", raw["description"], raw["skillEvaluationMethod"])
			}
		})
	}
}

// TestUnknownBase: without the planned-against state in the store, a changed entity is a
// conflict on every differing field, never an overwrite.
func TestUnknownBase(t *testing.T) {
	env, qName, _, _ := newEnv(t, applytest.Options{Memory: true})
	qid := env.ID(t, entity.Queue, qName)
	etag := env.Live(t, entity.Queue, qid).ETag
	req := &changes.Request{Schema: changes.SchemaV1, ChangeID: "chg-unknown-base", Environment: env.Env,
		Entity: changes.Entity{Type: entity.Queue, Name: qName, ID: qid}, Operation: changes.OpUpdate,
		Desired: applytest.Obj(t, `{"name":"`+qName+`","description":"ours"}`), BaseEtag: etag,
		Reason: "r", RequestedBy: "t", CreatedAt: time.Now().UTC()}
	if err := env.Sim.EditQueue(qid, func(q map[string]any) { q["enableTranscription"] = q["enableTranscription"] != true }); err != nil {
		t.Fatal(err)
	}
	res := applyOK(t, env, req)
	if res.Status != store.StatusConflict || len(res.Conflicts) != 1 || res.Conflicts[0].Path != "description" {
		t.Fatalf("got %s conflicts %+v, want CONFLICT on description", res.Status, res.Conflicts)
	}
}

// TestDuplicateDelivery: the same message twice writes once; the replay returns the
// stored result without calling Genesys.
func TestDuplicateDelivery(t *testing.T) {
	env, qName, _, _ := newEnv(t, applytest.Options{})
	req := env.Plan(t, changes.OpUpdate, entity.Queue, qName, applytest.Obj(t, `{"name":"`+qName+`","description":"once"}`))
	env.Sim.ResetCalls()
	first := applyOK(t, env, req)
	calls := env.Sim.TotalCalls()
	second := applyOK(t, env, req)
	if first.Status != store.StatusApplied || second.Status != store.StatusApplied || !second.Replayed {
		t.Fatalf("got %s then %s (replayed %v), want APPLIED then the replayed APPLIED", first.Status, second.Status, second.Replayed)
	}
	if got := env.Sim.Calls()[putQueue]; got != 1 {
		t.Errorf("got %d PUTs, want 1", got)
	}
	if got := env.Sim.TotalCalls(); got != calls {
		t.Errorf("replay made %d Genesys calls, want 0", got-calls)
	}
	if first.ETag != second.ETag || second.ETag == "" {
		t.Errorf("replayed ETag %q, want the stored %q", second.ETag, first.ETag)
	}

	// The same id with another payload is rejected and leaves the record alone.
	other := *req
	other.Desired = applytest.Obj(t, `{"name":"`+qName+`","description":"twice"}`)
	res := applyOK(t, env, &other)
	if res.Status != store.StatusRejected || !res.NotRecorded {
		t.Errorf("payload mismatch: got %s (not recorded %v), want REJECTED, not recorded", res.Status, res.NotRecorded)
	}
	if c := record(t, env, req.ChangeID); c.Status != store.StatusApplied {
		t.Errorf("record after a mismatching replay: %s, want APPLIED", c.Status)
	}
}

// TestRateLimited: a 429 whose Retry-After fits before the deadline is waited out; one
// that does not returns at once as a retry with the wait, and the attempt is recorded.
func TestRateLimited(t *testing.T) {
	t.Run("retry-after inside the remaining time", func(t *testing.T) {
		env, qName, _, _ := newEnv(t, applytest.Options{FakeClock: true})
		req := env.Plan(t, changes.OpUpdate, entity.Queue, qName, applytest.Obj(t, `{"name":"`+qName+`","description":"after 429"}`))
		env.Sim.SetFaults(sim.Faults{Force429: 1, RetryAfterSeconds: 2})
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		res, err := env.Engine.Apply(ctx, req)
		if err != nil || res.Status != store.StatusApplied {
			t.Fatalf("got %s, %v; want APPLIED", res.Status, err)
		}
		if d := cmp.Diff([]time.Duration{2 * time.Second}, env.Sleeps()); d != "" {
			t.Errorf("client waits (-want +got):\n%s", d)
		}
	})
	t.Run("retry-after beyond the remaining time", func(t *testing.T) {
		// The fake clock moves when the client and the engine wait, so the redelivery
		// finds the pause over.
		env, qName, _, _ := newEnv(t, applytest.Options{FakeClock: true})
		req := env.Plan(t, changes.OpUpdate, entity.Queue, qName, applytest.Obj(t, `{"name":"`+qName+`","description":"after 429"}`))
		env.Sim.SetFaults(sim.Faults{Force429: 1, RetryAfterSeconds: 120})
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := env.Engine.Apply(ctx, req)
		var re *apply.RetryError
		// The 429's own answer says 120 s; a concurrent names list that meets the pause it
		// imposed a moment later says what is left of it.
		if !errors.As(err, &re) || re.RetryAfter > 120*time.Second || re.RetryAfter < 119*time.Second || !errors.Is(err, genesys.ErrRateLimited) {
			t.Fatalf("got %v, want a RetryError with RetryAfter about 2m0s wrapping ErrRateLimited", err)
		}
		if len(env.Sleeps()) != 0 {
			t.Errorf("client waited %v, want no wait past the deadline", env.Sleeps())
		}
		c := record(t, env, req.ChangeID)
		if c.Status != store.StatusFailed || c.Attempts != 1 || !(strings.Contains(c.LastError, "429") || strings.Contains(c.LastError, "request budget")) {
			t.Errorf("record: %s, %d attempts, last error %q; want FAILED, 1 attempt, the 429 (or the pause it imposed)", c.Status, c.Attempts, c.LastError)
		}
		// The redelivery (fault gone) applies it.
		res, err := env.Engine.Apply(context.Background(), req)
		if err != nil || res.Status != store.StatusApplied {
			t.Fatalf("redelivery: got %s, %v; want APPLIED", res.Status, err)
		}
		if c := record(t, env, req.ChangeID); c.Attempts != 1 || c.Status != store.StatusApplied {
			t.Errorf("record after redelivery: %s, %d attempts; want APPLIED keeping 1 attempt", c.Status, c.Attempts)
		}
	})
}

// TestServerErrors: a 5xx storm exhausts the client's retries and becomes a retry of the
// request, with each failed attempt counted on the record.
func TestServerErrors(t *testing.T) {
	env, qName, _, _ := newEnv(t, applytest.Options{})
	req := env.Plan(t, changes.OpUpdate, entity.Queue, qName, applytest.Obj(t, `{"name":"`+qName+`","description":"storm"}`))
	env.Sim.SetFaults(sim.Faults{ServerErrorRate: 1})
	for i := 1; i <= 2; i++ {
		_, err := env.Engine.Apply(context.Background(), req)
		if !errors.Is(err, apply.ErrRetry) {
			t.Fatalf("attempt %d: got %v, want a retry", i, err)
		}
		if c := record(t, env, req.ChangeID); c.Attempts != i || !strings.Contains(c.LastError, "503") {
			t.Errorf("after attempt %d: %d attempts, last error %q; want %d and the 503", i, c.Attempts, c.LastError, i)
		}
	}
	env.Sim.SetFaults(sim.Faults{})
	if res := applyOK(t, env, req); res.Status != store.StatusApplied {
		t.Errorf("after the storm: got %s, want APPLIED", res.Status)
	}
}

// TestCreateAndDelete covers create (new, existing equal, existing different) and delete
// (guarded by baseEtag).
func TestCreateAndDelete(t *testing.T) {
	env, qName, _, sName := newEnv(t, applytest.Options{})
	ctx := context.Background()

	skill := env.Plan(t, changes.OpCreate, entity.Skill, "Routekeeper Skill", applytest.Obj(t, `{"name":"Routekeeper Skill"}`))
	if res := applyOK(t, env, skill); res.Status != store.StatusApplied || res.EntityID == "" {
		t.Fatalf("create skill: got %s %q (%s), want APPLIED with an id", res.Status, res.EntityID, res.Reason)
	}
	queue := env.Plan(t, changes.OpCreate, entity.Queue, "Routekeeper Queue", applytest.Obj(t,
		`{"name":"Routekeeper Queue","description":"new","division":"Home","skillEvaluationMethod":"BEST"}`))
	res := applyOK(t, env, queue)
	if res.Status != store.StatusApplied {
		t.Fatalf("create queue: got %s (%s), want APPLIED", res.Status, res.Reason)
	}
	if q := env.Raw(t, entity.Queue, res.EntityID); q["skillEvaluationMethod"] != "BEST" {
		t.Errorf("created queue skillEvaluationMethod %v, want BEST", q["skillEvaluationMethod"])
	}
	// A second create of the same entity under a new id: it exists with the desired fields.
	again := env.Plan(t, changes.OpCreate, entity.Queue, "Routekeeper Queue", queue.Desired)
	if res := applyOK(t, env, again); res.Status != store.StatusNoop {
		t.Errorf("create of an existing equal queue: got %s (%s), want NOOP", res.Status, res.Reason)
	}
	// An existing queue with other values is not adopted.
	clash := env.Plan(t, changes.OpCreate, entity.Queue, qName, applytest.Obj(t, `{"name":"`+qName+`","description":"not theirs"}`))
	res = applyOK(t, env, clash)
	if res.Status != store.StatusConflict || len(res.Conflicts) != 1 || res.Conflicts[0].Path != "description" {
		t.Errorf("create over an existing queue: got %s %+v, want CONFLICT on description", res.Status, res.Conflicts)
	}

	// Delete guarded by baseEtag: the skill changes after the plan -> conflict, kept.
	del := env.Plan(t, changes.OpDelete, entity.Skill, sName, nil)
	sid := env.ID(t, entity.Skill, sName)
	if err := env.Sim.EditSkill(sid, func(s map[string]any) { s["name"] = sName + " (renamed)" }); err == nil {
		if res := applyOK(t, env, del); res.Status != store.StatusNoop && res.Status != store.StatusConflict {
			t.Errorf("delete of a renamed skill: got %s, want NOOP or CONFLICT", res.Status)
		}
		if _, ok := env.Sim.Skill(sid); !ok {
			t.Errorf("renamed skill was deleted")
		}
	}
	del2 := env.Plan(t, changes.OpDelete, entity.Skill, "Routekeeper Skill", nil)
	if res := applyOK(t, env, del2); res.Status != store.StatusApplied {
		t.Errorf("delete skill: got %s (%s), want APPLIED", res.Status, res.Reason)
	}
	if s, _ := env.Sim.Skill(skill.Entity.ID); s != nil && s["state"] != "deleted" {
		t.Errorf("skill after delete: %v, want deleted", s)
	}
	del3 := *del2
	del3.ChangeID = del2.ChangeID + "-again"
	if res := applyOK(t, env, &del3); res.Status != store.StatusNoop {
		t.Errorf("delete of a deleted skill: got %s, want NOOP", res.Status)
	}
	_ = ctx
}

// TestEnvironmentGuard: a request for another environment is rejected and recorded under
// the engine's environment (this stack's status lists it), with the request's environment
// kept in the result; a redelivery replays the record.
func TestEnvironmentGuard(t *testing.T) {
	for _, memory := range []bool{true, false} {
		t.Run(map[bool]string{true: "memory", false: "dynamodb"}[memory], func(t *testing.T) {
			env, qName, _, _ := newEnv(t, applytest.Options{Memory: memory, Engine: apply.Options{Environment: "prod"}})
			req := env.Plan(t, changes.OpUpdate, entity.Queue, qName, applytest.Obj(t, `{"name":"`+qName+`","description":"x"}`))
			env.Sim.ResetCalls()
			res := applyOK(t, env, req)
			if res.Status != store.StatusRejected || !strings.Contains(res.Reason, `"prod"`) || !strings.Contains(res.Reason, `"test"`) || env.Sim.TotalCalls() != 0 {
				t.Errorf("got %s %q after %d calls, want REJECTED naming prod and test without calling Genesys", res.Status, res.Reason, env.Sim.TotalCalls())
			}
			if want := "test/queue/" + qName; res.Entity != want {
				t.Errorf("result entity: got %q, want the request's %q", res.Entity, want)
			}
			c, err := env.Store.(interface {
				GetChange(context.Context, string) (*store.Change, error)
			}).GetChange(context.Background(), req.ChangeID)
			if err != nil {
				t.Fatalf("GetChange(%s): %v", req.ChangeID, err)
			}
			if want := (entity.Key{Environment: "prod", Kind: entity.Queue, Name: qName}); c.Info.Entity != want || c.Status != store.StatusRejected {
				t.Errorf("record: got %s under %+v, want REJECTED under %+v", c.Status, c.Info.Entity, want)
			}
			if !memory {
				for _, tc := range []struct {
					env  string
					want bool
				}{{"prod", true}, {"test", false}} {
					list, err := env.Table.ListChanges(context.Background(), tc.env, 10)
					if err != nil {
						t.Fatal(err)
					}
					found := slices.ContainsFunc(list, func(c *store.Change) bool { return c.ID == req.ChangeID })
					if found != tc.want {
						t.Errorf("ListChanges(%s) lists the rejected request: got %v, want %v", tc.env, found, tc.want)
					}
				}
			}
			again := applyOK(t, env, req)
			if !again.Replayed || again.Status != store.StatusRejected || again.Reason != res.Reason {
				t.Errorf("redelivery: got %s replayed=%v %q, want the stored REJECTED result", again.Status, again.Replayed, again.Reason)
			}
		})
	}
}

// TestLanguagesAndUnresolvedReferences: a worktype's defaultLanguage is applied by name
// (the names cache lists routing languages), and a reference that still does not resolve
// after a names refresh is REJECTED when routekeeper never creates that kind of object,
// retried when it is a skill or queue another change may create.
func TestLanguagesAndUnresolvedReferences(t *testing.T) {
	f, _, wName, _ := fixture()
	env := applytest.New(t, applytest.Options{Fixture: &f, Memory: true})
	mem := env.Store.(*store.Memory)
	wid := env.ID(t, entity.Worktype, wName)
	const listLanguages = "GET /api/v2/routing/languages"

	// A language the org has: APPLIED, stored as its id, read back as its name.
	english := env.ID(t, entity.Language, "English")
	if err := env.Sim.EditWorktype(wid, func(w map[string]any) { delete(w, "defaultLanguage") }); err != nil {
		t.Fatal(err)
	}
	res := applyOK(t, env, env.Plan(t, changes.OpUpdate, entity.Worktype, wName, applytest.Obj(t, `{"name":"`+wName+`","defaultLanguage":"English"}`)))
	if res.Status != store.StatusApplied || !slices.Equal(res.Written, []string{"defaultLanguage"}) {
		t.Fatalf("set defaultLanguage English: got %s written %v (%s), want APPLIED writing defaultLanguage", res.Status, res.Written, res.Reason)
	}
	if got := env.Raw(t, entity.Worktype, wid)["defaultLanguage"]; !cmp.Equal(got, map[string]any{"id": english, "selfUri": "/api/v2/routing/languages/" + english}) {
		t.Errorf("worktype defaultLanguage in Genesys: got %v, want a reference to English %s", got, english)
	}
	wl := env.Live(t, entity.Worktype, wid)
	canon, etag := wl.Canonical, wl.ETag
	if canon["defaultLanguage"] != "English" || res.ETag != etag {
		t.Errorf("after apply: live defaultLanguage %v ETag %s, want English and the result's ETag %s", canon["defaultLanguage"], etag, res.ETag)
	}
	again := applyOK(t, env, env.Plan(t, changes.OpUpdate, entity.Worktype, wName, applytest.Obj(t, `{"name":"`+wName+`","defaultLanguage":"English"}`)))
	if again.Status != store.StatusNoop {
		t.Errorf("the same language again: got %s (%s), want NOOP", again.Status, again.Reason)
	}

	tests := []struct {
		name, desired string
		wantRetry     bool
		wantReason    []string
	}{
		{name: "unknown language", desired: `"defaultLanguage":"Klingon"`,
			wantReason: []string{`language "Klingon" does not exist`, "never creates a language", "retrying cannot help"}},
		{name: "unknown workbin", desired: `"defaultWorkbin":"Nowhere Bin"`,
			wantReason: []string{`workbin "Nowhere Bin" does not exist`, "never creates a workbin"}},
		{name: "queue not created yet", desired: `"defaultQueue":"Queue Not Yet"`, wantRetry: true},
		{name: "skill not created yet", desired: `"defaultSkills":["Skill Not Yet"]`, wantRetry: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := env.Plan(t, changes.OpUpdate, entity.Worktype, wName, applytest.Obj(t, `{"name":"`+wName+`",`+tc.desired+`}`))
			env.Sim.ResetCalls()
			res, err := env.Engine.Apply(context.Background(), req)
			calls := env.Sim.Calls()
			if calls[patchWorktype] != 0 {
				t.Errorf("got %d worktype PATCHes, want none", calls[patchWorktype])
			}
			if calls[listLanguages] != 1 {
				t.Errorf("got %d language lists, want 1 (one names refresh)", calls[listLanguages])
			}
			c, gerr := mem.GetChange(context.Background(), req.ChangeID)
			if gerr != nil {
				t.Fatal(gerr)
			}
			if tc.wantRetry {
				if !errors.Is(err, apply.ErrRetry) || c.Attempts != 1 || !errors.Is(err, live.ErrUnresolved) {
					t.Errorf("got %v (record %s, %d attempts), want a retry of an unresolved reference recorded once", err, c.Status, c.Attempts)
				}
				return
			}
			if err != nil || res.Status != store.StatusRejected || c.Status != store.StatusRejected {
				t.Fatalf("got %v, status %s, record %s; want REJECTED and recorded", err, res.Status, c.Status)
			}
			for _, want := range tc.wantReason {
				if !strings.Contains(res.Reason, want) {
					t.Errorf("reason %q does not say %q", res.Reason, want)
				}
			}
		})
	}

	// A language added in Genesys after the names were cached resolves through the refresh.
	welsh := map[string]any{"id": "3b0c7f52-8a1e-4c1b-9d3f-5e2a6b7c8d90", "name": "Welsh"}
	f.Languages = append(f.Languages, welsh)
	current, _ := env.Sim.Worktype(wid)
	for i, w := range f.Worktypes {
		if w["id"] == wid {
			f.Worktypes[i] = current
		}
	}
	if err := env.Sim.Load(f); err != nil {
		t.Fatal(err)
	}
	res = applyOK(t, env, env.Plan(t, changes.OpUpdate, entity.Worktype, wName, applytest.Obj(t, `{"name":"`+wName+`","defaultLanguage":"Welsh"}`)))
	if res.Status != store.StatusApplied {
		t.Errorf("a language created after the names were cached: got %s (%s), want APPLIED", res.Status, res.Reason)
	}
}
