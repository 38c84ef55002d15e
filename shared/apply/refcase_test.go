package apply_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/routekeeper/routekeeper/shared/apply/applytest"
	"github.com/routekeeper/routekeeper/shared/changes"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/store"
)

// TestReferenceCase: a request whose references differ from the org's names only in
// letter case (`english` for the routing language English, a skill in lower case) resolves
// them to the org's objects: APPLIED writing their ids, and the same request again is a
// NOOP, not a difference forever.
func TestReferenceCase(t *testing.T) {
	f, _, wName, sName := fixture()
	env := applytest.New(t, applytest.Options{Fixture: &f, Memory: true})
	wid := env.ID(t, entity.Worktype, wName)
	english := env.ID(t, entity.Language, "English")
	skill := env.ID(t, entity.Skill, sName)
	if err := env.Sim.EditWorktype(wid, func(w map[string]any) {
		delete(w, "defaultLanguage")
		delete(w, "defaultSkills")
	}); err != nil {
		t.Fatal(err)
	}
	desired := `{"name":"` + wName + `","defaultLanguage":"english","defaultSkills":["` + strings.ToLower(sName) + `"]}`
	res := applyOK(t, env, env.Plan(t, changes.OpUpdate, entity.Worktype, wName, applytest.Obj(t, desired)))
	if res.Status != store.StatusApplied || !slices.Equal(res.Written, []string{"defaultLanguage", "defaultSkills"}) {
		t.Fatalf("defaultLanguage english, defaultSkills %q: got %s written %v (%s), want APPLIED writing both", strings.ToLower(sName), res.Status, res.Written, res.Reason)
	}
	raw := env.Raw(t, entity.Worktype, wid)
	if got := raw["defaultLanguage"].(map[string]any)["id"]; got != english {
		t.Errorf("defaultLanguage id in Genesys: got %v, want English %s", got, english)
	}
	if got := raw["defaultSkills"].([]any); len(got) != 1 || got[0].(map[string]any)["id"] != skill {
		t.Errorf("defaultSkills in Genesys: got %v, want [%s] (%s)", got, skill, sName)
	}
	again := applyOK(t, env, env.Plan(t, changes.OpUpdate, entity.Worktype, wName, applytest.Obj(t, desired)))
	if again.Status != store.StatusNoop {
		t.Errorf("the same references again: got %s written %v (%s), want NOOP", again.Status, again.Written, again.Reason)
	}
}
