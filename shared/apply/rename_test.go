package apply_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/routekeeper/routekeeper/shared/apply/applytest"
	"github.com/routekeeper/routekeeper/shared/changes"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/store"
)

// TestRenameRekeysObservation: after apply renames a queue or worktype (a case-only
// rename, as plan plans it), the last-known state and the snapshot of its ETag are stored
// under the new name, so the next request, planned under the new name, finds its base:
// a concurrent edit of another field merges instead of being a conflict for want of a base.
func TestRenameRekeysObservation(t *testing.T) {
	ctx := context.Background()
	for _, memory := range []bool{true, false} {
		for _, kind := range []entity.Kind{entity.Queue, entity.Worktype} {
			t.Run(string(kind)+map[bool]string{true: "/memory", false: "/dynamodb"}[memory], func(t *testing.T) {
				env, qName, wName, _ := newEnv(t, applytest.Options{Memory: memory})
				oldName := map[entity.Kind]string{entity.Queue: qName, entity.Worktype: wName}[kind]
				newName := strings.ToUpper(oldName)
				if newName == oldName {
					t.Fatalf("fixture name %q has no lower case to rename", oldName)
				}
				// Built by hand: changes.Request.Validate (Decode) still requires desired.name
				// to equal entity.name, while plan plans a case-only rename this way.
				id := env.ID(t, kind, oldName)
				etag := env.Live(t, kind, id).ETag
				res := applyOK(t, env, request(t, env, kind, oldName, id, etag, `{"name":"`+newName+`"}`))
				if res.Status != store.StatusApplied {
					t.Fatalf("rename %q -> %q: got %s (%s), want APPLIED", oldName, newName, res.Status, res.Reason)
				}
				k := entity.Key{Environment: env.Env, Kind: entity.Kind(kind), Name: newName}
				obs, err := env.Store.GetObservation(ctx, k)
				if err != nil || obs.ETag != res.ETag || obs.GenesysID != res.EntityID {
					t.Fatalf("observation under the new name %q: got %+v, %v; want ETag %s id %s", newName, obs, err, res.ETag, res.EntityID)
				}
				if _, err := env.Store.GetSnapshot(ctx, k, res.ETag); err != nil {
					t.Errorf("snapshot of %s under the new name %q: %v, want it stored", res.ETag, newName, err)
				}

				// The next change, planned against the renamed entity, meets a concurrent
				// edit of another field: with its base found it merges.
				req := request(t, env, kind, newName, res.EntityID, res.ETag, `{"name":"`+newName+`","description":"ours"}`)
				if err := req.Validate(); err != nil {
					t.Fatalf("request after the rename: %v", err)
				}
				switch kind {
				case entity.Queue:
					err = env.Sim.EditQueue(res.EntityID, func(q map[string]any) { q["enableTranscription"] = true })
				default:
					err = env.Sim.EditWorktype(res.EntityID, func(w map[string]any) { w["serviceLevelTarget"] = 77 })
				}
				if err != nil {
					t.Fatal(err)
				}
				got := applyOK(t, env, req)
				if got.Status != store.StatusApplied || !got.Merged {
					t.Errorf("change after the rename with a concurrent edit: got %s merged=%v conflicts %+v (%s), want APPLIED merged", got.Status, got.Merged, got.Conflicts, got.Reason)
				}
			})
		}
	}
}

// request is an update of the entity kind/name (id) planned against etag, without
// recording an observation (env.Plan records one, which would hide a missing base).
func request(t *testing.T, env *applytest.Env, kind entity.Kind, name, id, etag, desired string) *changes.Request {
	t.Helper()
	cid, err := changes.NewChangeID()
	if err != nil {
		t.Fatal(err)
	}
	return &changes.Request{
		Schema: changes.SchemaV1, Environment: env.Env, ChangeID: cid,
		Entity:    changes.Entity{Type: kind, Name: name, ID: id},
		Operation: changes.OpUpdate, BaseEtag: etag, Desired: applytest.Obj(t, desired),
		Reason: "test", RequestedBy: "test", CreatedAt: time.Now().UTC().Truncate(time.Second),
	}
}
