package apply_test

import (
	"context"
	"testing"

	"github.com/routekeeper/routekeeper/shared/apply/applytest"
	"github.com/routekeeper/routekeeper/shared/changes"
	"github.com/routekeeper/routekeeper/shared/document"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/store"
)

// TestRecreatedEntity: an entity deleted and created again with the same name after the
// engine cached its names is found by name under its new id. A stale cache entry
// pointing at the gone id must not make the engine report it deleted (update) or absent
// (delete), nor create a second one.
func TestRecreatedEntity(t *testing.T) {
	ctx := context.Background()
	for _, op := range []changes.Operation{changes.OpUpdate, changes.OpDelete, changes.OpCreate} {
		t.Run(string(op), func(t *testing.T) {
			env, qName, wName, _ := newEnv(t, applytest.Options{Memory: true})
			desired := applytest.Obj(t, `{"name":"`+qName+`","description":"after recreate"}`)
			if op == changes.OpDelete {
				desired = nil
			}
			req := env.Plan(t, op, entity.Queue, qName, desired)
			if op == changes.OpCreate {
				req.Desired = applytest.Obj(t, `{"name":"`+qName+`"}`)
			}
			// Another request loads the engine's names cache.
			applyOK(t, env, env.Plan(t, changes.OpUpdate, entity.Worktype, wName, applytest.Obj(t, `{"name":"`+wName+`","description":"warm"}`)))

			oldID := env.ID(t, entity.Queue, qName)
			raw := env.Raw(t, entity.Queue, oldID)
			if err := env.Client.DeleteQueue(ctx, oldID, true); err != nil {
				t.Fatal(err)
			}
			body := map[string]any{"name": qName}
			for _, k := range []string{"description", "division", "acwSettings", "skillEvaluationMethod", "mediaSettings"} {
				if v, ok := raw[k]; ok {
					body[k] = v
				}
			}
			if d, ok := body["division"].(map[string]any); ok {
				body["division"] = map[string]any{"id": d["id"]}
			}
			q, err := env.Client.CreateQueue(ctx, body)
			if err != nil {
				t.Fatal(err)
			}

			res := applyOK(t, env, req)
			if res.EntityID != q.ID {
				t.Errorf("%s of a recreated queue: got status %s entity id %q (%s), want the new id %s", op, res.Status, res.EntityID, res.Reason, q.ID)
			}
			for _, c := range res.Conflicts {
				if c.Reason == document.ConflictTheirsDeleted {
					t.Errorf("%s of a recreated queue: got conflict %+v, want none saying it was deleted", op, c)
				}
			}
			if op == changes.OpDelete && res.Status == store.StatusNoop {
				t.Errorf("delete of a recreated queue: got NOOP (%s), want APPLIED or CONFLICT", res.Reason)
			}
			qs, err := env.Client.ListQueues(ctx)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, q := range qs {
				if q.Name == qName {
					n++
				}
			}
			if want := 1; op == changes.OpDelete && res.Status == store.StatusApplied {
				if n != 0 {
					t.Errorf("after delete: got %d queues named %q, want 0", n, qName)
				}
			} else if n != want {
				t.Errorf("after %s: got %d queues named %q, want %d", op, n, qName, want)
			}
		})
	}
}

// TestSkillRecreatedAfterDelete: after the engine deletes a skill (Genesys soft-deletes
// it) and creates one of the same name, a later reference by that name resolves to the
// new skill, not to the deleted one still in the names cache.
func TestSkillRecreatedAfterDelete(t *testing.T) {
	env, _, wName, sName := newEnv(t, applytest.Options{Memory: true})
	oldID := env.ID(t, entity.Skill, sName)
	if res := applyOK(t, env, env.Plan(t, changes.OpDelete, entity.Skill, sName, nil)); res.Status != store.StatusApplied {
		t.Fatalf("delete skill: got %s (%s), want APPLIED", res.Status, res.Reason)
	}
	created := applyOK(t, env, env.Plan(t, changes.OpCreate, entity.Skill, sName, applytest.Obj(t, `{"name":"`+sName+`"}`)))
	if created.Status != store.StatusApplied || created.EntityID == oldID {
		t.Fatalf("create skill again: got %s id %s (%s), want APPLIED with a new id (old %s)", created.Status, created.EntityID, created.Reason, oldID)
	}
	res := applyOK(t, env, env.Plan(t, changes.OpUpdate, entity.Worktype, wName, applytest.Obj(t, `{"name":"`+wName+`","defaultSkills":["`+sName+`"]}`)))
	if res.Status != store.StatusApplied {
		t.Fatalf("worktype update: got %s (%s), want APPLIED", res.Status, res.Reason)
	}
	w := env.Raw(t, entity.Worktype, env.ID(t, entity.Worktype, wName))
	skills, _ := w["defaultSkills"].([]any)
	if len(skills) != 1 || skills[0].(map[string]any)["id"] != created.EntityID {
		t.Errorf("worktype defaultSkills: got %v, want only the new skill %s (not the deleted %s)", skills, created.EntityID, oldID)
	}
}
